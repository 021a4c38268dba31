/**
 * Hard short: the voltage falling between consecutive samples during charge. Defaults and why: see detectors.ts.
 */
import type { Signal } from './lifecycle.js';

export interface HardShortSettings {
  readonly warn_mV: number;
  readonly crit_mV: number;
  /** Samples further apart are not compared, ms. */
  readonly maxGap_ms: number;
}

export const DEFAULT_HARD_SHORT_WARN_MV = 50;
export const DEFAULT_HARD_SHORT_CRIT_MV = 200;
export const DEFAULT_HARD_SHORT_MAX_GAP_MS = 10_000;

export interface HardShortState {
  lastT: number;
  lastV: number;
}

export function newHardShortState(): HardShortState {
  return { lastT: -Infinity, lastV: NaN };
}

export function feedHardShort(s: HardShortState, t: number, v: number, charging: boolean, cfg: HardShortSettings): Signal | undefined {
  const dt = t - s.lastT;
  const prev = s.lastV;
  s.lastT = t;
  s.lastV = v;
  if (!charging || Number.isNaN(prev) || dt > cfg.maxGap_ms) return undefined;
  const drop_mV = Math.max(0, (prev - v) * 1000);
  return {
    kind: 'hard_short',
    t,
    value: drop_mV,
    warn: cfg.warn_mV,
    crit: cfg.crit_mV,
    unit: 'mV',
    detail: () => `voltage fell ${drop_mV.toFixed(0)} mV in ${(dt / 1000).toFixed(1)} s during charge (${prev.toFixed(3)} → ${v.toFixed(3)} V)`,
    extra: () => ({ drop_mV, v_V: v }),
  };
}
