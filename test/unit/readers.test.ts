import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseWallClockUtc } from '../../src/readers/common.js';
import { parseMaccorText } from '../../src/readers/maccor/parser.js';
import { parseNewareCsv } from '../../src/readers/neware/parser.js';
import { ReaderError, type CyclerParseResult, type CyclerRow, type CyclerStepOracle } from '../../src/readers/types.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/cyclers/${name}`, import.meta.url), 'latin1');

const NEWARE = 'cellpy__neware_uio.csv';
const MACCOR = 'beep__xTESLADIAG_000038.078';

/** ∫|I| dt by the trapezoid rule over rows in file order, mAh. */
function trapzAbs_mAh(rows: readonly CyclerRow[]): number {
  let q = 0;
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1]!;
    const b = rows[i]!;
    q += ((Math.abs(a.current_mA) + Math.abs(b.current_mA)) / 2) * (b.ts - a.ts);
  }
  return q / 3_600_000;
}

/** Maximal runs of rows with equal (cycleIndex, stepIndex), in file order. */
function runs(rows: readonly CyclerRow[]): CyclerRow[][] {
  const out: CyclerRow[][] = [];
  let cur: CyclerRow[] | undefined;
  for (const r of rows) {
    const last = cur?.[cur.length - 1];
    if (cur === undefined || last === undefined || last.cycleIndex !== r.cycleIndex || last.stepIndex !== r.stepIndex) {
      cur = [];
      out.push(cur);
    }
    cur.push(r);
  }
  return out;
}

/** Per-cycle (charge, discharge) sums of the oracle, Ah. */
function perCycleAh(oracle: readonly CyclerStepOracle[]): Map<number, { chg: number; dchg: number }> {
  const m = new Map<number, { chg: number; dchg: number }>();
  for (const s of oracle) {
    const c = m.get(s.cycleIndex) ?? { chg: 0, dchg: 0 };
    if (s.kind === 'charge') c.chg += s.capacity_mAh / 1000;
    if (s.kind === 'discharge') c.dchg += s.capacity_mAh / 1000;
    m.set(s.cycleIndex, c);
  }
  return m;
}

/** Every oracle step against a trapezoid over its own rows (up to tEnd); returns the worst errors. */
function compareTrapz(res: CyclerParseResult): { worstAbs_mAh: number; worstRel: number } {
  const rs = runs(res.rows);
  expect(rs.length).toBe(res.oracle.length);
  let worstAbs_mAh = 0;
  let worstRel = 0;
  res.oracle.forEach((s, k) => {
    const run = rs[k]!;
    expect([run[0]!.cycleIndex, run[0]!.stepIndex]).toEqual([s.cycleIndex, s.stepIndex]);
    const q = trapzAbs_mAh(run.filter((r) => r.ts <= s.tEnd));
    const abs = Math.abs(q - s.capacity_mAh);
    worstAbs_mAh = Math.max(worstAbs_mAh, abs);
    if (s.kind === 'rest') {
      expect(abs).toBeLessThan(1e-9);
    } else {
      const rel = abs / s.capacity_mAh;
      worstRel = Math.max(worstRel, rel);
      expect(rel, `cycle ${s.cycleIndex} step ${s.stepIndex}: trapz ${q} vs oracle ${s.capacity_mAh} mAh`).toBeLessThan(0.005);
    }
  });
  return { worstAbs_mAh, worstRel };
}

function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

describe('parseNewareCsv on the cellpy Neware export', () => {
  const text = fixture(NEWARE);
  const { value: res, ms } = timed(() => parseNewareCsv(text, { fileName: NEWARE }));

  // SOURCES.md upstream says 9,064 (wc -l − 1); the file has no final newline, so there are 9,065 (DataPoint 1-9065).
  it('parses all 9,065 data rows quickly, with source line numbers', () => {
    expect(res.rows).toHaveLength(9065);
    expect(ms).toBeLessThan(1000);
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
    const got = perCycleAh(res.oracle);
    expect([...got.keys()]).toEqual([1, 2, 3, 4]);
    for (const [cycle, [chg, dchg]] of Object.entries(expected)) {
      const c = got.get(Number(cycle))!;
      expect(Math.abs(c.chg - chg)).toBeLessThan(5e-9);
      expect(Math.abs(c.dchg - dchg)).toBeLessThan(5e-9);
    }
  });

  it('a trapezoid of |I| over each step agrees with the oracle within 0.5 % (worst step within 4e-7 Ah)', () => {
    const { worstAbs_mAh } = compareTrapz(res);
    expect(worstAbs_mAh).toBeLessThan(4e-4);
  });
});

