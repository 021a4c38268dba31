/**
 * The penetration and short detectors, as plain state plus pure functions (so a cell's detectors are
 * snapshotted with it). Each turns what it sees into a Signal: a value that grows with severity and the
 * warning / critical levels for that value. The lifecycle (lifecycle.ts) decides what is raised.
 *
 * Defaults, and why (the README repeats this):
 * - pressure drop during plating: the pressure is averaged over `window_ms` (10 s), the running maximum
 *   of those averages is kept through the charge step (after `settle_ms`), and the drop below it is the
 *   value. Warning at max(4 load-cell counts, 8 σ of the average), where one count is 0.1 kgf on the
 *   pressing area (7.4 kPa in a 13 mm mold) and σ is the sensor noise the detector measures on the cell
 *   itself (from successive differences), divided by √(samples per window). A healthy charge only
 *   rises, so a drop of four counts that outlasts the averaging is not noise. Critical at 3× warning.
 * - Δ(ΔP_Q) decline: healthy cells decline too (the paper's most stable cell, MgF₂, loses 2.6 of 15.6 =
 *   17 % in 30 cycles), so a fixed level against the reference cycle would fire on every long healthy
 *   run. The detector compares slopes instead: the slope of Δ(ΔP_Q) over the latest `trendCycles` (8)
 *   complete cycles against the slope of the cell's own history before them (a least-squares line
 *   through every earlier cycle from the reference cycle, at least 8). The value is how much faster
 *   the recent decline is, in % of the reference per cycle. Its noise is the standard error of the
 *   recent slope, from the residual scatter σ of the history line. Warning at max(1 %/cycle, 4 standard
 *   errors), critical at twice that. Penetrating growth makes the swing per unit charge fall faster
 *   than the cell's own history: that is what it flags; a steady healthy decline is not.
 * - soft short: CE below the cell's own baseline (median CE of the 5 cycles after the reference cycle).
 *   Warning at max(2 points, 6 σ of those cycles), critical at max(5 points, 15 σ).
 * - hard short: voltage falling during charge between consecutive samples (≤ 10 s apart). Warning at
 *   50 mV, critical at 200 mV: a CC charge only raises the voltage, and a CV hold keeps it flat
 *   within a few mV of noise.
 * - silence: no pressure or current reading from an active cell. Warning after 120 s, critical after 600 s.
 */
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

export const DEFAULT_DROP_WINDOW_MS = 10_000;
export const DEFAULT_DROP_SETTLE_MS = 60_000;
export const DEFAULT_DROP_MIN_COUNTS = 4;
export const DEFAULT_DROP_NOISE_SIGMAS = 8;
export const DEFAULT_DROP_CRIT_FACTOR = 3;
/** A pause in charging longer than this starts a new plating episode (the running maximum restarts). */
export const DROP_EPISODE_GAP_MS = 60_000;

export interface PressureDropState {
  episodeStart: number;
  lastCharging: number;
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
  if (t - s.lastCharging > DROP_EPISODE_GAP_MS) {
    s.episodeStart = t;
    s.maxAvg = -Infinity;
    s.winStart = t;
    s.winSum = 0;
    s.winN = 0;
  }
  s.lastCharging = t;
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
  fit: { n: number; sx: number; sy: number; sxx: number; sxy: number; syy: number };
  /** The recent window. */
  recent: [number, number][];
  ref: number;
}

export function newCycleDetectorState(): CycleDetectorState {
  return { ceBaseline: [], qChargeBaseline: [], fit: emptySums(), recent: [], ref: NaN };
}

type Sums = CycleDetectorState['fit'];
const emptySums = (): Sums => ({ n: 0, sx: 0, sy: 0, sxx: 0, sxy: 0, syy: 0 });

function addPoint(f: Sums, x: number, y: number): void {
  f.n++;
  f.sx += x;
  f.sy += y;
  f.sxx += x * x;
  f.sxy += x * y;
  f.syy += y * y;
}

/** Least-squares line y = a + b·x from running sums, and the residual σ (n − 2 degrees of freedom). */
export function lineFromSums(f: CycleDetectorState['fit']): { a: number; b: number; sigma: number } {
  const { n, sx, sy, sxx, sxy, syy } = f;
  const vxx = sxx - (sx * sx) / n;
  const vxy = sxy - (sx * sy) / n;
  const vyy = syy - (sy * sy) / n;
  const b = vxx > 0 ? vxy / vxx : 0;
  const a = (sy - b * sx) / n;
  const ss = Math.max(0, vyy - b * vxy);
  return { a, b, sigma: n > 2 ? Math.sqrt(ss / (n - 2)) : 0 };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

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
    if (s.recent.length > cfg.ddpqTrendCycles) {
      const [x, y] = s.recent.shift()!;
      addPoint(f, x, y);
    }
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

export interface SilenceSettings {
  readonly warn_s: number;
  readonly crit_s: number;
}

export const DEFAULT_SILENCE_WARN_S = 120;
export const DEFAULT_SILENCE_CRIT_S = 600;

export function silenceSignal(now: number, silentFor_s: number, channel: string, cfg: SilenceSettings): Signal {
  return {
    kind: 'silence',
    t: now,
    value: silentFor_s,
    warn: cfg.warn_s,
    crit: cfg.crit_s,
    unit: 's',
    detail: silentFor_s > 0 ? `no ${channel} reading for ${silentFor_s.toFixed(0)} s from an active cell` : 'readings flowing',
    extra: { silent_s: silentFor_s },
  };
}

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

export const DEFAULT_VNOISE_SETTLE_MS = 900_000;
export const DEFAULT_VNOISE_WARN_RATIO = 3;
export const DEFAULT_VNOISE_CRIT_RATIO = 6;
export const DEFAULT_VNOISE_BASELINE_EPISODES = 5;
export const DEFAULT_VNOISE_EVERY_SAMPLES = 60;
/** Floor of the baseline noise, V (a perfectly quiet simulated or quantized signal must not divide by ~0). */
export const VNOISE_FLOOR_V = 1e-4;
const SECOND_DIFF_TO_SIGMA = 1 / (Math.sqrt(6) * Math.sqrt(2 / Math.PI));

export interface VoltageNoiseState {
  episodeStart: number;
  lastCharging: number;
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
export function feedVoltageNoise(s: VoltageNoiseState, t: number, v: number, charging: boolean, learnable: boolean, cfg: VoltageNoiseSettings): Signal | undefined {
  if (!charging) return undefined;
  if (t - s.lastCharging > DROP_EPISODE_GAP_MS) {
    closeEpisode(s, cfg);
    s.learning = learnable && s.baseline.length < cfg.baselineEpisodes;
    s.episodeStart = t;
  }
  s.lastCharging = t;
  if (t - s.episodeStart < cfg.settle_ms) return undefined;
  // Samples further apart than the episode gap are not differenced.
  if (t - s.t1 > DROP_EPISODE_GAP_MS) {
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
  return {
    kind: 'voltage_noise',
    t,
    value: ratio,
    warn: cfg.warnRatio,
    crit: cfg.critRatio,
    unit: '× baseline',
    detail: () => `voltage noise under charge ${(sigma * 1000).toFixed(2)} mV against the cell's baseline of ${(base * 1000).toFixed(2)} mV`,
    extra: () => ({ noise_mV: sigma * 1000, baseline_mV: base * 1000 }),
  };
}
