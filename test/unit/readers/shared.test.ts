/**
 * What the formats share: content-based detection, the incremental parsers through the format list,
 * rows → readings, and the cell-level helpers (numbers in place, durations, wall clocks).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseWallClockUtc } from '../../../src/readers/common.js';
import { detectFormat } from '../../../src/readers/detect.js';
import { localeNumber, parseDateTime } from '../../../src/readers/fields.js';
import { createParser, type FormatName } from '../../../src/readers/formats.js';
import { RowsToReadings } from '../../../src/readers/readings.js';
import { bytesFieldNumbers, bytesNumber, fieldBounds, numberAt, RepeatCache } from '../../../src/readers/scan.js';
import { ReaderError, type CyclerRow } from '../../../src/readers/types.js';
import { feed, fixture, fixtureUtf8, readerError, realFixture } from './support.js';

describe('format detection (content, not the file name)', () => {
  const head = (s: string): string => s.slice(0, 64 * 1024);
  it.each<[string, FormatName, string]>([
    ['eclab_gcpl_ncm.mpt', 'biologic', 'formats'],
    ['eclab_plain_fr.mpt', 'biologic', 'formats'],
    ['arbin_channel_1.csv', 'arbin', 'formats'],
    ['loadcell_kgf.csv', 'pressure', 'formats'],
    ['pressure_iso_mpa.csv', 'pressure', 'formats'],
    ['cellpy__neware_uio.csv', 'neware', 'cyclers'],
    ['beep__xTESLADIAG_000038.078', 'maccor', 'cyclers'],
  ])('%s → %s', (name, format, dir) => {
    const text = dir === 'formats' ? fixture(name) : realFixture(name);
    expect(detectFormat(head(text.replace(/^\ufeff|^ï»¿/, '')), name)).toBe(format);
  });

  it('an unknown layout names the file and line and lists what was expected', () => {
    const e = readerError(() => detectFormat('\n\nfoo,bar\n1,2\n', 'mystery.csv'));
    expect(e.message).toMatch(/^mystery\.csv:3: expected an EC-Lab \.mpt .* or give --format \(generic takes a column mapping\), got "foo,bar"$/);
    expect(e.line).toBe(3);
    // A generic logger (current and time columns) is not mistaken for a pressure log.
    expect(() => detectFormat(fixtureUtf8('generic_logger.csv'), 'generic_logger.csv')).toThrow(ReaderError);
  });
});

describe('incremental readers', () => {
  it('every format through createParser, chunked at arbitrary line boundaries, equals parseAll', () => {
    const cases: [FormatName, string][] = [
      ['biologic', fixture('eclab_plain_fr.mpt')],
      ['arbin', fixtureUtf8('arbin_channel_1.csv')],
    ];
    for (const [format, text] of cases) {
      const whole = createParser(format, { fileName: 'f' });
      const a = whole.kind === 'cycler' ? feed(whole.parser, text) : [];
      const b = createParser(format, { fileName: 'f' });
      const rows: CyclerRow[] = [];
      if (b.kind === 'cycler') {
        const lines = text.split('\n');
        if (lines[lines.length - 1] === '') lines.pop();
        for (let i = 0; i < lines.length; i += 97)
          lines.slice(i, i + 97).forEach((l, j) => {
            b.parser.line(l, i + j + 1, rows);
          });
        b.parser.end(rows);
      }
      expect(rows).toEqual(a);
      expect(a.length).toBeGreaterThan(500);
    }
  });
});

describe('rows → readings', () => {
  it('a step reading only where the (cycle, step) index changes, before the row’s current and voltage', () => {
    const got: string[] = [];
    const sink = {
      step: (ts: number, s: number, c: number | undefined) => got.push(`${ts} step ${s}/${c}`),
      current: (ts: number, v: number) => got.push(`${ts} current ${v}`),
      voltage: (ts: number, v: number) => got.push(`${ts} voltage ${v}`),
      pressure: () => undefined,
    };
    const c = new RowsToReadings(true);
    c.cycler(
      [
        { ts: 0, current_mA: 0, stepIndex: 1, cycleIndex: 1, line: 2 },
        { ts: 1, current_mA: 0, voltage_V: 3, stepIndex: 1, cycleIndex: 1, line: 3 },
        { ts: 1, current_mA: 1, stepIndex: 2, line: 4 },
      ],
      sink,
    );
    c.cycler([{ ts: 2, current_mA: 1, stepIndex: 2, line: 5 }], sink);
    expect(got).toEqual(['0 step 1/1', '0 current 0', '1 current 0', '1 voltage 3', '1 step 2/undefined', '1 current 1', '2 current 1']);
  });
});

describe('field helpers', () => {
  it('numberAt reads a field in place exactly as Number() does, plus decimal commas; empty is NaN', () => {
    const same = (s: string): boolean => Object.is(numberAt(s, 0, s.length), Number(s));
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => same(String(d))),
      { numRuns: 5_000 },
    );
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 20 }), (d, p) => same(d.toExponential(p))),
      { numRuns: 5_000 },
    );
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 12 }), (d, p) => same(d.toFixed(p))),
      { numRuns: 5_000 },
    );
    expect(numberAt('x\t3,5000000000000000E+001\ty', 2, 25)).toBe(35);
    expect(numberAt('', 0, 0)).toBeNaN();
    expect(numberAt('1.5x', 0, 4)).toBeNaN();
    expect(localeNumber('0,25')).toBe(0.25);
    expect(localeNumber(' ')).toBeNaN();
  });

  it('bytesNumber reads plain ASCII numbers exactly as Number() does, and gives NaN (read it as text) for anything else', () => {
    // Within the fast path the value must be Number()'s to the bit; outside it NaN, never another number.
    const ok = (s: string): boolean => {
      const v = bytesNumber(Buffer.from(`\t${s}\t`, 'latin1'), 1, s.length + 1);
      return Number.isNaN(v) || Object.is(v, Number(s));
    };
    const e16 = (d: number): string => {
      const [m, x] = d.toExponential(15).split('e');
      return `${m ?? ''}E${Number(x) < 0 ? '-' : '+'}${String(Math.abs(Number(x))).padStart(3, '0')}`;
    };
    const doubles = fc.double({ noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(doubles, (d) => ok(String(d)) && ok(e16(d))),
      { numRuns: 10_000 },
    );
    fc.assert(
      fc.property(doubles, fc.integer({ min: 0, max: 20 }), (d, p) => ok(d.toExponential(p))),
      { numRuns: 10_000 },
    );
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 12 }), (d, p) => ok(d.toFixed(p))),
      { numRuns: 10_000 },
    );
    fc.assert(fc.property(fc.stringMatching(/^[-+]?\d{0,20}(\.\d{0,20})?([eE][-+]?\d{1,4})?$/), ok), { numRuns: 10_000 });
    // What the EC-Lab exports hold is read, not sent back as text.
    // Mantissas past 2^53 (2^53 + 1, whose sum of digits rounds; EC-Lab's 16 digits from 9.007199254740992) through Number().
    const exact = ['6.500000000000000E-001', '-6.500000000000000E-001', '0.000000000000000E+000', '12345.0123', '3.6500602', '1', '-0', '.5', '5.'];
    for (const s of [...exact, '9007199254740993', '9.007199254740993E+015', '9.007916666666667E-001', '-9.999999999999999E+000', '12345678901234567890'])
      expect(Object.is(bytesNumber(Buffer.from(s), 0, s.length), Number(s))).toBe(true);
    // A decimal comma, spaces, empty, hexadecimal, words, powers of ten past ±22, over 20 digits past 2^53: text.
    for (const s of ['0,25', ' 1', '1 ', '', '-', '.', '1e', '0x10', 'Infinity', '1e400', '1e-400', '9'.repeat(21), `9.${'9'.repeat(20)}`])
      expect(bytesNumber(Buffer.from(s), 0, s.length)).toBeNaN();
  });

  it('fieldBounds finds the first fields without splitting', () => {
    const s = new Int32Array(8);
    const e = new Int32Array(8);
    expect(fieldBounds('a\tbb\t\tc', '\t', 8, s, e)).toBe(4);
    expect([...s.slice(0, 4)]).toEqual([0, 2, 5, 6]);
    expect([...e.slice(0, 4)]).toEqual([1, 4, 5, 7]);
    expect(fieldBounds('a\tbb\t\tc', '\t', 2, s, e)).toBe(2);
  });

  it('bytesFieldNumbers: the bounds fieldBounds finds and, for the fields asked, the number bytesNumber reads, in one pass', () => {
    // Numbers, words, long fields.
    const long = fc.stringMatching(/^[0-9a-z.]{16,40}$/);
    const field = fc.oneof(fc.stringMatching(/^[-+]?\d{0,18}(\.\d{0,18})?([eE][-+]?\d{1,4})?$/), fc.stringMatching(/^[ 0-9a-z.,+-]{0,6}$/), long);
    fc.assert(
      fc.property(
        fc.array(field, { maxLength: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        (fields, want, pick) => {
          const text = fields.join('\t');
          // At every alignment: the fields start at any byte offset of the buffer.
          const pad = 'x'.repeat((pick[0] ?? 0) % 8);
          const buf = Buffer.from(`${pad}x\t${text}\ty`, 'latin1').subarray(pad.length);
          const [start, end] = [2, 2 + text.length];
          const slots = Int8Array.from(pick, (p, k) => (p % 3 === 0 ? -1 : k));
          const [s, e, bs, be] = [new Int32Array(12), new Int32Array(12), new Int32Array(12), new Int32Array(12)];
          const values = new Float64Array(12).fill(-1);
          const n = bytesFieldNumbers(buf, start, end, want, slots, bs, be, values);
          expect(n).toBe(fieldBounds(text, '\t', want, s, e));
          for (let k = 0; k < n; k++) {
            expect([bs[k], be[k]]).toEqual([(s[k] ?? 0) + start, (e[k] ?? 0) + start]);
            const slot = slots[k] ?? -1;
            if (slot >= 0) expect(Object.is(values[slot], bytesNumber(buf, bs[k] ?? 0, be[k] ?? 0))).toBe(true);
          }
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('bytesFieldNumbers with a RepeatCache: row after row, the numbers it reads without one', () => {
    const field = fc.oneof(
      fc.constantFrom('6.500000000000000E-001', '0', '', '1,5', '-6.5E-1', '9.007916666666667E-001', `1.${'0'.repeat(40)}`),
      fc.stringMatching(/^[0-9.E-]{0,4}$/),
    );
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), { maxLength: 20 }), (rows) => {
        const slots = Int8Array.from([0, 1, 2, 3]);
        const repeat = new RepeatCache([true, true, false, true]);
        const [s, e] = [new Int32Array(4), new Int32Array(4)];
        for (const row of rows) {
          const buf = Buffer.from(`${row.join('\t')}\n${row.join('x')}`, 'latin1');
          const end = row.join('\t').length;
          const [plain, cached] = [new Float64Array(4).fill(-1), new Float64Array(4).fill(-1)];
          expect(bytesFieldNumbers(buf, 0, end, 4, slots, s, e, cached, repeat)).toBe(bytesFieldNumbers(buf, 0, end, 4, slots, s, e, plain));
          expect([...cached]).toEqual([...plain]);
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('parseDateTime: plain wall clocks as UTC, ISO with a zone, European order, spreadsheet day numbers', () => {
    expect(parseDateTime('2024-03-14 09:40:00.5')).toBe(Date.UTC(2024, 2, 14, 9, 40, 0, 500));
    expect(parseDateTime('2024-03-14T09:40:00.000Z')).toBe(Date.UTC(2024, 2, 14, 9, 40));
    expect(parseDateTime('2024-03-14T10:40:00+01:00')).toBe(Date.UTC(2024, 2, 14, 9, 40));
    expect(parseDateTime('14.03.2024 09:40:00')).toBe(Date.UTC(2024, 2, 14, 9, 40));
    expect(parseDateTime('45365.5')).toBe(Date.UTC(2024, 2, 14, 12));
    expect(parseDateTime('yesterday')).toBeNaN();
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
