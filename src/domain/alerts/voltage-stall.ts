/**
 * Voltage stall under constant-current charge (soft-short signature 3, the other half of voltage noise): a
 * CC charge raises the cell's voltage steadily until the cutoff, where the constant-voltage hold keeps it
 * flat by design. A parallel electronic path (a soft short) takes part of the current, so the voltage rises
 * slower and slower and finally stalls below the cutoff. Value = minutes since the voltage last rose by
 * `rise_mV` during a charge episode, counted only below the cell's own top voltage (the highest voltage of
 * its earlier charge episodes, minus `cvBand_mV`: the CV hold is not a stall). The first `settle_ms` of an
 * episode are left out (the voltage steps and relaxes as the current starts). Nothing is judged until the
 * cell has completed one charge episode (its top is unknown before).
 */
import type { Signal } from './lifecycle.js';
import { DROP_EPISODE_GAP_MS } from './pressure-drop.js';

export interface VoltageStallSettings {
  readonly settle_ms: number;
  /** A rise at least this large restarts the stall clock, mV. */
  readonly rise_mV: number;
  /** Samples within this of the cell's top voltage are the CV hold, mV. */
  readonly cvBand_mV: number;
  readonly warn_min: number;
  readonly crit_min: number;
}

export const DEFAULT_VSTALL_SETTLE_MS = 900_000;
export const DEFAULT_VSTALL_RISE_MV = 5;
export const DEFAULT_VSTALL_CV_BAND_MV = 20;
export const DEFAULT_VSTALL_WARN_MIN = 30;
export const DEFAULT_VSTALL_CRIT_MIN = 90;

export interface VoltageStallState {
  episodeStart: number;
  lastCharging: number;
  /** Highest voltage of this episode, and of the earlier ones (NaN before the first ended). */
  episodeMax: number;
  top: number;
  /** The voltage the stall clock compares with, and when it was set. */
  mark: number;
  markT: number;
}

export function newVoltageStallState(): VoltageStallState {
  return { episodeStart: -Infinity, lastCharging: -Infinity, episodeMax: -Infinity, top: NaN, mark: NaN, markT: NaN };
}

/** Feeds one voltage sample; `charging` says whether the current was above the deadband then. */
export function feedVoltageStall(s: VoltageStallState, t: number, v: number, charging: boolean, cfg: VoltageStallSettings): Signal | undefined {
  if (!charging) return undefined;
  if (t - s.lastCharging > DROP_EPISODE_GAP_MS) {
    if (s.episodeMax > -Infinity) s.top = Number.isNaN(s.top) ? s.episodeMax : Math.max(s.top, s.episodeMax);
    s.episodeStart = t;
    s.episodeMax = -Infinity;
    s.mark = NaN;
  }
  s.lastCharging = t;
  if (v > s.episodeMax) s.episodeMax = v;
  if (t - s.episodeStart < cfg.settle_ms || Number.isNaN(s.top)) return undefined;
  if (Number.isNaN(s.mark) || v >= s.mark + cfg.rise_mV / 1000 || v >= s.top - cfg.cvBand_mV / 1000) {
    s.mark = v;
    s.markT = t;
  }
  const stall_min = (t - s.markT) / 60_000;
  const top = s.top;
  const mark = s.mark;
  return {
    kind: 'voltage_stall',
    t,
    value: stall_min,
    warn: cfg.warn_min,
    crit: cfg.crit_min,
    unit: 'min',
    detail: () =>
      `voltage under charge has not risen ${String(cfg.rise_mV)} mV for ${stall_min.toFixed(0)} min (${v.toFixed(3)} V, ${((top - v) * 1000).toFixed(0)} mV below the cell's top of ${top.toFixed(3)} V)`,
    extra: () => ({ stall_min, v_V: v, top_V: top, mark_V: mark }),
  };
}
