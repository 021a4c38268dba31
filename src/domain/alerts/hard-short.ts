/**
 * Hard short: the voltage falling between consecutive samples during charge while the charge current holds.
 * A fall that comes with the current falling (a step that ends, a cycler that lowers its current) is the
 * cell's ohmic drop, not a short: a real 18650 export (TRI's Arbin file of the corpus) drops 126 mV in 0.2 s
 * as its 6.6 A charge ends, and its rest reads 0.16 mA, above an absolute deadband. Defaults and why: see
 * detectors.ts.
 */
import type { Signal } from './lifecycle.js';

export interface HardShortSettings {
  readonly warn_mV: number;
  readonly crit_mV: number;
  /** Samples further apart are not compared, ms. */
  readonly maxGap_ms: number;
}

export const HARD_SHORT_DEFAULTS: HardShortSettings = { warn_mV: 50, crit_mV: 200, maxGap_ms: 10_000 };
/** The current must stay above this fraction of its level (its recent highest value) for a fall to count. */
export const HARD_SHORT_CURRENT_HELD = 0.5;

export interface HardShortState {
  lastT: number;
  lastV: number;
  /** The current's level, mA: its highest |value| since it last fell below half of it, and when last at that level (absent in older snapshots). */
  peakI?: number;
  peakT?: number;
}

export function newHardShortState(): HardShortState {
  return { lastT: -Infinity, lastV: NaN, peakI: 0, peakT: -Infinity };
}

export function feedHardShort(s: HardShortState, t: number, v: number, i_mA: number, charging: boolean, cfg: HardShortSettings): Signal | undefined {
  const dt = t - s.lastT;
  const prev = s.lastV;
  s.lastT = t;
  s.lastV = v;
  const i = Math.abs(i_mA);
  const peak = t - (s.peakT ?? -Infinity) > cfg.maxGap_ms ? 0 : (s.peakI ?? 0);
  if (i >= peak) {
    s.peakI = i;
    s.peakT = t;
  } else if (i >= HARD_SHORT_CURRENT_HELD * peak) s.peakT = t; // still at its level: the peak stays fresh
  if (!charging || Number.isNaN(prev) || dt > cfg.maxGap_ms) return undefined;
  // The current fell with the voltage (a step that ended, a CC-CV switch): the ohmic drop, not a short.
  if (i < HARD_SHORT_CURRENT_HELD * peak) return undefined;
  return new HardShortSignal(t, Math.max(0, (prev - v) * 1000), cfg, dt, prev, v);
}

/**
 * A hard-short measurement: one for every charging voltage sample, of which almost none changes a level, so
 * its words and extra numbers are made only when asked for (no two closures per sample). A class, for the
 * reason `Measurement` gives.
 */
class HardShortSignal implements Signal {
  readonly kind = 'hard_short';
  readonly unit = 'mV';
  readonly warn: number;
  readonly crit: number;

  constructor(
    readonly t: number,
    readonly value: number,
    cfg: HardShortSettings,
    private readonly dt: number,
    private readonly prev: number,
    private readonly v: number,
  ) {
    this.warn = cfg.warn_mV;
    this.crit = cfg.crit_mV;
  }

  get detail(): () => string {
    const { value: drop_mV, dt, prev, v } = this;
    return () =>
      `voltage fell ${drop_mV.toFixed(0)} mV in ${(dt / 1000).toFixed(1)} s during charge, the current held (${prev.toFixed(3)} → ${v.toFixed(3)} V)`;
  }

  get extra(): () => Readonly<Record<string, number>> {
    const { value: drop_mV, v } = this;
    return () => ({ drop_mV, v_V: v });
  }
}
