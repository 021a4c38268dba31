import { describe, expect, it } from 'vitest';
import { cellSettings } from '../../support/cell-settings.js';
import { CellProcessor, newOutput } from '../../../src/domain/cell-processor.js';
import type { Reading } from '../../../src/domain/types.js';

const T0 = Date.UTC(2026, 0, 1);
export const SETTINGS = cellSettings();

/** A square-wave cell: charge I for h hours, rest, discharge I for h hours, rest; pressure = P0 + k·(charge stored). */
function squareCell(cycles: number, i_mA: number, hours: number, k_MPa_per_mAh: number): Reading[] {
  const out: Reading[] = [];
  const seg: [number, number][] = [];
  for (let c = 0; c < cycles; c++) seg.push([i_mA, hours * 3600], [0, 600], [-i_mA, hours * 3600], [0, 600]);
  let t = 0;
  let stored = 0;
  for (const [i, dur] of seg) {
    for (let s = 0; s < dur; s++) {
      const ts = T0 + (t + s) * 1000;
      out.push({ cell: 'c1', channel: 'pressure', ts, value: 15 + k_MPa_per_mAh * stored });
      out.push({ cell: 'c1', channel: 'current', ts: ts + 500, value: i });
      stored += (i * 1) / 3600;
    }
    t += dur;
  }
  return out;
}

describe('CellProcessor on a square-wave cell', () => {
  const readings = squareCell(4, 1, 2, 1);
  const p = new CellProcessor(SETTINGS);
  const out = newOutput();
  for (const r of readings) p.process(r, out);
  p.finish(out);

  it('cuts charge, rest, discharge, rest steps with the right capacities', () => {
    const kinds = out.steps.slice(0, 4).map((s) => s.kind);
    expect(kinds).toEqual(['charge', 'rest', 'discharge', 'rest']);
    const ch = out.steps[0]!;
    expect(ch.q_mAh).toBeCloseTo(2, 2);
    expect(ch.dp_MPa).toBeCloseTo(2, 2);
    expect(ch.dpdq_kPa_per_mAh).toBeCloseTo(1000, -1);
    expect(ch.curve!.length).toBeGreaterThan(30);
  });

  it('assembles cycles with Δ(ΔP), Δ(ΔP_Q), CE and drift', () => {
    const complete = out.cycles.filter((c) => c.complete);
    expect(complete.map((c) => c.cycle)).toEqual([1, 2, 3]);
    for (const c of complete) {
      expect(c.qCharge_mAh).toBeCloseTo(2, 2);
      expect(c.qDischarge_mAh).toBeCloseTo(2, 2);
      expect(c.ce).toBeCloseTo(1, 2);
      expect(c.ddp_MPa).toBeCloseTo(2, 2);
      // 2 MPa / (2 mAh / 1000 / 0.0179 g) = 17.9 MPa·g/(A·h)
      expect(c.ddpQ_MPa_g_per_Ah).toBeCloseTo(17.9, 1);
      expect(c.swing_MPa).toBeCloseTo(2, 2);
    }
    expect(complete[1]!.drift_MPa_g_per_Ah).toBe(0);
    expect(complete[2]!.drift_MPa_g_per_Ah).toBeCloseTo(0, 2);
    expect(complete[0]!.drift_MPa_g_per_Ah).toBeUndefined();
    const last = out.cycles[out.cycles.length - 1]!;
    expect(last.complete).toBe(false);
  });
});