describe('parseMaccorText on the BEEP Maccor export', () => {
  const text = fixture(MACCOR);
  const { value: res, ms } = timed(() => parseMaccorText(text, { fileName: MACCOR }));

  it('skips the metadata line and parses all 10,714 data rows quickly', () => {
    expect(res.rows).toHaveLength(10714);
    expect(ms).toBeLessThan(1000);
    const t0 = Date.UTC(2019, 7, 13, 19, 17, 53);
    expect(res.rows[0]).toEqual({ ts: t0, current_mA: 0, voltage_V: 3.45807584, stepIndex: 1, cycleIndex: 0, line: 3 });
    expect(res.rows[2]!.ts).toBe(t0 + 5030);
    expect(res.rows[2]!.current_mA).toBeCloseTo(4704.7379263, 6);
  });

  it('reads Amps as signed (+ charge): the export has negative discharge current', () => {
    const dis = res.rows.find((r) => r.cycleIndex === 1 && r.stepIndex === 5)!;
    expect(dis.current_mA).toBeLessThan(-4000);
  });

  it('keeps the final S (stopped) row as a row but not in the oracle', () => {
    const last = res.rows[res.rows.length - 1]!;
    expect(last).toMatchObject({ line: 10716, cycleIndex: 23, stepIndex: 5, current_mA: 0 });
    const lastStep = res.oracle[res.oracle.length - 1]!;
    expect(lastStep).toMatchObject({ cycleIndex: 23, stepIndex: 5, kind: 'discharge' });
    expect(lastStep.capacity_mAh).toBeCloseTo(2228.5093601, 6); // the last D row, not the S row's 2237.6 mAh
    expect(lastStep.tEnd).toBe(res.rows[res.rows.length - 2]!.ts);
  });

  it('gives 72 oracle steps; a step starts at the previous row (Test − Step on its first row)', () => {
    expect(res.oracle).toHaveLength(72);
    expect(res.oracle[1]).toMatchObject({ cycleIndex: 0, stepIndex: 4, kind: 'charge', tStart: res.rows[1]!.ts });
    for (let k = 1; k < res.oracle.length; k++) expect(res.oracle[k]!.tStart).toBe(res.oracle[k - 1]!.tEnd);
  });

  it('per-cycle oracle sums match the cycler (SOURCES.md)', () => {
    const got = perCycleAh(res.oracle);
    expect(got.size).toBe(24);
    const expected: Record<number, [number, number]> = {
      1: [3.98514, 3.97869],
      10: [3.88237, 3.87603],
      20: [3.78147, 3.77545],
    };
    for (const [cycle, [chg, dchg]] of Object.entries(expected)) {
      const c = got.get(Number(cycle))!;
      expect(Math.abs(c.chg - chg)).toBeLessThanOrEqual(5e-6);
      expect(Math.abs(c.dchg - dchg)).toBeLessThanOrEqual(5e-6);
    }
    // Cycle 21 jumps back up: the fade is not monotonic.
    expect(got.get(21)!.dchg).toBeGreaterThan(got.get(20)!.dchg);
  });

  it('a trapezoid of |I| over each step agrees with the oracle within 0.5 % (2e-5 once the S row is left out)', () => {
    const { worstRel } = compareTrapz(res);
    // SOURCES.md's 0.2 % worst step is cycle 23 step 5 integrated through the 0 A S row.
    expect(worstRel).toBeLessThan(1e-4);
  });
});

// ---- Small inline exports -------------------------------------------------------------------

const NEWARE_HEADER = 'DataPoint,Cycle Index,Step Index,Step Type,Time,Cumulative Time,Current(A),Voltage(V),Chg. Cap.(Ah),DChg. Cap.(Ah),Date';

const MACCOR_HEADER = ['Rec#', 'Cyc#', 'Step', 'Test (Sec)', 'Step (Sec)', 'Amp-hr', 'Amps', 'Volts', 'State', 'DPt Time'].join('\t');
const maccor = (...rows: string[][]): string =>
  ["Today's Date 08/15/2019  Date of Test:\t08/13/2019", MACCOR_HEADER, ...rows.map((r) => r.join('\t'))].join('\r\n') + '\r\n';

