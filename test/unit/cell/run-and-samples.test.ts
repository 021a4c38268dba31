/** Charge accounting of a run, the pending samples it is given, and boundary pressures. */
import { describe, expect, it } from 'vitest';
import { expireBoundaries, resolveBoundaries } from '../../../src/domain/cell/boundaries.js';
import { attributeSamples, newPendingSamples, pendingState, pushSample } from '../../../src/domain/cell/pending-samples.js';
import { addCharge, kindFromCharge, mergeGlitch, newRun, stepDraft } from '../../../src/domain/cell/run.js';
import { newBoundary, type SampleListener } from '../../../src/domain/cell/types.js';
import { PressureTrack } from '../../../src/domain/pressure-track.js';

const H = 3_600_000;
const CURVE = { dpdqGrid_mAh: 0.5, maxCurvePoints: 100 };

describe('run charge accounting', () => {
  it('counts charge per direction, exactly across a sign change', () => {
    const r = newRun('charge', newBoundary(0), CURVE, undefined, undefined);
    addCharge(r, 0, 2, H, 2); // 2 mAh charge
    addCharge(r, H, 1, 2 * H, -1); // ±0.25 mAh either side of the zero crossing
    expect(r.q).toBeCloseTo(2.5, 12);
    expect(r.qPos).toBeCloseTo(2.25, 12);
    expect(r.qNeg).toBeCloseTo(0.25, 12);
    expect(r.qSigned).toBeCloseTo(2, 12);
    expect(r.tEnd).toBe(2 * H);
  });

  it('merges a glitch: charge adds up, extremes widen, NaN extremes are replaced', () => {
    const s = newRun('charge', newBoundary(0), CURVE, undefined, undefined);
    const g = newRun('rest', newBoundary(10), CURVE, undefined, undefined);
    addCharge(s, 0, 1, H, 1);
    g.pMin = 14;
    g.pMax = 16;
    g.tEnd = 2 * H;
    g.q = 0.1;
    mergeGlitch(s, g);
    expect(s.q).toBeCloseTo(1.1, 12);
    expect([s.pMin, s.pMax, s.tEnd]).toEqual([14, 16, 2 * H]);
    expect(Number.isNaN(s.vMin)).toBe(true);
  });

  it('a cycler step takes the kind of the charge it carried; open and short: too early to say', () => {
    const r = newRun('rest', newBoundary(0), CURVE, 3, 1);
    addCharge(r, 0, -1, 5_000, -1);
    expect(kindFromCharge(r, false, 0.1, 10_000)).toBeUndefined();
    expect(kindFromCharge(r, true, 0.1, 10_000)).toBe('discharge');
    const quiet = newRun('rest', newBoundary(0), CURVE, 4, 1);
    addCharge(quiet, 0, 0.05, H, 0.05);
    expect(kindFromCharge(quiet, true, 0.1, 10_000)).toBe('rest');
  });

  it('drafts a step record with only the fields it knows', () => {
    const start = newBoundary(0);
    const r = newRun('charge', start, { dpdqGrid_mAh: 0, maxCurvePoints: 0 }, undefined, undefined);
    addCharge(r, 0, 1, H, 1);
    const end = newBoundary(H);
    start.p = 15;
    start.resolved = true;
    end.resolved = true; // no pressure at the end
    const d = stepDraft('c', 7, 'charge', r, end);
    const one = expect.closeTo(1, 12) as number;
    expect(d).toEqual({
      cell: 'c',
      step: 7,
      kind: 'charge',
      tStart: 0,
      tEnd: H,
      duration_s: 3600,
      q_mAh: one,
      qCharge_mAh: one,
      qDischarge_mAh: 0,
      iMean_mA: one,
      pStart_MPa: 15,
      pMin_MPa: 15,
      pMax_MPa: 15,
    });
    expect('dp_MPa' in d).toBe(false);
  });
});

