/**
 * The per-cycle detectors: Δ(ΔP_Q) decline (penetration signature 2) and soft short from the coulombic
 * efficiency (signature 3). Defaults and why: see detectors.ts.
 */
import type { Signal } from './lifecycle.js';
import { addPoint, emptySums, lineFromSums, median, type Sums } from './stats.js';

export interface CycleDetectorSettings {
  /** Minimum warning level of the extra decline, % of the reference per cycle. */
  readonly ddpqWarnMin_pct: number;
  /** Warning level in residual σ of the cell's own trend. */
  readonly ddpqWarnSigmas: number;
  /** Critical = this × warning. */
  readonly ddpqCritFactor: number;
  /** Cycles in the recent window (and the least history before it). */
  readonly ddpqTrendCycles: number;
  readonly ceWarnMin_pts: number;
  readonly ceCritMin_pts: number;
  readonly ceWarnSigmas: number;
  readonly ceCritSigmas: number;
  /** Cycles after the reference cycle that form the CE baseline. */
  readonly ceBaselineCycles: number;
}

export const DEFAULT_DDPQ_WARN_MIN_PCT = 1;
export const DEFAULT_DDPQ_WARN_SIGMAS = 4;
export const DEFAULT_DDPQ_CRIT_FACTOR = 2;
export const DEFAULT_DDPQ_TREND_CYCLES = 8;
export const DEFAULT_CE_WARN_MIN_PTS = 2;
export const DEFAULT_CE_CRIT_MIN_PTS = 5;
export const DEFAULT_CE_WARN_SIGMAS = 6;
export const DEFAULT_CE_CRIT_SIGMAS = 15;
export const DEFAULT_CE_BASELINE_CYCLES = 5;

export interface CycleDetectorState {
  ceBaseline: number[];
  qChargeBaseline: number[];
  /** Running sums of the history line (cycle x, Δ(ΔP_Q) y) over the cycles before the recent window. */
  fit: Sums;
  /** The recent window. */
  recent: [number, number][];
  ref: number;
}

export function newCycleDetectorState(): CycleDetectorState {
  return { ceBaseline: [], qChargeBaseline: [], fit: emptySums(), recent: [], ref: NaN };
}

export interface CycleFacts {
  readonly cycle: number;
  readonly t: number;
  readonly complete: boolean;
  readonly refCycle: number;
  readonly ce: number | undefined;
  readonly qCharge_mAh: number;
  readonly ddpQ: number | undefined;
  readonly drift: number | undefined;
}

/** Δ(ΔP_Q) decline and soft short, from one cycle's record. */
export function feedCycle(s: CycleDetectorState, c: CycleFacts, cfg: CycleDetectorSettings): Signal[] {
  const out: Signal[] = [];
  if (!c.complete) return out;
  if (c.drift !== undefined && c.ddpQ !== undefined && c.cycle >= c.refCycle) {
    if (Number.isNaN(s.ref)) s.ref = Math.abs(c.ddpQ - c.drift);
    const f = s.fit;
    s.recent.push([c.cycle, c.ddpQ]);
    const oldest = s.recent.length > cfg.ddpqTrendCycles ? s.recent.shift() : undefined;
    if (oldest !== undefined) addPoint(f, oldest[0], oldest[1]);
    if (f.n >= cfg.ddpqTrendCycles && s.recent.length === cfg.ddpqTrendCycles && s.ref > 0) {
      const history = lineFromSums(f);
      const r = emptySums();
      for (const [x, y] of s.recent) addPoint(r, x, y);
      const recent = lineFromSums(r);
      const vxx = r.sxx - (r.sx * r.sx) / r.n;
      const se = vxx > 0 ? history.sigma / Math.sqrt(vxx) : Infinity;
      const faster_pct = ((history.b - recent.b) / s.ref) * 100;
      const warn = Math.max(cfg.ddpqWarnMin_pct, (cfg.ddpqWarnSigmas * se * 100) / s.ref);
      out.push({
        kind: 'ddpq_decline',
        t: c.t,
        value: faster_pct,
        warn,
        crit: warn * cfg.ddpqCritFactor,
        unit: '%/cycle',
        detail: `Δ(ΔP_Q) ${c.ddpQ.toFixed(2)} at cycle ${c.cycle} (drift ${c.drift.toFixed(2)}): falling ${((-recent.b / s.ref) * 100).toFixed(2)} %/cycle over the last ${r.n} cycles against ${((-history.b / s.ref) * 100).toFixed(2)} %/cycle before`,
        extra: { ddp_q: c.ddpQ, drift: c.drift, slope_recent: recent.b, slope_history: history.b, cycle: c.cycle },
      });
    }
  }
  if (c.ce !== undefined && c.cycle > c.refCycle) {
    if (s.ceBaseline.length < cfg.ceBaselineCycles) {
      s.ceBaseline.push(c.ce);
      s.qChargeBaseline.push(c.qCharge_mAh);
      return out;
    }
    const base = median(s.ceBaseline);
    const sigma = median(s.ceBaseline.map((x) => Math.abs(x - base))) * 1.4826;
    const qBase = median(s.qChargeBaseline);
    const drop_pts = (base - c.ce) * 100;
    const warn = Math.max(cfg.ceWarnMin_pts, cfg.ceWarnSigmas * sigma * 100);
    const crit = Math.max(cfg.ceCritMin_pts, cfg.ceCritSigmas * sigma * 100);
    const qGrowth_pct = qBase > 0 ? (c.qCharge_mAh / qBase - 1) * 100 : 0;
    out.push({
      kind: 'soft_short',
      t: c.t,
      value: drop_pts,
      warn,
      crit,
      unit: 'CE points',
      detail: `CE ${(c.ce * 100).toFixed(2)} % at cycle ${c.cycle} against a baseline of ${(base * 100).toFixed(2)} %, charge capacity ${qGrowth_pct >= 0 ? '+' : ''}${qGrowth_pct.toFixed(1)} % of baseline`,
      extra: { ce: c.ce, ce_baseline: base, q_charge_growth_pct: qGrowth_pct, cycle: c.cycle },
    });
  }
  return out;
}
