/**
 * Δ(ΔP_Q) decline (penetration signature 2), with the method's two criteria, both relative to the
 * reference cycle's value (ref = Δ(ΔP_Q) of the reference cycle, the first after formation):
 *
 * - level: how far Δ(ΔP_Q) has fallen below the reference, in % of the reference, averaged over the latest
 *   `levelCycles` complete cycles (one cycle scatters by a few %; the average does not fire on one).
 * - rate: the least-squares slope of Δ(ΔP_Q) over the latest `rateCycles` complete cycles, in % of the
 *   reference per cycle, minus `rateSigmas` standard errors of that slope (from the residual scatter of
 *   the same cycles, measured on the cell itself): a decline rate the cell is at least this confident of.
 *   Compared with an absolute rate, so a decline that starts at the reference cycle is caught as soon
 *   as the window is full (reference + rateCycles − 1), however the cell behaved before.
 *
 * One signal per cycle: the criterion that is more severe relative to its warning level (the alert
 * lifecycle then sees one value with one pair of levels). Both numbers travel in `extra`.
 * Defaults and why: see the README ("Alerts") and detectors.ts.
 */
import type { Signal } from './lifecycle.js';
import { addPoint, emptySums, lineFromSums } from './stats.js';

export interface DdpqSettings {
  /** Level criterion: warning when Δ(ΔP_Q) is this far below the reference, % of the reference. */
  readonly levelWarn_pct: number;
  /** Level criterion: critical level, % of the reference. */
  readonly levelCrit_pct: number;
  /** Complete cycles averaged for the level criterion. */
  readonly levelCycles: number;
  /** Rate criterion: warning when the confident decline rate reaches this, % of the reference per cycle. */
  readonly rateWarn_pct_per_cycle: number;
  /** Rate criterion: critical rate, % of the reference per cycle. */
  readonly rateCrit_pct_per_cycle: number;
  /** Complete cycles in the least-squares window of the rate criterion (≥ 3). */
  readonly rateCycles: number;
  /** Standard errors of the slope subtracted from the measured decline rate. */
  readonly rateSigmas: number;
}

/**
 * Level: after 30 cycles the paper's healthy-to-mild cells lost 17-23 % of their reference (MgF₂ −2.6 of
 * 15.6, Mg −5.2 of 22.4). Rate: the same cells decline 0.56-0.77 % of their reference per cycle; warning
 * at ≈ 2× the fastest.
 */
export const DDPQ_DEFAULTS: DdpqSettings = {
  levelWarn_pct: 40,
  levelCrit_pct: 60,
  levelCycles: 3,
  rateWarn_pct_per_cycle: 1.5,
  rateCrit_pct_per_cycle: 3,
  rateCycles: 8,
  rateSigmas: 1.5,
};

export interface DdpqState {
  /** Δ(ΔP_Q) of the reference cycle (NaN until known). */
  ref: number;
  /** The latest complete cycles from the reference on: [cycle, Δ(ΔP_Q)]. */
  recent: [number, number][];
}

export function newDdpqState(): DdpqState {
  return { ref: NaN, recent: [] };
}

/** What the rate criterion measured over its window (% of the reference per cycle). */
interface Rate {
  readonly decline_pct: number;
  readonly se_pct: number;
  readonly confident_pct: number;
}

function rateOver(points: readonly (readonly [number, number])[], ref: number, sigmas: number): Rate {
  const sums = emptySums();
  for (const [x, y] of points) addPoint(sums, x, y);
  const line = lineFromSums(sums);
  const vxx = sums.sxx - (sums.sx * sums.sx) / sums.n;
  const se = vxx > 0 ? line.sigma / Math.sqrt(vxx) : Infinity;
  const decline_pct = (-line.b / ref) * 100;
  const se_pct = (se / ref) * 100;
  return { decline_pct, se_pct, confident_pct: decline_pct - sigmas * se_pct };
}

/** Feeds one complete cycle at or after the reference cycle; the signal once there is something to judge. */
export function feedDdpq(s: DdpqState, cycle: number, t: number, ddpQ: number, drift: number, cfg: DdpqSettings): Signal | undefined {
  if (Number.isNaN(s.ref)) s.ref = ddpQ - drift;
  const ref = s.ref;
  if (!(ref > 0)) return undefined;
  s.recent.push([cycle, ddpQ]);
  const keep = Math.max(cfg.levelCycles, cfg.rateCycles);
  if (s.recent.length > keep) s.recent.splice(0, s.recent.length - keep);
  const last = s.recent.slice(-cfg.levelCycles);
  if (last.length < cfg.levelCycles) return undefined;
  const mean = last.reduce((a, [, y]) => a + y, 0) / last.length;
  const level_pct = ((ref - mean) / ref) * 100;
  const rate = s.recent.length >= cfg.rateCycles ? rateOver(s.recent.slice(-cfg.rateCycles), ref, cfg.rateSigmas) : undefined;
  const levelRatio = level_pct / cfg.levelWarn_pct;
  const rateRatio = rate === undefined ? -Infinity : rate.confident_pct / cfg.rateWarn_pct_per_cycle;
  const extra = {
    ddp_q: ddpQ,
    drift,
    ref,
    level_pct,
    ...(rate !== undefined ? { rate_pct_per_cycle: rate.decline_pct, rate_se_pct_per_cycle: rate.se_pct } : {}),
    cycle,
  };
  const head = `Δ(ΔP_Q) ${ddpQ.toFixed(2)} at cycle ${cycle} (reference ${ref.toFixed(2)})`;
  const rateText =
    rate === undefined ? '' : `falling ${rate.decline_pct.toFixed(2)} ± ${rate.se_pct.toFixed(2)} %/cycle over the last ${cfg.rateCycles} cycles`;
  const levelText = `${level_pct.toFixed(1)} % below the reference over the last ${cfg.levelCycles} cycles`;
  if (rate !== undefined && rateRatio > levelRatio)
    return {
      kind: 'ddpq_decline',
      t,
      value: rate.confident_pct,
      warn: cfg.rateWarn_pct_per_cycle,
      crit: cfg.rateCrit_pct_per_cycle,
      unit: '%/cycle',
      detail: `${head}: ${rateText} (${levelText})`,
      extra,
    };
  return {
    kind: 'ddpq_decline',
    t,
    value: level_pct,
    warn: cfg.levelWarn_pct,
    crit: cfg.levelCrit_pct,
    unit: '% of reference',
    detail: `${head}: ${levelText}${rateText === '' ? '' : ` (${rateText})`}`,
    extra,
  };
}
