/** The cycler's counters joined to oep's step and cycle records, and `capacitySource: cycler`. */
import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../../../src/domain/lab.js';
import type { CycleRecord, StepRecord } from '../../../src/domain/types.js';
import { CyclerCounterJoin } from '../../../src/readers/cycler-counters.js';
import type { CyclerStepOracle } from '../../../src/readers/types.js';

const step = (n: number, kind: StepRecord['kind'], q: number, cyclerStep: number): StepRecord => ({
  cell: 'c',
  cycle: 1,
  step: n,
  kind,
  tStart: n,
  tEnd: n + 1,
  duration_s: 1,
  q_mAh: q,
  qCharge_mAh: kind === 'charge' ? q : 0,
  qDischarge_mAh: kind === 'discharge' ? q : 0,
  iMean_mA: 0,
  cyclerStep,
  cyclerCycle: 0,
});
const oracle = (stepIndex: number, c: number, d: number): CyclerStepOracle => ({
  cycleIndex: 0,
  stepIndex,
  kind: c > 0 ? 'charge' : 'discharge',
  capacity_mAh: c + d,
  tStart: 0,
  tEnd: 0,
  qChargeCycler_mAh: c,
  qDischargeCycler_mAh: d,
});
const cycle: CycleRecord = {
  cell: 'c',
  cycle: 1,
  tStart: 1,
  tEnd: 3,
  duration_s: 2,
  steps: 2,
  qCharge_mAh: 10,
  qDischarge_mAh: 9,
  ce: 0.9,
  ddp_MPa: 1.8,
  ddpQ_MPa_g_per_Ah: 2,
  drift_MPa_g_per_Ah: 0,
  qDischarge_mAh_g: 900,
  complete: true,
};
const events: LabEvent[] = [
  { type: 'step', record: step(1, 'charge', 10, 4) },
  { type: 'step', record: step(2, 'discharge', 9, 5) },
  { type: 'cycle', record: cycle },
];

describe('CyclerCounterJoin', () => {
  it("puts the cycler's counters beside oep's integral, sums them per cycle, and warns beyond 2 %", () => {
    const j = new CyclerCounterJoin([oracle(4, 10.1, 0), oracle(5, 0, 10)]);
    const out = j.events(events);
    expect(out.map((e) => (e.type === 'step' || e.type === 'cycle' ? [e.record.qChargeCycler_mAh, e.record.qDischargeCycler_mAh] : []))).toEqual([
      [10.1, 0],
      [0, 10],
      [10.1, 10],
    ]);
    // 10 vs 10.1: 1 %, no warning; 9 vs 10: 10 %, one.
    expect(j.warningCount).toBe(1);
    expect(j.warnings[0]).toMatch(/^step 2 \(cycler cycle 0, step 5\): .* 10\.0 % apart/);
    // Δ(ΔP_Q) stays oep's by default.
    expect(out[2]).toMatchObject({ type: 'cycle', record: { ddpQ_MPa_g_per_Ah: 2, ce: 0.9 } });
  });

  it("capacitySource cycler: Δ(ΔP_Q), CE, specific capacity and drift from the cycler's discharge counter", () => {
    const out = new CyclerCounterJoin([oracle(4, 10, 0), oracle(5, 0, 10)], 'cycler').events(events);
    const c = out[2]?.type === 'cycle' ? out[2].record : undefined;
    // Δ(ΔP_Q) ∝ 1/Q_discharge: 2 × 9/10.
    expect(c?.ddpQ_MPa_g_per_Ah).toBeCloseTo(1.8, 12);
    expect(c?.ce).toBe(1);
    expect(c?.qDischarge_mAh_g).toBeCloseTo(1000, 9);
    expect(c?.drift_MPa_g_per_Ah).toBe(0);
  });

  it('a step without counters (no matching cycler step) leaves its cycle without sums', () => {
    const out = new CyclerCounterJoin([oracle(4, 10, 0)]).events(events);
    expect(out[1]?.type === 'step' ? out[1].record.qDischargeCycler_mAh : 'x').toBeUndefined();
    expect(out[2]?.type === 'cycle' ? out[2].record.qChargeCycler_mAh : 'x').toBeUndefined();
  });
});
