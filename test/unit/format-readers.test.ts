/**
 * The readers added for offline processing (EC-Lab .mpt, Arbin CSV, generic CSV, load-cell logs), on the
 * synthetic sample exports in test/fixtures/formats/ (quirks as the real programs write them; see the
 * README there), content-based format detection, and the incremental form of every reader.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mappingFrom } from '../../src/commands/reader-options.js';
import { parseArbinCsv } from '../../src/readers/arbin/parser.js';
import { parseAcquisitionStart, parseBiologicMpt } from '../../src/readers/biologic/parser.js';
import { detectFormat } from '../../src/readers/detect.js';
import { localeNumber, parseDateTime } from '../../src/readers/fields.js';
import { createParser, type FormatName } from '../../src/readers/formats.js';
import { parseGenericMapping } from '../../src/readers/generic/mapping.js';
import { parseGenericCsv } from '../../src/readers/generic/parser.js';
import { createMaccorParser, parseMaccorText } from '../../src/readers/maccor/parser.js';
import { createNewareParser, parseNewareCsv } from '../../src/readers/neware/parser.js';
import { parsePressureLog } from '../../src/readers/pressure-log/parser.js';
import { RowsToReadings } from '../../src/readers/readings.js';
import { fieldBounds, numberAt } from '../../src/readers/scan.js';
import type { CyclerRowParser } from '../../src/readers/stream.js';
import { ReaderError, type CyclerRow, type CyclerStepOracle } from '../../src/readers/types.js';
import { cycleTruth, ECLAB_PROFILE_START_TS, FORMAT_TRUTH as T } from '../support/format-truth.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/formats/${name}`, import.meta.url), 'latin1');
const fixtureUtf8 = (name: string): string => readFileSync(new URL(`../fixtures/formats/${name}`, import.meta.url), 'utf8');
const realFixture = (name: string): string => readFileSync(new URL(`../fixtures/cyclers/${name}`, import.meta.url), 'latin1');

function readerError(f: () => unknown): ReaderError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ReaderError);
    return e as ReaderError;
  }
  throw new Error('expected a ReaderError');
}

/** ∫|I| dt over rows (trapezoid), mAh. */
function trapz(rows: readonly CyclerRow[]): number {
  let q = 0;
  for (let i = 1; i < rows.length; i++) q += ((Math.abs(rows[i - 1]!.current_mA) + Math.abs(rows[i]!.current_mA)) / 2) * (rows[i]!.ts - rows[i - 1]!.ts);
  return q / 3_600_000;
}

function perCycle(oracle: readonly CyclerStepOracle[]): Map<number, { c: number; d: number }> {
  const m = new Map<number, { c: number; d: number }>();
  for (const s of oracle) {
    const e = m.get(s.cycleIndex) ?? { c: 0, d: 0 };
    if (s.kind === 'charge') e.c += s.capacity_mAh;
    if (s.kind === 'discharge') e.d += s.capacity_mAh;
    m.set(s.cycleIndex, e);
  }
  return m;
}

