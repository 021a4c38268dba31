/**
 * Soft short from the coulombic efficiency (penetration signature 3): CE below the cell's own baseline
 * (median CE of the cycles right after the reference cycle). Defaults and why: see detectors.ts.
 */
import type { Signal } from './lifecycle.js';
import { median } from './stats.js';

export interface SoftShortSettings {
  readonly ceWarnMin_pts: number;
  readonly ceCritMin_pts: number;
  readonly ceWarnSigmas: number;
  readonly ceCritSigmas: number;
  /** Cycles after the reference cycle that form the CE baseline. */
  readonly ceBaselineCycles: number;
}

export const SOFT_SHORT_DEFAULTS: SoftShortSettings = { ceWarnMin_pts: 2, ceCritMin_pts: 5, ceWarnSigmas: 6, ceCritSigmas: 15, ceBaselineCycles: 5 };

export interface SoftShortState {
  ceBaseline: number[];
  qChargeBaseline: number[];
}

/** Feeds one complete cycle after the reference cycle; the signal once the baseline is known. */
export function feedSoftShort(s: SoftShortState, cycle: number, t: number, ce: number, qCharge_mAh: number, cfg: SoftShortSettings): Signal | undefined {
  if (s.ceBaseline.length < cfg.ceBaselineCycles) {
    s.ceBaseline.push(ce);
    s.qChargeBaseline.push(qCharge_mAh);
    return undefined;
  }
  const base = median(s.ceBaseline);
  const sigma = median(s.ceBaseline.map((x) => Math.abs(x - base))) * 1.4826;
  const qBase = median(s.qChargeBaseline);
  const drop_pts = (base - ce) * 100;
  const warn = Math.max(cfg.ceWarnMin_pts, cfg.ceWarnSigmas * sigma * 100);
  const crit = Math.max(cfg.ceCritMin_pts, cfg.ceCritSigmas * sigma * 100);
  const qGrowth_pct = qBase > 0 ? (qCharge_mAh / qBase - 1) * 100 : 0;
  return {
    kind: 'soft_short',
    t,
    value: drop_pts,
    warn,
    crit,
    unit: 'CE points',
    detail: `CE ${(ce * 100).toFixed(2)} % at cycle ${cycle} against a baseline of ${(base * 100).toFixed(2)} %, charge capacity ${qGrowth_pct >= 0 ? '+' : ''}${qGrowth_pct.toFixed(1)} % of baseline`,
    extra: { ce, ce_baseline: base, q_charge_growth_pct: qGrowth_pct, cycle },
  };
}
