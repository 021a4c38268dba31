import { describe, expect, it } from 'vitest';
import type { SimCellSpec } from '../../src/sim/cell-spec.js';
import { demoCells } from '../../src/sim/scenarios.js';
import { simulateCells, simulatedSpan_ms } from '../../src/sim/simulator.js';

/** The demo lab at a C-rate, every channel at `hz` (light enough to simulate in full). */
const lab = (n: number, rate_C: number, hz: number): SimCellSpec[] =>
  demoCells(n).map((s) => ({ ...s, rate_C, formationRate_C: rate_C, pressureRate_Hz: hz, currentRate_Hz: hz, voltageRate_Hz: hz }));

/** The last reading's event time, from the start, ms. */
function lastTs(cells: readonly SimCellSpec[], seed: number, cycles: number): number {
  let last = 0;
  for (const r of simulateCells(cells, { startTs: 0, seed, cycles })) last = r.ts;
  return last;
}

describe('simulatedSpan_ms: how far in the past `oep simulate` starts', () => {
  // The rates where the coarse step errs short (1C: -0.3 % before the margin) and long (3C: +3 to +7 %).
  it.each([
    [0.1, 2, 0.05],
    [0.5, 4, 0.2],
    [1, 21, 0.2],
    [3, 6, 0.5],
  ])('covers the last reading at %sC, %i cycles (%s Hz), and is at most 8 percent beyond it', (rate, cycles, hz) => {
    const cells = lab(5, rate, hz);
    const last = lastTs(cells, 7, cycles);
    const span = simulatedSpan_ms(cells, { seed: 7, cycles });
    expect(span).toBeGreaterThanOrEqual(last);
    expect(span).toBeLessThanOrEqual(last * 1.08);
  });

  it('is the longest cell, device clock offsets included', () => {
    const [a] = lab(1, 1, 0.2);
    if (a === undefined) throw new Error('no cell');
    const late = { ...a, id: 'late', cyclerClockOffset_ms: 3_600_000 };
    expect(simulatedSpan_ms([a, late], { seed: 1, cycles: 3 }) - simulatedSpan_ms([a], { seed: 1, cycles: 3 })).toBeGreaterThan(3_000_000);
  });
});