describe('pending samples', () => {
  const heard: string[] = [];
  const listener: SampleListener = {
    pressure: () => undefined,
    voltage: (t, v, charging, cycle) => heard.push(`${t}:${v}:${charging}:${cycle}`),
  };

  it('attribute pressure with the run charge at their instant (curve) and voltage to the extremes', () => {
    const r = newRun('charge', newBoundary(0), { dpdqGrid_mAh: 0.4, maxCurvePoints: 100 }, undefined, undefined);
    const q = newPendingSamples();
    pushSample(q, 0, 'pressure', 15);
    pushSample(q, H / 2, 'pressure', 15.5);
    pushSample(q, H / 2, 'voltage', 3.9);
    pushSample(q, H, 'pressure', 16);
    pushSample(q, H + 1, 'pressure', 99); // after the segment: stays pending
    // The current is 1 mA from 0 to H: the run's charge at H/2 is 0.5 mAh.
    attributeSamples(q, H, r, 0, { t0: 0, i0: 1, t1: H, i1: 1 }, 0.1, 3, listener);
    // Pressure 15 → 16 MPa linear in charge 0 → 1 mAh, on a 0.4 mAh grid.
    const c = (x: number): number => expect.closeTo(x, 9) as number;
    expect(r.curve?.points).toEqual([
      [c(0), 15, 0],
      [c(0.4), c(15.4), c(0.4 * H)],
      [c(0.8), c(15.8), c(0.8 * H)],
    ]);
    expect([r.pMin, r.pMax, r.vMin, r.vMax]).toEqual([15, 16, 3.9, 3.9]);
    expect(heard).toEqual([`${H / 2}:3.9:true:3`]);
    expect(pendingState(q).t).toEqual([H + 1]);
  });

  it('a voltage sample already shown to the detectors is not shown again', () => {
    heard.length = 0;
    const r = newRun('charge', newBoundary(0), CURVE, undefined, undefined);
    const q = newPendingSamples();
    pushSample(q, 10, 'voltage-seen', 4);
    attributeSamples(q, Infinity, r, 0, { t0: 0, i0: 1, t1: 0, i1: 1 }, 0.1, 1, listener);
    expect(heard).toEqual([]);
    expect(r.vMax).toBe(4);
  });

  it('a relaxation right after a charge (current below the deadband at the line end) is not charging', () => {
    heard.length = 0;
    const r = newRun('charge', newBoundary(0), CURVE, undefined, undefined);
    const q = newPendingSamples();
    pushSample(q, 500, 'voltage', 4.1);
    attributeSamples(q, 1000, r, 0, { t0: 0, i0: 1, t1: 1000, i1: 0 }, 0.1, 1, listener);
    expect(heard).toEqual(['500:4.1:false:1']);
  });
});

describe('boundary pressures', () => {
  it('wait for a sample after the boundary, then interpolate', () => {
    const track = new PressureTrack(30_000);
    const b = newBoundary(1_500);
    const pending = [b];
    track.add(1_000, 10);
    expect(resolveBoundaries(pending, track, false)).toBe(0);
    expect(pending).toEqual([b]);
    track.add(2_000, 12);
    expect(resolveBoundaries(pending, track, false)).toBe(0);
    expect(b).toEqual({ t: 1_500, p: 11, resolved: true });
    expect(pending).toEqual([]);
  });

  it('are missing (not invented) across a pressure gap, and expire once event time is past them', () => {
    const track = new PressureTrack(30_000);
    track.add(0, 10);
    track.add(60_000, 12);
    const gap = newBoundary(30_000);
    const late = newBoundary(100_000);
    const pending = [gap, late];
    expect(resolveBoundaries(pending, track, false)).toBe(1);
    expect(gap).toEqual({ t: 30_000, p: undefined, resolved: true });
    expect(expireBoundaries(pending, 100_000)).toBe(0);
    expect(expireBoundaries(pending, 100_001)).toBe(1);
    expect(late.resolved && late.p === undefined).toBe(true);
  });

  it('at the end of input take the newest sample when it is close enough', () => {
    const track = new PressureTrack(30_000);
    track.add(0, 10);
    const near = newBoundary(20_000);
    const far = newBoundary(40_000);
    expect(resolveBoundaries([near, far], track, true)).toBe(1);
    expect([near.p, far.p]).toEqual([10, undefined]);
  });
});
