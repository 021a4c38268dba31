/**
 * Segmentation: the current, piecewise linear between samples, cut where it crosses the deadband ±I_rest
 * into segments of one kind (charge, discharge, rest), and those segments grouped into runs. A run of a
 * new kind is a candidate until it has lasted `minStepDuration_ms`; a candidate interrupted before that
 * is a glitch and is merged into the step it interrupted.
 */
import { lerp } from '../capacity.js';
import type { StepKind } from '../types.js';
import { mergeGlitch, newRun, type Run, type RunCurveSettings } from './run.js';
import { newBoundary, type CurrentLine, type Segment } from './types.js';

export function kindOf(i_mA: number, restCurrent_mA: number): StepKind {
  return i_mA > restCurrent_mA ? 'charge' : i_mA < -restCurrent_mA ? 'discharge' : 'rest';
}

/** Receives the segments of a line, in time order (an interface, not a callback: the core stays cloneable). */
export interface SegmentVisitor {
  segment(kind: StepKind, ta: number, ia: number, tb: number, ib: number, line: CurrentLine): void;
}

/**
 * Cuts the current between two samples into segments of one kind each and hands them to `visit`, in time
 * order. `held`: the samples are further apart than the interpolation limit, so the current is held at i0
 * until t1 (and the new value starts a zero-length segment at t1). Equal timestamps are a jump (a cycler's
 * step change): one zero-length segment of the new kind. Allocates nothing in the common case (the hot path).
 */
export function splitAtDeadband(line: CurrentLine, restCurrent_mA: number, held: boolean, visit: SegmentVisitor): void {
  const { t0, i0, t1, i1 } = line;
  const R = restCurrent_mA;
  if (held) {
    visit.segment(kindOf(i0, R), t0, i0, t1, i0, { t0, i0, t1, i1: i0 });
    visit.segment(kindOf(i1, R), t1, i1, t1, i1, { t0: t1, i0: i1, t1, i1 });
    return;
  }
  if (t1 === t0) {
    visit.segment(kindOf(i1, R), t1, i1, t1, i1, line);
    return;
  }
  // Crossing instants of +R and −R strictly inside (t0, t1), in time order.
  let c1 = NaN;
  let c2 = NaN;
  if (i0 !== i1) {
    const a = t0 + ((R - i0) * (t1 - t0)) / (i1 - i0);
    const b = t0 + ((-R - i0) * (t1 - t0)) / (i1 - i0);
    const ca = a > t0 && a < t1 ? a : NaN;
    const cb = b > t0 && b < t1 ? b : NaN;
    if (!Number.isNaN(ca) && !Number.isNaN(cb)) {
      c1 = Math.min(ca, cb);
      c2 = Math.max(ca, cb);
    } else c1 = Number.isNaN(ca) ? cb : ca;
  }
  if (Number.isNaN(c1)) {
    visit.segment(kindOf(lerp(t0, i0, t1, i1, (t0 + t1) / 2), R), t0, i0, t1, i1, line);
    return;
  }
  let ta = t0;
  let ia = i0;
  for (const tb of [c1, c2, t1]) {
    if (Number.isNaN(tb)) continue;
    const ib = tb === t1 ? i1 : lerp(t0, i0, t1, i1, tb);
    visit.segment(kindOf(lerp(t0, i0, t1, i1, (ta + tb) / 2), R), ta, ia, tb, ib, line);
    ta = tb;
    ia = ib;
  }
}

/** The segments of a line as values (tests, and anyone who wants them listed). */
export function segmentsOf(line: CurrentLine, restCurrent_mA: number, held: boolean): Segment[] {
  const out: Segment[] = [];
  splitAtDeadband(line, restCurrent_mA, held, { segment: (kind, ta, ia, tb, ib, l) => out.push({ kind, ta, ia, tb, ib, line: l }) });
  return out;
}

/** The step in progress and the candidate that may replace it. Plain data. */
export interface Runs {
  step: Run | null;
  cand: Run | null;
}

export interface RunSettings extends RunCurveSettings {
  /** A run of a new kind shorter than this does not start a step, ms. */
  readonly minStepDuration_ms: number;
}

/**
 * The run a segment of `kind` starting at `ta` belongs to: the step, the candidate, or a new candidate
 * (whose start boundary is `ta`). A candidate of another kind is a glitch: merged into the step and
 * counted in `stats.glitches`. Needs a step in progress.
 */
export function runFor(runs: Runs, step: Run, kind: StepKind, ta: number, s: RunSettings, cycler: CyclerIndex, stats: { glitches: number }): Run {
  const cand = runs.cand;
  if (cand !== null) {
    if (kind === cand.kind) return cand;
    mergeGlitch(step, cand);
    stats.glitches++;
    runs.cand = null;
    if (kind === step.kind) return step;
  } else if (kind === step.kind) return step;
  const run = newRun(kind, newBoundary(ta), s, cycler.step, cycler.cycle);
  runs.cand = run;
  return run;
}

/** The cycler's step and cycle index in force (cycler step mode), for the runs that start now. */
export interface CyclerIndex {
  step: number | undefined;
  cycle: number | undefined;
}

/** The candidate, once it has lasted the minimum step duration up to `tb`: it becomes the step. */
export function confirmedCandidate(runs: Runs, tb: number, s: RunSettings): Run | undefined {
  const cand = runs.cand;
  if (cand === null || tb - cand.tStart < s.minStepDuration_ms) return undefined;
  return cand;
}
