/**
 * Arbin CSV reader, on the synthetic sample export in test/fixtures/formats/ and inline variants.
 */
import { describe, expect, it } from 'vitest';
import { parseArbinCsv } from '../../../src/readers/arbin/parser.js';
import { cycleTruth, FORMAT_TRUTH as T } from '../../support/format-truth.js';
import { fixtureUtf8, perCycle, readerError } from './support.js';

describe('Arbin CSV', () => {
  const res = parseArbinCsv(fixtureUtf8('arbin_channel_1.csv'), { fileName: 'arbin_channel_1.csv' });

  it('reads Test_Time(s) with 15 decimals, signed Current(A), and time zero from Date_Time (BOM tolerated)', () => {
    expect(res.rows[0]).toMatchObject({ line: 2, stepIndex: 1, cycleIndex: 1, current_mA: 0, voltage_V: 3.45 });
    // Date_Time has whole seconds: time zero = 08:00:30 − 30.000509866513465 s.
    expect(res.rows[0]!.ts).toBe(T.arbinStartTs + 30_000);
    expect(res.rows[1]!.ts - res.rows[0]!.ts).toBe(60_000);
    expect(res.rows.find((r) => r.stepIndex === 2)!.current_mA).toBeCloseTo(0.65, 12);
  });

  it('per-step capacities from the per-cycle counters: CC and CV are separate steps; per cycle they match the truth', () => {
    const truth = cycleTruth(T.current_mA);
    expect(res.oracle.slice(0, 6).map((s) => [s.stepIndex, s.kind])).toEqual([
      [1, 'rest'],
      [2, 'charge'],
      [3, 'charge'],
      [4, 'rest'],
      [5, 'discharge'],
      [6, 'rest'],
    ]);
    expect(res.oracle[1]!.capacity_mAh).toBeCloseTo(truth.qCc_mAh, 9);
    expect(res.oracle[2]!.capacity_mAh).toBeCloseTo(truth.qCv_mAh, 9);
    const cycles = perCycle(res.oracle);
    expect([...cycles.keys()]).toEqual([1, 2]);
    for (const c of cycles.values()) {
      expect(c.c).toBeCloseTo(truth.qCharge_mAh, 9);
      expect(c.d).toBeCloseTo(truth.qDischarge_mAh, 9);
    }
  });

  it('accepts the MITS 8 spelling (spaces) and a spreadsheet day number in Date Time', () => {
    const text = [
      'Date Time,Test Time (s),Step Index,Cycle Index,Current (A),Voltage (V)',
      '45383.3333333333,0,1,1,0,3.5',
      '45383.3334490741,10,2,1,0.001,3.6',
    ].join('\n');
    const r = parseArbinCsv(text, { fileName: 'mits8.csv' });
    expect(r.rows.map((x) => x.current_mA)).toEqual([0, 1]);
    expect(Math.abs(r.rows[0]!.ts - Date.UTC(2024, 3, 1, 8))).toBeLessThan(1);
  });

  it('a file without an Arbin header is refused within 50 lines, naming the line', () => {
    const text = Array.from({ length: 60 }, (_, i) => `x${i},y`).join('\n');
    expect(readerError(() => parseArbinCsv(text, { fileName: 'a.csv' })).message).toMatch(/^a\.csv:50: expected an Arbin header/);
  });
});
