/** Cycle assembly: a reducer over step records. */
import { describe, expect, it } from 'vitest';
import { assembleStep, finishCycles, MAX_STEPS_PER_CYCLE, newCycleAssembly, type CycleOutput, type CycleSettings } from '../../../src/domain/cell/cycles.js';
import type { StepDraft } from '../../../src/domain/cell/run.js';
import type { StepKind } from '../../../src/domain/types.js';

const FULL: CycleSettings = { cell: 'c', firstHalf: 'charge', cycleSource: 'derived', normalization: { kind: 'mass', activeMass_g: 0.01 }, refCycle: 2 };
const H = 3_600_000;

/** Steps of 1 h: charge raises the pressure by 1 MPa per mAh, discharge lowers it. */
function draft(seq: number, kind: StepKind, p0: number, extra: Partial<StepDraft> = {}): StepDraft {
  const q = kind === 'rest' ? 0 : 2;
  const p1 = kind === 'charge' ? p0 + q : kind === 'discharge' ? p0 - q * 0.9 : p0;
  return {
    cell: 'c',
    step: seq,
    kind,
    tStart: seq * H,
    tEnd: (seq + 1) * H,
    duration_s: 3600,
    q_mAh: q,
    qCharge_mAh: kind === 'charge' ? q : 0,
    qDischarge_mAh: kind === 'discharge' ? q : 0,
    iMean_mA: kind === 'charge' ? q : kind === 'discharge' ? -q : 0,
    pStart_MPa: p0,
    pEnd_MPa: p1,
    ...extra,
  };
}

function run(kinds: StepKind[], s: CycleSettings, nextKnown = true, extra: (k: number) => Partial<StepDraft> = () => ({})): CycleOutput {
  const a = newCycleAssembly();
  const out: CycleOutput = { steps: [], cycles: [] };
  let p = 15;
  kinds.forEach((k, i) => {
    const d = draft(i + 1, k, p, extra(i));
    p = d.pEnd_MPa ?? p;
    assembleStep(a, d, nextKnown ? kinds[i + 1] : undefined, s, out);
  });
  finishCycles(a, s, out);
  return out;
}

describe('cycle assembly', () => {
  it('numbers cycles from the first charge, puts rests where they sit and earlier steps in cycle 0', () => {
    const out = run(['rest', 'discharge', 'charge', 'rest', 'discharge', 'rest', 'charge', 'discharge'], FULL);
    expect(out.steps.map((x) => x.cycle)).toEqual([0, 0, 1, 1, 1, 1, 2, 2]);
    expect(out.cycles.map((c) => [c.cycle, c.steps, c.complete])).toEqual([
      [1, 4, true],
      [2, 2, false],
    ]);
    expect(out.cycles[0]?.qCharge_mAh).toBe(2);
    expect(out.cycles[0]?.ce).toBe(1);
  });

  it('closes a cycle where the next one starts when the next kind is known, else one step later, with the same records', () => {
    const kinds: StepKind[] = ['charge', 'discharge', 'charge', 'discharge', 'charge'];
    const early = run(kinds, FULL, true);
    const late = run(kinds, FULL, false);
    expect(early.cycles).toEqual(late.cycles);
  });

  it('sets drift 0 at the reference cycle and measures later cycles against it', () => {
    const out = run(['charge', 'discharge', 'charge', 'discharge', 'charge', 'discharge', 'charge'], FULL);
    const [c1, c2, c3] = out.cycles;
    expect(c1?.drift_MPa_g_per_Ah).toBeUndefined();
    expect(c2?.drift_MPa_g_per_Ah).toBe(0);
    // Δ(ΔP) = 2 − 0.2 = 1.8 MPa... each cycle the same: drift 0 again.
    expect(c3?.drift_MPa_g_per_Ah).toBeCloseTo(0, 12);
    expect(c2?.ddpQ_MPa_g_per_Ah).toBeCloseTo(1.8 / (2 / 1000 / 0.01), 9);
  });

  it('with firstHalf discharge (a Li|Li or anode-free cell) a cycle starts at a discharge', () => {
    const out = run(['charge', 'discharge', 'charge', 'discharge', 'charge'], { ...FULL, firstHalf: 'discharge' });
    expect(out.steps.map((x) => x.cycle)).toEqual([0, 1, 1, 2, 2]);
  });

  it("with cycleSource cycler the cycler's own index decides, whatever the kinds", () => {
    const idx = [7, 7, 7, 8, 8];
    const out = run(['charge', 'discharge', 'charge', 'charge', 'discharge'], { ...FULL, cycleSource: 'cycler' }, true, (k) => ({ cyclerCycle: idx[k] }));
    expect(out.steps.map((x) => x.cycle)).toEqual([1, 1, 1, 2, 2]);
    expect(out.cycles.map((c) => [c.cycle, c.steps, c.complete])).toEqual([
      [1, 3, true],
      [2, 2, false],
    ]);
  });

  it("auto: the cycler's index when it varies (the record carries it), derived cycles when it stays the same or is absent", () => {
    const AUTO: CycleSettings = { ...FULL, cycleSource: 'auto' };
    const kinds: StepKind[] = ['discharge', 'charge', 'discharge', 'charge', 'discharge', 'charge', 'discharge'];
    // The index varies (0, then 1 for many cycles, like a Maccor export's Cyc#): one cycle per index value.
    const varies = run(kinds, AUTO, true, (k) => ({ cyclerCycle: k === 0 ? 0 : 1 }));
    expect(varies.cycles.map((c) => [c.cycle, c.cyclerCycle, c.steps])).toEqual([
      [1, 0, 1],
      [2, 1, 6],
    ]);
    // One index throughout: it does not count cycles, so they are derived (and carry no cycler index).
    const same = run(kinds, AUTO, true, () => ({ cyclerCycle: 0 }));
    expect(same).toEqual(run(kinds, FULL, true, () => ({ cyclerCycle: 0 })));
    expect(same.cycles.map((c) => [c.cycle, c.cyclerCycle])).toEqual([
      [1, undefined],
      [2, undefined],
      [3, undefined],
    ]);
    // No index at all: derived.
    expect(run(kinds, AUTO)).toEqual(run(kinds, FULL));
  });

  it('closes a runaway cycle as incomplete after MAX_STEPS_PER_CYCLE steps', () => {
    const kinds: StepKind[] = ['charge', ...Array<StepKind>(MAX_STEPS_PER_CYCLE + 5).fill('rest')];
    const out = run(kinds, FULL);
    expect(out.cycles[0]).toMatchObject({ cycle: 1, steps: MAX_STEPS_PER_CYCLE, complete: false });
    // What follows goes to the next cycle number: never two records for one (cell, cycle).
    expect(out.cycles.map((c) => [c.cycle, c.steps, c.complete])).toEqual([
      [1, MAX_STEPS_PER_CYCLE, false],
      [2, 6, false],
    ]);
  });
});
