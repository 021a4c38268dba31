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

/**
 * Cuts the current between two samples into segments of one kind each, in time order. `held`: the
 * samples are further apart than the interpolation limit, so the current is held at i0 until t1 (and the
 * new value starts a zero-length segment at t1). Equal timestamps are a jump (a cycler's step change):
 * one zero-length segment of the new kind.
 */
export function splitAtDeadband(line: CurrentLine, restCurrent_mA: number, held: boolean): Segment[] {
  const { t0, i0, t1, i1 } = line;
  const R = restCurrent_mA;
  if (held) {
    return [
      { kind: kindOf(i0, R), ta: t0, ia: i0, tb: t1, ib: i0, line: { t0, i0, t1, i1: i0 } },
      { kind: kindOf(i1, R), ta: t1, ia: i1, tb: t1, ib: i1, line: { t0: t1, i0: i1, t1, i1 } },
    ];
  }
  if (t1 === t0) return [{ kind: kindOf(i1, R), ta: t1, ia: i1, tb: t1, ib: i1, line }];
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
  const out: Segment[] = [];
  let ta = t0;
  let ia = i0;
  for (const tb of [c1, c2, t1]) {
    if (Number.isNaN(tb)) continue;
    const ib = tb === t1 ? i1 : lerp(t0, i0, t1, i1, tb);
    out.push({ kind: kindOf(lerp(t0, i0, t1, i1, (ta + tb) / 2), R), ta, ia, tb, ib, line });
    ta = tb;
    ia = ib;
  }
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
 * (whose start boundary is `ta`). A candidate of another kind is a glitch: merged into the step.
 * Returns the run, and whether a glitch was merged. Needs a step in progress.
 */
export function runFor(runs: Runs, step: Run, kind: StepKind, ta: number, s: RunSettings, cycler: { step: number | undefined; cycle: number | undefined }): { run: Run; glitch: boolean } {
  const cand = runs.cand;
  let glitch = false;
  if (cand !== null) {
    if (kind === cand.kind) return { run: cand, glitch };
    mergeGlitch(step, cand);
    glitch = true;
    runs.cand = null;
    if (kind === step.kind) return { run: step, glitch };
  } else if (kind === step.kind) return { run: step, glitch };
  runs.cand = newRun(kind, newBoundary(ta), s, cycler.step, cycler.cycle);
  return { run: runs.cand, glitch };
}

/** The candidate, once it has lasted the minimum step duration up to `tb`: it becomes the step. */
export function confirmedCandidate(runs: Runs, tb: number, s: RunSettings): Run | undefined {
  const cand = runs.cand;
  if (cand === null || tb - cand.tStart < s.minStepDuration_ms) return undefined;
  return cand;
}
