/**
 * Pressure drop during plating (penetration signature 1): while the cell charges, the stack pressure
 * only rises; a drop of the windowed average below its running maximum that exceeds the sensor's noise
 * is Li finding a way into the electrolyte. Defaults and why: see detectors.ts.
 */
import { chargeSample, type ChargeEpisode } from './charge-episode.js';
import type { Signal } from './lifecycle.js';

export interface PressureDropSettings {
  readonly window_ms: number;
  readonly settle_ms: number;
  readonly minCounts: number;
  readonly noiseSigmas: number;
  readonly critFactor: number;
  /** One load-cell count on this cell's pressing area, MPa. */
  readonly count_MPa: number;
}

/** The defaults (why: detectors.ts); `count_MPa` comes from the cell's pressing area. */
export const PRESSURE_DROP_DEFAULTS: Omit<PressureDropSettings, 'count_MPa'> = {
  window_ms: 10_000,
  settle_ms: 60_000,
  minCounts: 4,
  noiseSigmas: 8,
  critFactor: 3,
};

/** One plating episode is one charge episode (the running maximum restarts with the next). */
export interface PressureDropState extends ChargeEpisode {
  winStart: number;
  winSum: number;
  winN: number;
  maxAvg: number;
  lastP: number;
  /** Running mean of |Δp| between consecutive samples (forgets slowly after 100,000 samples), MPa. */
  absDiffMean: number;
  absDiffN: number;
}

export function newPressureDropState(): PressureDropState {
  return { episodeStart: NaN, lastCharging: -Infinity, winStart: NaN, winSum: 0, winN: 0, maxAvg: -Infinity, lastP: NaN, absDiffMean: 0, absDiffN: 0 };
}

/** σ of the raw pressure from successive differences (E|Δ| = 2σ/√π for Gaussian noise), MPa. */
export function pressureNoise_MPa(s: PressureDropState): number {
  return (s.absDiffMean * Math.sqrt(Math.PI)) / 2;
}

/** Feeds one pressure sample; `charging` says whether the current was above the deadband then. */
export function feedPressureDrop(s: PressureDropState, t: number, p: number, charging: boolean, cfg: PressureDropSettings): Signal | undefined {
  if (!Number.isNaN(s.lastP)) {
    // Noise estimate over a long horizon (an average of |Δp| that forgets slowly), from every sample.
    const d = Math.abs(p - s.lastP);
    if (s.absDiffN < 100_000) s.absDiffN++;
    s.absDiffMean += (d - s.absDiffMean) / s.absDiffN;
  }
  s.lastP = p;
  if (!charging) return undefined;
  if (chargeSample(s, t)) {
    s.maxAvg = -Infinity;
    s.winStart = t;
    s.winSum = 0;
    s.winN = 0;
  }
  if (Number.isNaN(s.winStart)) s.winStart = t;
  s.winSum += p;
  s.winN++;
  if (t - s.winStart < cfg.window_ms) return undefined;
  const avg = s.winSum / s.winN;
  const n = s.winN;
  s.winStart = t;
  s.winSum = 0;
  s.winN = 0;
  if (t - s.episodeStart < cfg.settle_ms) return undefined;
  if (avg > s.maxAvg) s.maxAvg = avg;
  const drop_kPa = (s.maxAvg - avg) * 1000;
  const noise = pressureNoise_MPa(s);
  const sigmaAvg_kPa = (noise * 1000) / Math.sqrt(n);
  const warn = Math.max(cfg.minCounts * cfg.count_MPa * 1000, cfg.noiseSigmas * sigmaAvg_kPa);
  return {
    kind: 'pressure_drop',
    t,
    value: drop_kPa,
    warn,
    crit: warn * cfg.critFactor,
    unit: 'kPa',
    detail: () => `pressure ${drop_kPa.toFixed(1)} kPa below its running maximum during plating (noise σ ${(noise * 1000).toFixed(1)} kPa per sample)`,
    extra: { drop_kPa, p_MPa: avg, p_max_MPa: s.maxAvg, noise_kPa: noise * 1000 },
  };
}
