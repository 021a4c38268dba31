/**
 * Maccor text export reader, on the BEEP Maccor export (test/fixtures/cyclers/, see SOURCES.md) and inline variants.
 */
import { describe, expect, it } from 'vitest';
import { createMaccorParser, parseMaccorText } from '../../../src/readers/maccor/parser.js';
import type { CyclerRow } from '../../../src/readers/types.js';
import { compareTrapz, expectAllRows, feed, parseReal, perCycle, readerError, realFixture } from './support.js';

const MACCOR = 'beep__xTESLADIAG_000038.078';

describe('parseMaccorText on the BEEP Maccor export', () => {
  const parsed = parseReal(MACCOR, parseMaccorText);
  const { res } = parsed;

  it('skips the metadata line and parses all 10,714 data rows', () => {
    expectAllRows(parsed, 10714);
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
    const got = perCycle(res.oracle);
    expect(got.size).toBe(24);
    const expected: Record<number, [number, number]> = {
      1: [3.98514, 3.97869],
      10: [3.88237, 3.87603],
      20: [3.78147, 3.77545],
    };
    for (const [cycle, [chg, dchg]] of Object.entries(expected)) {
      const c = got.get(Number(cycle))!;
      expect(Math.abs(c.c / 1000 - chg)).toBeLessThanOrEqual(5e-6);
      expect(Math.abs(c.d / 1000 - dchg)).toBeLessThanOrEqual(5e-6);
    }
    // Cycle 21 jumps back up: the fade is not monotonic.
    expect(got.get(21)!.d).toBeGreaterThan(got.get(20)!.d);
  });

  it('a trapezoid of |I| over each step agrees with the oracle within 0.5 % (2e-5 once the S row is left out)', () => {
    const { worstRel } = compareTrapz(res);
    // SOURCES.md's 0.2 % worst step is cycle 23 step 5 integrated through the 0 A S row.
    expect(worstRel).toBeLessThan(1e-4);
  });
});

const MACCOR_HEADER = ['Rec#', 'Cyc#', 'Step', 'Test (Sec)', 'Step (Sec)', 'Amp-hr', 'Amps', 'Volts', 'State', 'DPt Time'].join('\t');
const maccor = (...rows: string[][]): string =>
  ["Today's Date 08/15/2019  Date of Test:\t08/13/2019", MACCOR_HEADER, ...rows.map((r) => r.join('\t'))].join('\r\n') + '\r\n';

describe('Maccor errors', () => {
  it('no header row, or a header truncated before a needed column', () => {
    expect(() => parseMaccorText("Today's Date 08/15/2019\r\n1\t0\t1\r\n", { fileName: 'm.078' })).toThrow(
      /^m\.078:\d+: expected a tab-separated header row starting with 'Rec#' or 'Rec'/,
    );
    const truncated = 'meta line\r\nRec#\tCyc#\tStep\tTest (Sec)\tStep (Sec)\tAmp-hr\tWatt-hr\tAm\r\n';
    const e = readerError(() => parseMaccorText(truncated, { fileName: 'm.078' }));
    expect(e.message).toMatch(/^m\.078:2: expected a 'Amps' or 'Current \[A\]' or 'mAmps' column in the header/);
  });
  it('a non-numeric current names file, line, column and value', () => {
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
      ['1', '0', '2', '10', '0', '0', '2', '3.9', 'C', '08/13/2019 19:18:03'],
      ['2', '0', '3', '20', '10', '0.01', '-2', '3.8', 'D', '08/13/2019 19:18:13'],
    );
    expect(parseMaccorText(text, { fileName: 'm.078' }).rows.map((r) => r.current_mA)).toEqual([2000, -2000]);
  });

  it("a file that starts mid-step gets a row at that step's start (its step time before the first row), same current", () => {
    const text = maccor(
      ['405649', '86', '63', '1000', '120', '0.27', '7', '4.1', 'C', '11/02/2019 23:28:51'],
      ['405650', '86', '63', '1030', '150', '0.33', '6', '4.1', 'C', '11/02/2019 23:29:21'],
    );
    const { rows, oracle } = parseMaccorText(text, { fileName: 'm.010' });
    const t1 = Date.UTC(2019, 10, 2, 23, 28, 51);
    expect(rows.map((r) => [r.ts - t1, r.current_mA])).toEqual([
      [-120_000, 7000],
      [0, 7000],
      [30_000, 6000],
    ]);
    // The cycler's counter: what it read on the last row (it counted from the step's start).
    expect(oracle[0]).toMatchObject({ kind: 'charge', tStart: t1 - 120_000, qChargeCycler_mAh: 330, qDischargeCycler_mAh: 0 });
  });
});

describe('Maccor incremental', () => {
  it('line by line gives exactly what the whole-text parser gives, oracle included', () => {
    const mc = realFixture(MACCOR);
    const q = createMaccorParser({ fileName: 'm' });
    expect(feed(q, mc)).toEqual(parseMaccorText(mc, { fileName: 'm' }).rows);
    expect(q.oracle).toEqual(parseMaccorText(mc, { fileName: 'm' }).oracle);
  });

  it('auto sign: rows are held until a row tells the convention, then released in order', () => {
    const header = ['Rec#', 'Cyc#', 'Step', 'Test (Sec)', 'Amp-hr', 'Amps', 'State'].join('\t');
    const lines = ['meta', header, '1\t0\t1\t0\t0\t0\tR', '2\t0\t2\t10\t0.01\t2\tC', '3\t0\t3\t20\t0.01\t2\tD', '4\t0\t3\t30\t0.02\t2\tD'];
    const p = createMaccorParser({ fileName: 'm' });
    const out: CyclerRow[] = [];
    lines.slice(0, 4).forEach((l, i) => {
      p.line(l, i + 1, out);
    });
    expect(out).toHaveLength(0);
    expect(p.held).toBe(2);
    p.line(lines[4]!, 5, out);
    expect(p.held).toBe(0);
    expect(out.map((r) => r.current_mA)).toEqual([0, 2000, -2000]);
  });
});