function readerError(f: () => unknown): ReaderError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ReaderError);
    return e as ReaderError;
  }
  throw new Error('expected a ReaderError');
}

describe('reader errors', () => {
  it('Neware: a truncated header names the file, the header line and the missing column', () => {
    const text = 'DataPoint,Cycle Index,Step Index,Step Ty\n1,1,1,Rest';
    const e = readerError(() => parseNewareCsv(text, { fileName: 'cell7.csv' }));
    expect(e.message).toMatch(/^cell7\.csv:1: expected a 'Step Type' column in the header/);
    expect(e).toMatchObject({ fileName: 'cell7.csv', line: 1 });
  });

  it('Neware: a non-numeric current names file, line, column and value', () => {
    const text = [
      NEWARE_HEADER,
      '1,1,1,Rest,00:00:00,00:00:00,0,3.1,0,0,2022-05-18 16:27:52',
      '2,1,2,CC Chg,00:00:00,00:00:10,0.5mA,3.2,0,0,2022-05-18 16:28:02',
    ].join('\n');
    const e = readerError(() => parseNewareCsv(text, { fileName: 'cell7.csv' }));
    expect(e.message).toBe(`cell7.csv:3: column 'Current(A)': expected a number, got "0.5mA"`);
    expect(e).toMatchObject({ line: 3, column: 'Current(A)', value: '0.5mA' });
  });

  it('Neware: an empty current cell is not a zero', () => {
    const text = [NEWARE_HEADER, '1,1,1,Rest,00:00:00,00:00:00,,3.1,0,0,2022-05-18 16:27:52'].join('\n');
    expect(() => parseNewareCsv(text, { fileName: 'x.csv' })).toThrow(`x.csv:2: column 'Current(A)': expected a number, got ""`);
  });

  it('Neware: a bad Cumulative Time and a truncated row are reported', () => {
    const bad = [NEWARE_HEADER, '1,1,1,Rest,00:00:00,00:61:00,0,3.1,0,0,2022-05-18 16:27:52'].join('\n');
    expect(() => parseNewareCsv(bad, { fileName: 'x.csv' })).toThrow(/^x\.csv:2: column 'Cumulative Time': expected an elapsed time .*got "00:61:00"$/);
    const short = [NEWARE_HEADER, '1,1,1,Rest,00:00:00,00:00:00,0'].join('\n');
    expect(() => parseNewareCsv(short, { fileName: 'x.csv' })).toThrow(/^x\.csv:2: expected at least 11 fields \(got 7\)/);
  });

  it('Maccor: no header row, or a header truncated before a needed column', () => {
    expect(() => parseMaccorText("Today's Date 08/15/2019\r\n1\t0\t1\r\n", { fileName: 'm.078' })).toThrow(
      /^m\.078:\d+: expected a tab-separated header row with a 'Rec#' column/,
    );
    const truncated = 'meta line\r\nRec#\tCyc#\tStep\tTest (Sec)\tStep (Sec)\tAmp-hr\tWatt-hr\tAm\r\n';
    const e = readerError(() => parseMaccorText(truncated, { fileName: 'm.078' }));
    expect(e.message).toMatch(/^m\.078:2: expected a 'Amps' column in the header/);
  });

  it('Maccor: a non-numeric current names file, line, column and value', () => {
    const text = maccor(
      ['1', '0', '1', '0', '0', '0', '0', '3.4', 'R', '08/13/2019 19:17:53'],
      ['2', '0', '4', '5', '0', '0', 'n/a', '3.5', 'C', '08/13/2019 19:17:58'],
    );
    const e = readerError(() => parseMaccorText(text, { fileName: 'm.078' }));
    expect(e.message).toBe(`m.078:4: column 'Amps': expected a number, got "n/a"`);
  });
});