describe('BioLogic EC-Lab .mpt', () => {
  const full = parseBiologicMpt(fixture('eclab_gcpl_ncm.mpt'), { fileName: 'eclab_gcpl_ncm.mpt' });
  const truth = cycleTruth(T.current_mA);

  it('finds the column row on line N of "Nb header lines : N" and takes time zero from "Acquisition started on"', () => {
    expect(full.rows[0]).toMatchObject({ line: 53, current_mA: 0, voltage_V: 3.45, cycleIndex: 0, stepIndex: 1 });
    // time/s starts at 3600.0123 s (a linked technique ran first): ts = acquisition + time/s.
    expect(full.rows[0]!.ts).toBe(ECLAB_PROFILE_START_TS);
    expect(parseAcquisitionStart('03/14/2024 09:41:07.512')).toBe(T.eclabAcquisitionTs);
    // A European Windows locale writes day first.
    expect(parseAcquisitionStart('14/03/2024 09:41:07,512')).toBe(T.eclabAcquisitionTs);
  });

  it('reads <I>/mA in E-notation, a CV hold stays in the charge step, rests are steps of their own', () => {
    const charge = full.rows.filter((r) => r.current_mA > 0.6);
    expect(charge.length).toBeGreaterThan(100);
    expect(charge[0]!.current_mA).toBe(0.65);
    expect(full.oracle.slice(0, 6).map((s) => s.kind)).toEqual(['rest', 'charge', 'rest', 'discharge', 'rest', 'charge']);
    // CC and CV (mode 1 and 2) of one half cycle are one step: its capacity is CC + CV.
    expect(full.oracle[1]!.capacity_mAh).toBeCloseTo(truth.qCharge_mAh, 9);
    expect(full.oracle[3]!.capacity_mAh).toBeCloseTo(truth.qDischarge_mAh, 9);
    expect(full.oracle[2]!.capacity_mAh).toBe(0);
  });

  it('the oracle (Q charge/discharge) agrees with a trapezoid over each step within 0.5 %, and per cycle with the truth', () => {
    for (const s of full.oracle.filter((o) => o.kind !== 'rest')) {
      const rows = full.rows.filter((r) => r.ts >= s.tStart && r.ts <= s.tEnd);
      expect(Math.abs(trapz(rows) - s.capacity_mAh) / s.capacity_mAh, `step ${s.stepIndex}`).toBeLessThan(0.005);
    }
    const cycles = perCycle(full.oracle);
    for (const c of [0, 1, 2]) {
      expect(cycles.get(c)!.c).toBeCloseTo(truth.qCharge_mAh, 9);
      expect(cycles.get(c)!.d).toBeCloseTo(truth.qDischarge_mAh, 9);
    }
    // The file stops 5000 s into the 4th charge (last row on the 60 s grid): a partial charge and no discharge.
    expect(cycles.get(3)!.c).toBeCloseTo((T.current_mA * 4980.05) / 3600, 9);
    expect(cycles.get(3)!.d).toBe(0);
  });

  it('reads the plain 3-line export: decimal commas, I/mA, µ in a column name (ISO-8859-1), CRLF, no clock', () => {
    const text = fixture('eclab_plain_fr.mpt');
    expect(text).toContain('Capacitance charge/µF');
    const plain = parseBiologicMpt(text, { fileName: 'eclab_plain_fr.mpt' });
    expect(plain.rows[0]).toMatchObject({ ts: 12_500, line: 4, current_mA: 0, voltage_V: 3.45 });
    expect(plain.rows.find((r) => r.current_mA !== 0)!.current_mA).toBe(0.5);
    const withStart = parseBiologicMpt(text, { fileName: 'x.mpt', startTs: Date.UTC(2024, 4, 1) });
    expect(withStart.rows[0]!.ts).toBe(Date.UTC(2024, 4, 1) + 12_500);
    const c = perCycle(plain.oracle).get(0)!;
    expect(c.c).toBeCloseTo(cycleTruth(T.plainCurrent_mA).qCharge_mAh, 9);
    expect(c.d).toBeCloseTo(cycleTruth(T.plainCurrent_mA).qDischarge_mAh, 9);
  });

  it('names the file, the line and what was expected', () => {
    expect(readerError(() => parseBiologicMpt('EC-Lab ASCII FILE\nNb header lines: x\n', { fileName: 'a.mpt' })).message).toBe(
      `a.mpt:2: expected 'Nb header lines : N' with N ≥ 3, got "Nb header lines: x"`,
    );
    expect(readerError(() => parseBiologicMpt('EC-Lab ASCII FILE\nNb header lines : 5\n\n', { fileName: 'a.mpt' })).message).toMatch(
      /^a\.mpt:3: expected the column row on line 5/,
    );
    const noCurrent = 'EC-Lab ASCII FILE\nNb header lines : 3\nmode\ttime/s\tEwe/V\n1\t0\t3.1\n';
    expect(readerError(() => parseBiologicMpt(noCurrent, { fileName: 'a.mpt' })).message).toMatch(
      /^a\.mpt:3: expected a current column \('<I>\/mA' or 'I\/mA'\)/,
    );
    const bad = 'EC-Lab ASCII FILE\nNb header lines : 3\ntime/s\t<I>/mA\n0\t0.5\n1\t0.5mA\n';
    expect(readerError(() => parseBiologicMpt(bad, { fileName: 'a.mpt' })).message).toBe(`a.mpt:5: column '<I>/mA': expected a number, got "0.5mA"`);
    const short = 'EC-Lab ASCII FILE\nNb header lines : 3\ntime/s\tEwe/V\t<I>/mA\n0\t3.1\n';
    expect(readerError(() => parseBiologicMpt(short, { fileName: 'a.mpt' })).message).toMatch(/^a\.mpt:4: expected at least 3 fields \(got 2\)/);
  });
});

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

