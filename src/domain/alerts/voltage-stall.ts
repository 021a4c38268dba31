/**
 * Voltage stall under constant-current charge (soft-short signature 3, the other half of voltage noise): a
 * CC charge raises the cell's voltage steadily until the cutoff, where the constant-voltage hold keeps it
 * flat by design. A parallel electronic path (a soft short) takes part of the current, so the voltage rises
 * slower and slower and finally stalls below the cutoff.
 *
 * Measured: minutes since the voltage last rose by `rise_mV` during a charge episode, counted only below the
 * cell's own top voltage (the highest voltage of its earlier charge episodes, minus `cvBand_mV`: the CV hold
 * is not a stall). The first `settle_ms` of an episode are left out (the voltage steps and relaxes as the
 * current starts).
 *
 * Judged against the cell itself, since chemistries differ: some healthy cells have long flat plateaus
 * (LiFePO4 at C/25 stays within 5 mV for over 90 min, the PEC export of the real-file corpus), and a
 * symmetric Li|Li cell has no rising CC voltage at all. From the cell's healthy charges (every episode that
 * ends in a cycle up to the reference cycle, and always the first) the detector learns:
 * - its longest plateau: the longest time the voltage took to rise `rise_mV` (a plateau that ended in a rise;
 *   the CV hold never does). The value judged is the stall beyond that plateau;
 * - its CC voltage span (highest minus lowest after the settle time): under `minSpan_mV` the charge voltage is
 *   flat by nature and a stall means nothing, so the detector stays quiet for that cell.
 * Nothing is judged until the cell has completed one charge episode.
 */
import type { Signal } from './lifecycle.js';
import { chargeSample, type ChargeEpisode } from './charge-episode.js';

export interface VoltageStallSettings {
  readonly settle_ms: number;
  /** A rise at least this large restarts the stall clock, mV. */
  readonly rise_mV: number;
  /** Samples within this of the cell's top voltage are the CV hold, mV. */
  readonly cvBand_mV: number;
  /** Cells whose healthy CC voltage spans less than this are not judged (flat by nature), mV. */
  readonly minSpan_mV: number;
  readonly warn_min: number;
  readonly crit_min: number;
}

export const VOLTAGE_STALL_DEFAULTS: VoltageStallSettings = { settle_ms: 900_000, rise_mV: 5, cvBand_mV: 20, minSpan_mV: 100, warn_min: 30, crit_min: 90 };

export interface VoltageStallState extends ChargeEpisode {
  /** The cycle of the episode in progress (whether it is learned from). */
  episodeCycle: number;
  /** Highest voltage of this episode, and of the earlier ones (NaN before the first ended). */
  episodeMax: number;
  top: number;
  /** Lowest voltage of this episode after the settle time. */
  episodeMin: number;
  /** Longest plateau of this episode that ended in a rise, ms. */
  episodeLongest_ms: number;
  /** What the healthy episodes taught: longest plateau (ms) and widest CC span (V); NaN before the first. */
  plateau_ms: number;
  span_V: number;
  /** The voltage the stall clock compares with, and when it was set. */
  mark: number;
  markT: number;
}

export function newVoltageStallState(): VoltageStallState {
  return {
    episodeStart: -Infinity,
    lastCharging: -Infinity,
    episodeCycle: 0,
    episodeMax: -Infinity,
    top: NaN,
    episodeMin: Infinity,
    episodeLongest_ms: 0,
    plateau_ms: NaN,
    span_V: NaN,
    mark: NaN,
    markT: NaN,
  };
}

/** A state restored from a snapshot of an older format: the fields it lacks start afresh. */
export function restoreVoltageStallState(s: Partial<VoltageStallState> | undefined): VoltageStallState {
  return { ...newVoltageStallState(), ...s };
}

