import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cellSettings } from '../support/cell-settings.js';
import { absChargeLinear_mAh } from '../../src/domain/capacity.js';
import { CellProcessor, newOutput } from '../../src/domain/cell-processor.js';
import { ddpQMass_MPa_g_per_Ah } from '../../src/domain/metrics/cycle.js';
import type { Reading, StepRecord, CycleRecord } from '../../src/domain/types.js';
import { type CellIngestSettings } from '../../src/ingest/canonical.js';
import { parseMessage } from '../../src/ingest/payload.js';
import { MOLD_13MM_AREA_MM2, N_PER_KGF } from '../../src/domain/units.js';

const T0 = Date.UTC(2026, 2, 1);
const SETTINGS = cellSettings({ cell: 'p', minStepDuration_ms: 0, currentMaxGap_ms: 1e12, pressureMaxGap_ms: 1e12, dpdqGrid_mAh: 0, maxCurvePoints: 0 });

function runAll(readings: readonly Reading[], s = SETTINGS): { steps: StepRecord[]; cycles: CycleRecord[] } {
  const p = new CellProcessor(s);
  const out = newOutput();
  for (const r of readings) p.process(r, out);
  p.finish(out);
  return out;
}

/** A piecewise-linear current: breakpoints (dt s, I mA). */
const currentProfile = fc.array(fc.tuple(fc.integer({ min: 1, max: 4000 }), fc.double({ min: -5, max: 5, noNaN: true })), { minLength: 2, maxLength: 40 });

describe('capacity', () => {
  it('property: Σ step capacities = the exact ∫|I|dt of a piecewise-linear current, however it is sampled', () => {
    fc.assert(
      fc.property(currentProfile, fc.integer({ min: 1, max: 7 }), (profile, extra) => {
        let t = T0;
        const knots = profile.map(([dt, i]) => ({ t: (t += dt * 1000), i }));
        let exact = 0;
        for (let k = 1; k < knots.length; k++) exact += absChargeLinear_mAh(knots[k - 1]!.t, knots[k - 1]!.i, knots[k]!.t, knots[k]!.i);
        // Sample on the lines: the knots plus `extra` evenly spaced points inside each piece.
        const readings: Reading[] = [];
        for (let k = 0; k < knots.length; k++) {
          const a = knots[k]!;
          readings.push({ cell: 'p', channel: 'current', ts: a.t, value: a.i });
          const b = knots[k + 1];
          if (b === undefined) break;
          for (let j = 1; j <= extra; j++) {
            const f = j / (extra + 1);
            readings.push({ cell: 'p', channel: 'current', ts: a.t + f * (b.t - a.t), value: a.i + f * (b.i - a.i) });
          }
        }
        const { steps } = runAll(readings);
        const total = steps.reduce((s, x) => s + x.q_mAh, 0);
        expect(total).toBeCloseTo(exact, 9);
        for (const s of steps) expect(s.qCharge_mAh + s.qDischarge_mAh).toBeCloseTo(s.q_mAh, 12);
      }),
      { numRuns: 300 },
    );
  });
});

/** A cycling cell as wire payloads: square-wave current at 1 Hz, pressure at `pressureHz` following stored charge. */
function cellMessages(cycles: number, pressureHz: number, unit: 'MPa' | 'kgf'): { topic: string; payload: string }[] {
  const msgs: { topic: string; payload: string }[] = [];
  const I = 0.65; // mA, ~0.3C for 17.9 mg NCM
  const K = 1.1; // MPa per mAh stored
  let stored = 0;
  let t = 0;
  const halves: [number, number][] = [];
  for (let c = 0; c < cycles; c++) halves.push([I, 3 * 3600], [0, 600], [-I, 3 * 3600], [0, 600]);
  for (const [i, dur] of halves) {
    const cur: object[] = [];
    const pre: object[] = [];
    for (let s = 0; s < dur; s++) cur.push({ ts: T0 + (t + s) * 1000, value: i });
    const n = dur * pressureHz;
    for (let k = 0; k < n; k++) {
      const dt_s = k / pressureHz;
      const p = 15 + K * (stored + (i * dt_s) / 3600);
      const value = unit === 'MPa' ? p : (p * MOLD_13MM_AREA_MM2) / N_PER_KGF;
      pre.push({ ts: T0 + (t + dt_s) * 1000, value, unit });
    }
    msgs.push({ topic: 'oep/p/current', payload: JSON.stringify(cur) });
    for (let k = 0; k < pre.length; k += 10_000) msgs.push({ topic: 'oep/p/pressure', payload: JSON.stringify(pre.slice(k, k + 10_000)) });
    stored += (i * dur) / 3600;
    t += dur;
  }
  return msgs;
}

const INGEST: CellIngestSettings = {
  areaMm2: MOLD_13MM_AREA_MM2,
  currentSign: 1,
  defaultPressureUnit: 'MPa',
  defaultCurrentUnit: 'mA',
  defaultVoltageUnit: 'V',
};

function throughEdge(msgs: { topic: string; payload: string }[]): { steps: StepRecord[]; cycles: CycleRecord[] } {
  const parsed = msgs.map((m) => parseMessage(m.topic, m.payload, 0, 'oep', () => INGEST));
  expect(parsed.flatMap((p) => p.rejections)).toEqual([]);
  const readings = parsed.flatMap((p) => p.readings).sort((a, b) => a.ts - b.ts);
  return runAll(readings, { ...SETTINGS, minStepDuration_ms: 10_000, currentMaxGap_ms: 120_000, pressureMaxGap_ms: 30_000 });
}

describe('cycle metrics', () => {
  const mpa = throughEdge(cellMessages(3, 1, 'MPa'));

  it('match the closed form: Δ(ΔP) = K·Q, Δ(ΔP_Q) = Δ(ΔP)/(Q/m)', () => {
    const c = mpa.cycles.filter((x) => x.complete);
    expect(c).toHaveLength(2);
    for (const y of c) {
      expect(y.qCharge_mAh).toBeCloseTo(0.65 * 3, 3);
      expect(y.ddp_MPa).toBeCloseTo(1.1 * 0.65 * 3, 3);
      expect(y.ddpQ_MPa_g_per_Ah).toBeCloseTo(ddpQMass_MPa_g_per_Ah(1.1 * 0.65 * 3, 0.65 * 3, 0.0179)!, 2);
      expect(y.ce).toBeCloseTo(1, 4);
    }
  });

  it('are unchanged when pressure arrives in kgf instead of MPa', () => {
    const kgf = throughEdge(cellMessages(3, 1, 'kgf'));
    expect(kgf.cycles.length).toBe(mpa.cycles.length);
    kgf.cycles.forEach((c, k) => {
      const m = mpa.cycles[k]!;
      expect(c.ddp_MPa!).toBeCloseTo(m.ddp_MPa!, 9);
      expect(c.ddpQ_MPa_g_per_Ah!).toBeCloseTo(m.ddpQ_MPa_g_per_Ah!, 8);
      expect(c.swing_MPa!).toBeCloseTo(m.swing_MPa!, 9);
    });
  });

  it('are unchanged when the pressure sample rate changes (1 Hz → 10 Hz)', () => {
    const fast = throughEdge(cellMessages(3, 10, 'MPa'));
    fast.cycles.forEach((c, k) => {
      const m = mpa.cycles[k]!;
      expect(c.ddp_MPa!).toBeCloseTo(m.ddp_MPa!, 6);
      expect(c.qDischarge_mAh).toBeCloseTo(m.qDischarge_mAh, 9);
    });
  });
});