describe('generic CSV with a column mapping', () => {
  const mapping = parseGenericMapping(
    {
      separator: ';',
      time: 'Zeit',
      timeFormat: 'duration',
      start: '2024-03-14T09:00:00Z',
      current: 'Strom [mA]',
      currentSign: 'discharge-positive',
      voltage: 'Spannung [V]',
      cycle: 'Zyklus',
    },
    'test',
  );

  it('skips the preamble, reads H:MM:SS,mmm times, decimal commas, and flips a discharge-positive current', () => {
    const r = parseGenericCsv(fixtureUtf8('generic_logger.csv'), { fileName: 'generic_logger.csv', mapping });
    expect(r.rows[0]).toMatchObject({ ts: T.genericStartTs, line: 4, current_mA: -0, voltage_V: 3.45, cycleIndex: 1 });
    const charging = r.rows.find((x) => x.current_mA > 0)!;
    expect(charging.current_mA).toBe(0.65);
    expect(r.oracle).toEqual([]);
    // Two cycles of the truth: total |charge| = 2 × (Q_charge + Q_discharge).
    const truth = cycleTruth(T.current_mA);
    expect(trapz(r.rows) / (2 * (truth.qCharge_mAh + truth.qDischarge_mAh))).toBeCloseTo(1, 3);
  });

  it('the same mapping from the YAML mapping file, and from command-line options, gives the same rows', () => {
    const text = fixtureUtf8('generic_logger.csv');
    const inline = parseGenericCsv(text, { fileName: 'g', mapping }).rows;
    const fromFile = mappingFrom({ mapping: fileURLToPath(new URL('../fixtures/formats/generic_logger.mapping.yaml', import.meta.url)) })!;
    expect(parseGenericCsv(text, { fileName: 'g', mapping: fromFile }).rows).toEqual(inline);
    const fromCli = mappingFrom({
      sep: ';',
      'time-col': 'Zeit',
      'time-format': 'duration',
      'current-col': 'Strom [mA]',
      'current-sign-in-file': 'discharge-positive',
      'voltage-col': 'Spannung [V]',
      'cycle-col': 'Zyklus',
    })!;
    expect(parseGenericCsv(text, { fileName: 'g', mapping: fromCli, startTs: T.genericStartTs }).rows).toEqual(inline);
    expect(() => mappingFrom({ 'time-col': 'Zeit' })).toThrow(/current/);
  });

  it('reports a mapped column missing from the header, and a bad mapping', () => {
    const m = parseGenericMapping({ headerLine: 1, time: 't', current: 'I' }, 'test');
    expect(readerError(() => parseGenericCsv('t;V\n0;3.1\n', { fileName: 'g.csv', mapping: m })).message).toMatch(
      /^g\.csv:1: expected the mapped column 'I' in the header/,
    );
    expect(() => parseGenericMapping({ time: 't' }, 'map.yaml')).toThrow(/map\.yaml is not a valid column mapping/);
    expect(() => parseGenericMapping({ time: 't', current: 'I', currentUnit: 'kA' }, 'map.yaml')).toThrow(/currentUnit/);
  });

  it('epoch and datetime time columns', () => {
    const m = parseGenericMapping({ time: 'time', timeFormat: 'epoch-s', current: 'I (A)', currentUnit: 'A' }, 'test');
    const r = parseGenericCsv('time,I (A)\n1710406800,0.001\n1710406801.5,-0.002\n', { fileName: 'g.csv', mapping: m });
    expect(r.rows.map((x) => [x.ts, x.current_mA])).toEqual([
      [1_710_406_800_000, 1],
      [1_710_406_801_500, -2],
    ]);
    const d = parseGenericMapping({ time: 'when', timeFormat: 'datetime', current: 'mA' }, 'test');
    expect(parseGenericCsv('when\tmA\n2024-03-14T09:00:00+01:00\t1\n', { fileName: 'g.tsv', mapping: d }).rows[0]!.ts).toBe(Date.UTC(2024, 2, 14, 8));
  });
});