/** Ends the episode in progress: its top joins the cell's, and a healthy one teaches plateau and span. */
function endEpisode(s: VoltageStallState, refCycle: number): void {
  if (s.episodeMax === -Infinity) return;
  s.top = Number.isNaN(s.top) ? s.episodeMax : Math.max(s.top, s.episodeMax);
  if (s.episodeCycle > refCycle && !Number.isNaN(s.plateau_ms)) return;
  s.plateau_ms = Math.max(Number.isNaN(s.plateau_ms) ? 0 : s.plateau_ms, s.episodeLongest_ms);
  const span = s.episodeMin === Infinity ? 0 : s.episodeMax - s.episodeMin;
  s.span_V = Math.max(Number.isNaN(s.span_V) ? 0 : s.span_V, span);
}

/**
 * Feeds one voltage sample; `charging` says whether the current was above the deadband then, `cycle` is
 * the cycle in progress and `refCycle` the cell's reference cycle (episodes up to it are learned from).
 */
export function feedVoltageStall(
  s: VoltageStallState,
  t: number,
  v: number,
  charging: boolean,
  cycle: number,
  refCycle: number,
  cfg: VoltageStallSettings,
): Signal | undefined {
  if (!charging) return undefined;
  if (chargeSample(s, t)) {
    endEpisode(s, refCycle);
    s.episodeCycle = cycle;
    s.episodeMax = -Infinity;
    s.episodeMin = Infinity;
    s.episodeLongest_ms = 0;
    s.mark = NaN;
  }
  if (v > s.episodeMax) s.episodeMax = v;
  if (t - s.episodeStart < cfg.settle_ms) return undefined;
  if (v < s.episodeMin) s.episodeMin = v;
  const rose = v >= s.mark + cfg.rise_mV / 1000;
  if (rose) s.episodeLongest_ms = Math.max(s.episodeLongest_ms, t - s.markT);
  if (Number.isNaN(s.mark) || rose || v >= s.top - cfg.cvBand_mV / 1000) {
    s.mark = v;
    s.markT = t;
  }
  if (Number.isNaN(s.top) || !(s.span_V * 1000 >= cfg.minSpan_mV)) return undefined;
  return stallSignal(s, t, v, cfg);
}

function stallSignal(s: VoltageStallState, t: number, v: number, cfg: VoltageStallSettings): Signal {
  const stall_min = (t - s.markT) / 60_000;
  const plateau_min = s.plateau_ms / 60_000;
  const beyond_min = Math.max(0, stall_min - plateau_min);
  return new StallSignal(t, beyond_min, cfg, stall_min, plateau_min, v, s.top, s.mark);
}

/**
 * A voltage-stall measurement: one for every charging voltage sample past the settling time, of which almost
 * none changes a level, so its words and extra numbers are made only when asked for. A class, for the reason
 * `Measurement` gives.
 */
class StallSignal implements Signal {
  readonly kind = 'voltage_stall';
  readonly unit = 'min';
  readonly warn: number;
  readonly crit: number;
  private readonly rise_mV: number;

  constructor(
    readonly t: number,
    readonly value: number,
    cfg: VoltageStallSettings,
    private readonly stall_min: number,
    private readonly plateau_min: number,
    private readonly v: number,
    private readonly top: number,
    private readonly mark: number,
  ) {
    this.warn = cfg.warn_min;
    this.crit = cfg.crit_min;
    this.rise_mV = cfg.rise_mV;
  }

  get detail(): () => string {
    const { value: beyond_min, stall_min, plateau_min, v, top, rise_mV } = this;
    return () =>
      `voltage under charge has not risen ${String(rise_mV)} mV for ${stall_min.toFixed(0)} min, ${beyond_min.toFixed(0)} min beyond the cell's ` +
      `longest healthy plateau of ${plateau_min.toFixed(0)} min (${v.toFixed(3)} V, ${((top - v) * 1000).toFixed(0)} mV below its top of ${top.toFixed(3)} V)`;
  }

  get extra(): () => Readonly<Record<string, number>> {
    const { stall_min, plateau_min, v, top, mark } = this;
    return () => ({ stall_min, plateau_min, v_V: v, top_V: top, mark_V: mark });
  }
}
