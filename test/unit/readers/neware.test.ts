/**
 * Neware CSV reader, on the cellpy Neware export (test/fixtures/cyclers/, see SOURCES.md) and inline exports.
 */
import { describe, expect, it } from 'vitest';
import { createNewareParser, parseNewareCsv } from '../../../src/readers/neware/parser.js';
import { compareTrapz, expectAllRows, feed, parseReal, perCycle, readerError, realFixture } from './support.js';

const NEWARE = 'cellpy__neware_uio.csv';

describe('parseNewareCsv on the cellpy Neware export', () => {
  const parsed = parseReal(NEWARE, parseNewareCsv);
  const { res } = parsed;

  // SOURCES.md upstream says 9,064 (wc -l − 1); the file has no final newline, so there are 9,065 (DataPoint 1-9065).
  it('parses all 9,065 data rows, with source line numbers', () => {
    expectAllRows(parsed, 9065);
    expect(res.rows[0]).toEqual({ ts: Date.UTC(2022, 4, 18, 16, 27, 52), current_mA: 0, voltage_V: 2.917, stepIndex: 1, cycleIndex: 1, line: 2 });
    const last = res.rows[res.rows.length - 1]!;
    expect(last.line).toBe(9066);
    // Cumulative Time 144:02:18: hours past 24 (and past 99).
    expect(last.ts - res.rows[0]!.ts).toBe(518_538_000);
    expect(last.current_mA).toBeCloseTo(0.99171, 10);
    expect(last.voltage_V).toBe(0.4251);
  });

  it('keeps equal-timestamp rows in file order and never goes back in time', () => {
    let equal = 0;
    for (let i = 1; i < res.rows.length; i++) {
      const a = res.rows[i - 1]!;
      const b = res.rows[i]!;
      expect(b.line).toBe(a.line + 1);
      expect(b.ts).toBeGreaterThanOrEqual(a.ts);
      if (b.ts === a.ts) equal++;
    }
    expect(equal).toBe(98);
    // Lines 722 (last rest row) and 723 (first discharge row) share the 12:00:00 instant.
    expect(res.rows[720]!.ts).toBe(res.rows[721]!.ts);
    expect([res.rows[720]!.stepIndex, res.rows[721]!.stepIndex]).toEqual([1, 2]);
  });

  it('gives one oracle step per (cycle, step) run; consecutive steps share their boundary instant', () => {
    expect(res.oracle).toHaveLength(32);
    expect(res.oracle.map((s) => s.kind).slice(0, 9)).toEqual(['rest', 'discharge', 'rest', 'discharge', 'rest', 'discharge', 'rest', 'charge', 'rest']);
    for (let k = 1; k < res.oracle.length; k++) expect(res.oracle[k]!.tStart).toBe(res.oracle[k - 1]!.tEnd);
  });

  it('per-cycle oracle sums match the cycler (SOURCES.md)', () => {
    const expected: Record<number, [number, number]> = {
      1: [0.00424934, 0.00508628],
      2: [0.00424668, 0.00436841],
      3: [0.00783477, 0.00797423],
      4: [0.00143796, 0.00331516],
    };
    const got = perCycle(res.oracle);
    expect([...got.keys()]).toEqual([1, 2, 3, 4]);
    for (const [cycle, [chg, dchg]] of Object.entries(expected)) {
      const c = got.get(Number(cycle))!;
      expect(Math.abs(c.c / 1000 - chg)).toBeLessThan(5e-9);
      expect(Math.abs(c.d / 1000 - dchg)).toBeLessThan(5e-9);
    }
  });

  it('a trapezoid of |I| over each step agrees with the oracle within 0.5 % (worst step within 4e-7 Ah)', () => {
    const { worstAbs_mAh } = compareTrapz(res);
    expect(worstAbs_mAh).toBeLessThan(4e-4);
  });
});

const NEWARE_HEADER = 'DataPoint,Cycle Index,Step Index,Step Type,Time,Cumulative Time,Current(A),Voltage(V),Chg. Cap.(Ah),DChg. Cap.(Ah),Date';

describe('Neware errors', () => {
  it('a truncated header names the file, the header line and the missing column', () => {
    const text = 'DataPoint,Cycle Index,Step Index,Step Ty\n1,1,1,Rest';
    const e = readerError(() => parseNewareCsv(text, { fileName: 'cell7.csv' }));
    expect(e.message).toMatch(/^cell7\.csv:1: expected a 'Step Type' column in the header/);
    expect(e).toMatchObject({ fileName: 'cell7.csv', line: 1 });
  });
  it('a non-numeric current names file, line, column and value', () => {
    const text = [
      NEWARE_HEADER,
      '1,1,1,Rest,00:00:00,00:00:00,0,3.1,0,0,2022-05-18 16:27:52',
      '2,1,2,CC Chg,00:00:00,00:00:10,0.5mA,3.2,0,0,2022-05-18 16:28:02',
    ].join('\n');
    const e = readerError(() => parseNewareCsv(text, { fileName: 'cell7.csv' }));
    expect(e.message).toBe(`cell7.csv:3: column 'Current(A)': expected a number, got "0.5mA"`);
    expect(e).toMatchObject({ line: 3, column: 'Current(A)', value: '0.5mA' });
  });
  it('an empty current cell is not a zero', () => {
    const text = [NEWARE_HEADER, '1,1,1,Rest,00:00:00,00:00:00,,3.1,0,0,2022-05-18 16:27:52'].join('\n');
    expect(() => parseNewareCsv(text, { fileName: 'x.csv' })).toThrow(`x.csv:2: column 'Current(A)': expected a number, got ""`);
  });
  it('a bad Cumulative Time and a truncated row are reported', () => {
    const bad = [NEWARE_HEADER, '1,1,1,Rest,00:00:00,00:61:00,0,3.1,0,0,2022-05-18 16:27:52'].join('\n');
    expect(() => parseNewareCsv(bad, { fileName: 'x.csv' })).toThrow(/^x\.csv:2: column 'Cumulative Time': expected an elapsed time .*got "00:61:00"$/);
    const short = [NEWARE_HEADER, '1,1,1,Rest,00:00:00,00:00:00,0'].join('\n');
    expect(() => parseNewareCsv(short, { fileName: 'x.csv' })).toThrow(/^x\.csv:2: expected at least 11 fields \(got 7\)/);
  });
});

describe('Neware incremental', () => {
  it('line by line gives exactly what the whole-text parser gives', () => {
    const nw = realFixture(NEWARE);
    const p = createNewareParser({ fileName: 'n' });
    expect(feed(p, nw)).toEqual(parseNewareCsv(nw, { fileName: 'n' }).rows);
  });
});