describe('load-cell pressure logs', () => {
  it('reads `;` with decimal commas, the unit from "Force (kgf)", time zero from the Start line, and a clock offset', () => {
    const log = parsePressureLog(fixture('loadcell_kgf.csv'), { fileName: 'loadcell_kgf.csv', offset_ms: 300_000 });
    expect(log.unit).toBe('kgf');
    expect(log.rows[0]).toEqual({ ts: T.loadCellTrueStartTs, value: 203, line: 7 });
    expect(log.rows[1]!.ts - log.rows[0]!.ts).toBe(10_000);
    const noOffset = parsePressureLog(fixture('loadcell_kgf.csv'), { fileName: 'loadcell_kgf.csv' });
    expect(noOffset.rows[0]!.ts).toBe(T.loadCellTrueStartTs - 300_000);
    // 0.1 kgf counts.
    for (const r of log.rows.slice(0, 500)) expect(Math.abs(r.value * 10 - Math.round(r.value * 10))).toBeLessThan(1e-9);
  });

  it('reads ISO-8601 UTC timestamps and MPa from "Stack Pressure [MPa]" next to another column', () => {
    const log = parsePressureLog(fixtureUtf8('pressure_iso_mpa.csv'), { fileName: 'pressure_iso_mpa.csv' });
    expect(log.unit).toBe('MPa');
    expect(log.rows[0]).toEqual({ ts: T.arbinStartTs + (T.arbinTimeOffset_s - 300) * 1000, value: 15, line: 2 });
  });

  it('converts kN, bar and psi to wire units; refuses an unknown unit and elapsed times without a start', () => {
    expect(parsePressureLog('Time (s),Load [kN]\n0,1.5\n', { fileName: 'p.csv', startTs: 0 })).toEqual({ rows: [{ ts: 0, value: 1500, line: 2 }], unit: 'N' });
    expect(parsePressureLog('Time (s),Pressure (bar)\n0,100\n', { fileName: 'p.csv', startTs: 0 }).rows[0]!.value).toBeCloseTo(10, 12);
    expect(parsePressureLog('Time (s),Force\n0,12\n', { fileName: 'p.csv', startTs: 0, unit: 'N' }).unit).toBe('N');
    expect(readerError(() => parsePressureLog('Time (s),Force (furlong)\n0,1\n', { fileName: 'p.csv', startTs: 0 })).message).toMatch(
      /^p\.csv:1: column 'Force \(furlong\)': expected a force or pressure unit/,
    );
    expect(readerError(() => parsePressureLog('Time (s),Force\n0,1\n', { fileName: 'p.csv', startTs: 0 })).message).toMatch(
      /expected a unit in the value column name/,
    );
    expect(readerError(() => parsePressureLog('Elapsed (s);Force (N)\n0;1\n', { fileName: 'p.csv' })).message).toMatch(
      /^p\.csv:2: column 'Elapsed \(s\)': expected a start time for elapsed times/,
    );
  });
});

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
  /** Feeds lines one by one, collecting rows after each line, then end(). */
  function feed(p: CyclerRowParser, text: string): CyclerRow[] {
    const out: CyclerRow[] = [];
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    lines.forEach((l, i) => p.line(l, i + 1, out));
    p.end(out);
    return out;
  }

  it('Neware and Maccor: line by line gives exactly what the whole-text parser gives', () => {
    const nw = realFixture('cellpy__neware_uio.csv');
    const p = createNewareParser({ fileName: 'n' });
    expect(feed(p, nw)).toEqual(parseNewareCsv(nw, { fileName: 'n' }).rows);
    const mc = realFixture('beep__xTESLADIAG_000038.078');
    const q = createMaccorParser({ fileName: 'm' });
    expect(feed(q, mc)).toEqual(parseMaccorText(mc, { fileName: 'm' }).rows);
    expect(q.oracle).toEqual(parseMaccorText(mc, { fileName: 'm' }).oracle);
  });

  it('Maccor auto sign: rows are held until a row tells the convention, then released in order', () => {
    const header = ['Rec#', 'Cyc#', 'Step', 'Test (Sec)', 'Amp-hr', 'Amps', 'State'].join('\t');
    const lines = ['meta', header, '1\t0\t1\t0\t0\t0\tR', '2\t0\t2\t10\t0.01\t2\tC', '3\t0\t3\t20\t0.01\t2\tD', '4\t0\t3\t30\t0.02\t2\tD'];
    const p = createMaccorParser({ fileName: 'm' });
    const out: CyclerRow[] = [];
    lines.slice(0, 4).forEach((l, i) => p.line(l, i + 1, out));
    expect(out).toHaveLength(0);
    expect(p.held).toBe(2);
    p.line(lines[4]!, 5, out);
    expect(p.held).toBe(0);
    expect(out.map((r) => r.current_mA)).toEqual([0, 2000, -2000]);
  });

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
        for (let i = 0; i < lines.length; i += 97) lines.slice(i, i + 97).forEach((l, j) => b.parser.line(l, i + j + 1, rows));
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

  it('fieldBounds finds the first fields without splitting', () => {
    const s = new Int32Array(8);
    const e = new Int32Array(8);
    expect(fieldBounds('a\tbb\t\tc', '\t', 8, s, e)).toBe(4);
    expect([...s.slice(0, 4)]).toEqual([0, 2, 5, 6]);
    expect([...e.slice(0, 4)]).toEqual([1, 4, 5, 7]);
    expect(fieldBounds('a\tbb\t\tc', '\t', 2, s, e)).toBe(2);
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
