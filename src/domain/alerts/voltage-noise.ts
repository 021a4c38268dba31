import { Measurement, type Signal } from './lifecycle.js';
import { CHARGE_EPISODE_GAP_MS, chargeSample, type ChargeEpisode } from './charge-episode.js';
import { median } from './stats.js';

/**
 * Voltage noise under charge (soft-short signature 3: "voltage … noisy under constant current"): the
 * noise of the voltage during a charge episode, from second differences (insensitive to the steady rise
 * of a CC charge: σ = mean|Δ²V| / (√6·√(2/π))), against the cell's own baseline (median over the first
 * `baselineEpisodes` charge episodes after the reference cycle). Value = ratio to the baseline; warning
 * at 3×, critical at 6×, evaluated every `everySamples` voltage samples of an episode (at least 60: an
 * estimate from 60 samples is within ±20 % for Gaussian noise, so a healthy cell stays well under 2×).
 * The first `settle_ms` (15 min) of an episode are left out: the voltage's curvature right after the
 * current starts (IR step, diffusion with a time constant of minutes) is not noise.
 */
export interface VoltageNoiseSettings {
  readonly settle_ms: number;
  readonly warnRatio: number;
  readonly critRatio: number;
  readonly baselineEpisodes: number;
  readonly everySamples: number;
}

export const VOLTAGE_NOISE_DEFAULTS: VoltageNoiseSettings = { settle_ms: 900_000, warnRatio: 3, critRatio: 6, baselineEpisodes: 5, everySamples: 60 };
/** Floor of the baseline noise, V (a perfectly quiet simulated or quantized signal must not divide by ~0). */
export const VNOISE_FLOOR_V = 1e-4;
const SECOND_DIFF_TO_SIGMA = 1 / (Math.sqrt(6) * Math.sqrt(2 / Math.PI));

export interface VoltageNoiseState extends ChargeEpisode {
  v1: number;
  v2: number;
  t1: number;
  sumAbs: number;
  n: number;
  learning: boolean;
  baseline: number[];
}

export function newVoltageNoiseState(): VoltageNoiseState {
  return { episodeStart: -Infinity, lastCharging: -Infinity, v1: NaN, v2: NaN, t1: -Infinity, sumAbs: 0, n: 0, learning: false, baseline: [] };
}

function closeEpisode(s: VoltageNoiseState, cfg: VoltageNoiseSettings): void {
  if (s.learning && s.n >= cfg.everySamples && s.baseline.length < cfg.baselineEpisodes) s.baseline.push((s.sumAbs / s.n) * SECOND_DIFF_TO_SIGMA);
  s.v1 = NaN;
  s.v2 = NaN;
  s.sumAbs = 0;
  s.n = 0;
}

/** Feeds one voltage sample; `learnable` says whether the cell is past its reference cycle. */
export function feedVoltageNoise(
  s: VoltageNoiseState,
  t: number,
  v: number,
  charging: boolean,
  learnable: boolean,
  cfg: VoltageNoiseSettings,
): Signal | undefined {
  if (!charging) return undefined;
  if (chargeSample(s, t)) {
    closeEpisode(s, cfg);
    s.learning = learnable && s.baseline.length < cfg.baselineEpisodes;
  }
  if (t - s.episodeStart < cfg.settle_ms) return undefined;
  // Samples further apart than the episode gap are not differenced.
  if (t - s.t1 > CHARGE_EPISODE_GAP_MS) {
    s.v1 = NaN;
    s.v2 = NaN;
  }
  s.t1 = t;
  if (!Number.isNaN(s.v1) && !Number.isNaN(s.v2)) {
    s.sumAbs += Math.abs(v - 2 * s.v1 + s.v2);
    s.n++;
  }
  s.v2 = s.v1;
  s.v1 = v;
  if (s.learning || s.baseline.length < cfg.baselineEpisodes || s.n === 0 || s.n % cfg.everySamples !== 0) return undefined;
  const sigma = (s.sumAbs / s.n) * SECOND_DIFF_TO_SIGMA;
  const base = Math.max(VNOISE_FLOOR_V, median(s.baseline));
  const ratio = sigma / base;
  return new Measurement(
    'voltage_noise',
    t,
    ratio,
    cfg.warnRatio,
    cfg.critRatio,
    '× baseline',
    () => `voltage noise under charge ${(sigma * 1000).toFixed(2)} mV against the cell's baseline of ${(base * 1000).toFixed(2)} mV`,
    () => ({ noise_mV: sigma * 1000, baseline_mV: base * 1000 }),
  );
}