describe('Maccor variants', () => {
  it('accepts Nd HH:MM:SS.sss times (seconds not zero-padded) alongside plain seconds', () => {
    const text = maccor(
      ['1', '0', '1', '0d 0:00:00', '0d 0:00:00', '0', '0', '3.4', 'R', '08/13/2019 19:17:53'],
      ['2', '0', '2', '1d 2:03:04.5', '1d 2:03:04.5', '0.1', '1.5', '3.5', 'C', '08/14/2019 21:20:57'],
      ['3', '0', '2', '93790.5', '93790.5', '0.2', '1.5', '3.6', 'C', '08/14/2019 21:21:03'],
    );
    const res = parseMaccorText(text, { fileName: 'm.078', startTs: 1_000_000 });
    expect(res.rows.map((r) => r.ts)).toEqual([1_000_000, 1_000_000 + 93_784_500, 1_000_000 + 93_790_500]);
    expect(res.oracle[1]).toMatchObject({ stepIndex: 2, kind: 'charge', tStart: 1_000_000, tEnd: 1_000_000 + 93_790_500 });
    expect(res.oracle[1]!.capacity_mAh).toBeCloseTo(200, 9);
  });

  it('takes the sign from State when Amps is unsigned (D rows present, no negative current)', () => {
    const text = maccor(
      ['1', '0', '1', '0', '0', '0', '0', '3.4', 'R', '08/13/2019 19:17:53'],
      ['2', '0', '2', '10', '10', '0.01', '2', '3.9', 'C', '08/13/2019 19:18:03'],
      ['3', '0', '2', '20', '20', '0.02', '2', '4.0', 'C', '08/13/2019 19:18:13'],
      ['4', '0', '3', '30', '10', '0.01', '2', '3.8', 'D', '08/13/2019 19:18:23'],
      ['5', '0', '3', '40', '20', '0.02', '2', '3.7', 'D', '08/13/2019 19:18:33'],
      ['6', '0', '3', '45', '25', '0.025', '0', '3.7', 'S', '08/13/2019 19:18:38'],
    );
    const res = parseMaccorText(text, { fileName: 'm.078' });
    expect(res.rows.map((r) => r.current_mA)).toEqual([0, 2000, 2000, -2000, -2000, 0]);
    expect(res.rows[0]!.ts).toBe(Date.UTC(2019, 7, 13, 19, 17, 53));
    expect(res.oracle.map((s) => [s.stepIndex, s.kind, s.capacity_mAh])).toEqual([
      [1, 'rest', 0],
      [2, 'charge', 20],
      [3, 'discharge', 20],
    ]);
    // The explicit setting wins over the detection.
    const raw = parseMaccorText(text, { fileName: 'm.078', currentSign: 'signed' });
    expect(raw.rows.map((r) => r.current_mA)).toEqual([0, 2000, 2000, 2000, 2000, 0]);
  });

  it('leaves a signed export alone', () => {
    const text = maccor(
      ['1', '0', '2', '10', '10', '0.01', '2', '3.9', 'C', '08/13/2019 19:18:03'],
      ['2', '0', '3', '20', '10', '0.01', '-2', '3.8', 'D', '08/13/2019 19:18:13'],
    );
    expect(parseMaccorText(text, { fileName: 'm.078' }).rows.map((r) => r.current_mA)).toEqual([2000, -2000]);
  });
});

describe('time helpers', () => {
  it('parseDuration accepts seconds, H:MM:SS with long hours, and Nd H:MM:SS.sss', () => {
    expect(parseDuration('161804.3200')).toBe(161804.32);
    expect(parseDuration('144:01:18')).toBe(518_478);
    expect(parseDuration('00:00:00')).toBe(0);
    expect(parseDuration('1d 2:03:04.5')).toBe(93_784.5);
    expect(parseDuration('3d 23:59:59.999')).toBeCloseTo(3 * 86_400 + 86_399.999, 9);
    for (const bad of ['', 'abc', '1:60:00', '1:00:60', '1d 24:00:00', 'd 1:00:00', '1d', '1:2:3:4', '-1:00:00']) {
      expect(parseDuration(bad), bad).toBeNaN();
    }
  });

  it('parseWallClockUtc reads Neware and Maccor wall clocks as UTC', () => {
    expect(parseWallClockUtc('2022-05-18 16:27:52')).toBe(Date.UTC(2022, 4, 18, 16, 27, 52));
    expect(parseWallClockUtc('08/13/2019 19:17:53')).toBe(Date.UTC(2019, 7, 13, 19, 17, 53));
    expect(parseWallClockUtc('8/13/2019 7:17:53 PM')).toBe(Date.UTC(2019, 7, 13, 19, 17, 53));
    expect(parseWallClockUtc('02/31/2019 10:00:00')).toBeNaN();
    expect(parseWallClockUtc('yesterday')).toBeNaN();
  });
});
