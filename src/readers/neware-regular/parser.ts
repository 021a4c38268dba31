/**
 * Neware "regular" CSV export in its three-level layout (BTS/BTSDA; cellpy's `nw_regular_export`): three header
 * rows, one per level, and data lines of the three levels interleaved:
 * - cycle rows (no leading comma): `Cycle Index,Chg. Cap.(Ah),DChg. Cap.(Ah),…`; the first one also carries
 *   the first step row's fields after its own, on the same line;
 * - step rows (one leading comma): `Step Index` (procedure step), `Step Number` (running count), `Step Type`
 *   (`CC Chg`, `CC DChg`, `Rest`, …), `Capacity(Ah)` (the step's total, written before its records);
 * - records (two leading commas): `Time` (step time), `Total Time` (`hh:mm:ss`, hours past 24), `Current(A)`
 *   (signed, + charge), `Voltage(V)`, `Date` (wall clock; the first record's, minus its total time, is the
 *   default `startTs`).
 * Rows get the cycle row's `Cycle Index` and the step row's `Step Number` as the cycler's indices; the oracle
 * is the step rows' capacities, credited to charge or discharge by `Step Type` (the cycle rows are their sums).
 */
import { parseDuration, parseWallClockUtc, secondsToMs, splitCsvLine } from '../common.js';
import { localeNumber } from '../fields.js';
import { CyclerLineParser, parseCyclerText, type LineLayout } from '../line-parser.js';
import { newareStepKind } from '../neware/parser.js';
import type { CyclerRowParser } from '../stream.js';
import { ReaderError, type CyclerParseResult, type CyclerRow, type CyclerStepOracle } from '../types.js';

export interface NewareRegularOptions {
  fileName: string;
  /** Epoch ms of total time 0. Default: the first record's `Date` minus its `Total Time`. */
  startTs?: number;
}

/** What lines 1 and 2 of the export start with. */
export const NEWARE_REGULAR_CYCLE_HEADER = 'Cycle Index,Chg. Cap.(Ah)';
export const NEWARE_REGULAR_STEP_HEADER = ',Step Index,';

interface Level {
  readonly names: readonly string[];
  at(name: string): number;
}

function level(text: string, skip: number): Level {
  const names = splitCsvLine(text, ',')
    .slice(skip)
    .map((c) => c.trim());
  return { names, at: (name) => names.indexOf(name) };
}

interface RegularColumns {
  readonly cycle: Level;
  readonly step: Level;
  readonly record: Level;
}

export function parseNewareRegular(text: string, opts: NewareRegularOptions): CyclerParseResult {
  return parseCyclerText(createNewareRegularParser(opts), text);
}

export function createNewareRegularParser(opts: NewareRegularOptions): CyclerRowParser {
  const { fileName } = opts;
  let startTs = opts.startTs;
  const oracle: CyclerStepOracle[] = [];
  let cycleHeader: Level | undefined;
  let stepHeader: Level | undefined;
  let cycle = 0;
  let open: CyclerStepOracle | undefined;

  const layout: LineLayout<RegularColumns> = {
    header(text, line) {
      if (line === 1) cycleHeader = level(text, 0);
      else if (line === 2) stepHeader = level(text, 1);
      else if (cycleHeader !== undefined && stepHeader !== undefined) return { cycle: cycleHeader, step: stepHeader, record: level(text, 2) };
      return undefined;
    },
    blank: ',',
    noHeader: 'the three header rows of a Neware regular export (cycle, step, record)',
  };

  const bad = (line: number, expected: string, value: string): ReaderError => new ReaderError({ fileName, line, expected, value });

  const stepRow = (s: readonly string[], line: number, c: RegularColumns): void => {
    const type = s[c.step.at('Step Type')] ?? '';
    const number = localeNumber(s[c.step.at('Step Number')] ?? '');
    const cap_mAh = localeNumber(s[c.step.at('Capacity(Ah)')] ?? '') * 1000;
    if (!Number.isInteger(number) || !Number.isFinite(cap_mAh)) throw bad(line, "a step row with a 'Step Number' and a 'Capacity(Ah)'", s.join(','));
    const kind = newareStepKind(type) ?? 'rest';
    open = {
      cycleIndex: cycle,
      stepIndex: number,
      kind,
      capacity_mAh: kind === 'rest' ? 0 : cap_mAh,
      tStart: NaN,
      tEnd: NaN,
      qChargeCycler_mAh: kind === 'charge' ? cap_mAh : 0,
      qDischargeCycler_mAh: kind === 'discharge' ? cap_mAh : 0,
    };
    oracle.push(open);
  };

  const recordRow = (r: readonly string[], line: number, c: RegularColumns, out: CyclerRow[]): void => {
    const total = parseDuration(r[c.record.at('Total Time')] ?? '');
    const current = localeNumber(r[c.record.at('Current(A)')] ?? '');
    if (!Number.isFinite(total) || !Number.isFinite(current)) throw bad(line, "a record with a 'Total Time' (hh:mm:ss) and a 'Current(A)'", r.join(','));
    if (startTs === undefined) {
      const wall = parseWallClockUtc(r[c.record.at('Date')] ?? '');
      if (Number.isNaN(wall)) throw bad(line, "a 'Date' wall clock on the first record (or give --start)", r.join(','));
      startTs = wall - secondsToMs(total);
    }
    const ts = startTs + secondsToMs(total);
    const row: CyclerRow = { ts, current_mA: current * 1000, stepIndex: open?.stepIndex ?? 0, cycleIndex: cycle, line };
    const v = localeNumber(r[c.record.at('Voltage(V)')] ?? '');
    if (Number.isFinite(v)) row.voltage_V = v;
    out.push(row);
    if (open !== undefined) {
      if (Number.isNaN(open.tStart)) open.tStart = ts;
      open.tEnd = ts;
    }
  };

  const row = (text: string, line: number, c: RegularColumns, out: CyclerRow[]): void => {
    let f = splitCsvLine(text, ',');
    if ((f[0] ?? '') !== '') {
      const idx = localeNumber(f[c.cycle.at('Cycle Index')] ?? '');
      if (!Number.isInteger(idx)) throw bad(line, "a cycle row with a 'Cycle Index'", text);
      cycle = idx;
      // The first cycle row carries the first step row's fields after its own.
      if (f.length <= c.cycle.names.length) return;
      f = ['', ...f.slice(c.cycle.names.length)];
    }
    if ((f[1] ?? '') !== '') stepRow(f.slice(1), line, c);
    else recordRow(f.slice(2), line, c, out);
  };

  return new CyclerLineParser(layout, fileName, { oracle, startTs: () => startTs, row });
}
