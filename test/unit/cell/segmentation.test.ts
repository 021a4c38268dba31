/** Segmentation: deadband crossings of the piecewise-linear current, and runs with glitch merging. */
import { describe, expect, it } from 'vitest';
import { newRun } from '../../../src/domain/cell/run.js';
import { confirmedCandidate, kindOf, runFor, segmentsOf, type Runs, type RunSettings } from '../../../src/domain/cell/segmentation.js';
import { newBoundary } from '../../../src/domain/cell/types.js';

const R = 0.1;
const S: RunSettings = { minStepDuration_ms: 10_000, dpdqGrid_mAh: 0, maxCurvePoints: 0 };
const NO_CYCLER = { step: undefined, cycle: undefined };

describe('kindOf', () => {
  it('is charge above +I_rest, discharge below −I_rest, rest inside (edges are rest)', () => {
    expect([kindOf(0.2, R), kindOf(-0.2, R), kindOf(0.1, R), kindOf(-0.1, R), kindOf(0, R)]).toEqual(['charge', 'discharge', 'rest', 'rest', 'rest']);
  });
});

describe('splitAtDeadband', () => {
  it('keeps a line on one side whole', () => {
    const s = segmentsOf({ t0: 0, i0: 1, t1: 1000, i1: 2 }, R, false);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ kind: 'charge', ta: 0, ia: 1, tb: 1000, ib: 2 });
  });

  it('cuts a charge → discharge line at both deadband crossings, with the current there', () => {
    // I goes 1 → −1 over 2 s: crosses +0.1 at t = 900 and −0.1 at t = 1100.
    const s = segmentsOf({ t0: 0, i0: 1, t1: 2000, i1: -1 }, R, false);
    expect(s.map((x) => x.kind)).toEqual(['charge', 'rest', 'discharge']);
    expect(s[0]!.tb).toBeCloseTo(900, 9);
    expect(s[0]!.ib).toBeCloseTo(0.1, 12);
    expect(s[1]!.ta).toBe(s[0]!.tb);
    expect(s[1]!.tb).toBeCloseTo(1100, 9);
    expect(s[2]!.ia).toBeCloseTo(-0.1, 12);
    expect(s[2]).toMatchObject({ tb: 2000, ib: -1 });
  });

  it('holds the earlier value across a gap and starts the new value at the later sample', () => {
    const s = segmentsOf({ t0: 0, i0: 1, t1: 600_000, i1: -1 }, R, true);
    expect(s).toEqual([
      { kind: 'charge', ta: 0, ia: 1, tb: 600_000, ib: 1, line: { t0: 0, i0: 1, t1: 600_000, i1: 1 } },
      { kind: 'discharge', ta: 600_000, ia: -1, tb: 600_000, ib: -1, line: { t0: 600_000, i0: -1, t1: 600_000, i1: -1 } },
    ]);
  });

  it('treats equal timestamps as a jump: one zero-length segment of the new kind', () => {
    const s = segmentsOf({ t0: 5, i0: 1, t1: 5, i1: -1 }, R, false);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ kind: 'discharge', ta: 5, tb: 5 });
  });
});

describe('runs', () => {
  const fresh = (): { runs: Runs; step: ReturnType<typeof newRun> } => {
    const step = newRun('charge', newBoundary(0), S, undefined, undefined);
    return { runs: { step, cand: null }, step };
  };

  it('a segment of the step kind stays in the step; another kind opens a candidate at its start', () => {
    const { runs, step } = fresh();
    const stats = { glitches: 0 };
    expect(runFor(runs, step, 'charge', 100, S, NO_CYCLER, stats)).toBe(step);
    const r = runFor(runs, step, 'rest', 200, S, NO_CYCLER, stats);
    expect(stats.glitches).toBe(0);
    expect(r).toBe(runs.cand);
    expect(r.kind).toBe('rest');
    expect(r.start.t).toBe(200);
  });

  it('a candidate interrupted before the minimum duration is merged into the step (a glitch)', () => {
    const { runs, step } = fresh();
    step.q = 1;
    const stats = { glitches: 0 };
    const cand = runFor(runs, step, 'rest', 200, S, NO_CYCLER, stats);
    cand.q = 0.25;
    cand.tEnd = 5_000;
    expect(runFor(runs, step, 'charge', 5_000, S, NO_CYCLER, stats)).toBe(step);
    expect(stats.glitches).toBe(1);
    expect(runs.cand).toBeNull();
    expect(step.q).toBe(1.25);
    expect(step.tEnd).toBe(5_000);
  });

  it('a candidate of a third kind replaces a glitch candidate', () => {
    const { runs, step } = fresh();
    const stats = { glitches: 0 };
    runFor(runs, step, 'rest', 200, S, NO_CYCLER, stats);
    runFor(runs, step, 'discharge', 300, S, NO_CYCLER, stats);
    expect(stats.glitches).toBe(1);
    expect(runs.cand?.kind).toBe('discharge');
    expect(runs.cand?.start.t).toBe(300);
  });

  it('a candidate is confirmed once it has lasted the minimum step duration', () => {
    const { runs, step } = fresh();
    runFor(runs, step, 'rest', 1_000, S, NO_CYCLER, { glitches: 0 });
    expect(confirmedCandidate(runs, 10_999, S)).toBeUndefined();
    expect(confirmedCandidate(runs, 11_000, S)).toBe(runs.cand);
  });
});
