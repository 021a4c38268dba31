/**
 * Arbin CSV export (MITS Pro "Channel" sheet saved as CSV, or MITS 8 / DataWatcher CSV export).
 *
 * Columns are found by name, spelled either way (`Test_Time(s)` or `Test Time (s)`; matching ignores case,
 * spaces and underscores):
 * - `Test_Time(s)` (required): elapsed test time, seconds (often with 15 decimals), or `H:MM:SS`.
 * - `Current(A)` or `Current(mA)` (required): signed, + = charge.
 * - `Voltage(V)` → voltage; `Step_Index`, `Cycle_Index` → the cycler's indices.
 * - `Charge_Capacity(Ah)` / `Discharge_Capacity(Ah)` (or `(mAh)`): counters that accumulate over a cycle
 *   and restart at 0 when `Cycle_Index` changes → the oracle (a step's capacity = the counter's rise over
 *   the step).
 * - `Date_Time` (optional): wall clock (`MM/DD/YYYY HH:MM:SS[.sss]`, `YYYY-MM-DD HH:MM:SS`, or the
 *   spreadsheet day number Excel leaves behind) → default `startTs` = first row's wall clock − its test time.
 * A byte-order mark, quoted cells and metadata lines before the header are tolerated: the header is the
 * first line with a test-time and a current column.
 */
import { columnAt, integerCell, isBlankLine, secondsToMs, shortRowError, splitCsvLine, type CellContext, type Column } from '../common.js';
import { dateTimeCell, headerKey, localeDuration, localeNumberCell, optionalLocaleNumberCell } from '../fields.js';
import { CyclerLineParser, parseCyclerText, type LineLayout } from '../line-parser.js';
import type { CyclerRowParser } from '../stream.js';
import { ReaderError, type CyclerParseResult, type CyclerRow, type CyclerStepOracle } from '../types.js';

export interface ArbinCsvOptions {
  fileName: string;
  /** Epoch ms of test time 0. Default: from the first row's `Date_Time`; 0 without that column. */
  startTs?: number;
}

/** Metadata lines tolerated before the header. */
const MAX_HEADER_LINE = 50;
const TIME_KEYS = ['testtime(s)', 'testtime', 'testtime(sec)'];
// `Current` without a unit: TRI/BEEP's export of Arbin data (amperes).
const CURRENT_KEYS: Record<string, number> = { 'current(a)': 1000, 'current(ma)': 1, current: 1000 };
const CAP_KEYS: Record<string, number> = { '(ah)': 1000, '(mah)': 1, '': 1000 };

/** Header line → column positions, or undefined when the line is not an Arbin header. */
export function arbinColumns(cells: readonly string[]): ArbinColumns | undefined {
  const keys = cells.map(headerKey);
  const names = cells.map((s) => s.trim());
  const at = (...wanted: string[]): Column => {
    for (const n of wanted) {
      const i = keys.indexOf(n);
      if (i >= 0) return columnAt(names, i);
    }
    return columnAt(names, -1);
  };
  const time = at(...TIME_KEYS);
  let cur = columnAt(names, -1);
  let curToMa = 1;
  for (const [k, f] of Object.entries(CURRENT_KEYS)) {
    if (cur.index < 0 && keys.includes(k)) {
      cur = columnAt(names, keys.indexOf(k));
      curToMa = f;
    }
  }
  if (time.index < 0 || cur.index < 0) return undefined;
  const cap = (what: 'charge' | 'discharge'): CapacityColumn => {
    for (const [suffix, f] of Object.entries(CAP_KEYS)) {
      const i = keys.indexOf(`${what}capacity${suffix}`);
      if (i >= 0) return { ...columnAt(names, i), toMah: f };
    }
    return { ...columnAt(names, -1), toMah: 1 };
  };
  const c = {
    time,
    cur,
    curToMa,
    volt: at('voltage(v)', 'voltage'),
    step: at('stepindex'),
    cycle: at('cycleindex'),
    date: at('datetime'),
    chg: cap('charge'),
    dchg: cap('discharge'),
  };
  return { ...c, need: Math.max(c.time.index, c.cur.index, c.volt.index, c.step.index, c.cycle.index, c.date.index, c.chg.index, c.dchg.index) + 1 };
}

/** A capacity counter's column and its factor to mAh. */
export interface CapacityColumn extends Column {
  readonly toMah: number;
}

/** The columns of an Arbin header (index -1: absent) and the current's factor to mA. */
export interface ArbinColumns {
  readonly time: Column;
  readonly cur: Column;
  readonly curToMa: number;
  readonly volt: Column;
  readonly step: Column;
  readonly cycle: Column;
  readonly date: Column;
  readonly chg: CapacityColumn;
  readonly dchg: CapacityColumn;
  readonly need: number;
}

export function parseArbinCsv(text: string, opts: ArbinCsvOptions): CyclerParseResult {
  return parseCyclerText(createArbinParser(opts), text);
}

/** The layout for the shared loop: the header is the first line with a test-time and a current column, within `MAX_HEADER_LINE` lines. */
const ARBIN_LAYOUT: LineLayout<ArbinColumns> = {
  header(text, line, fileName) {
    if (isBlankLine(text, ',')) return undefined;
    const cols = arbinColumns(splitCsvLine(text, ','));
    if (cols === undefined && line >= MAX_HEADER_LINE) {
      throw new ReaderError({
        fileName,
        line,
        expected: `an Arbin header with 'Test_Time(s)' and 'Current(A)' columns within the first ${MAX_HEADER_LINE} lines`,
        value: text,
      });
    }
    return cols;
  },
  blank: ',',
  noHeader: "an Arbin header with 'Test_Time(s)' and 'Current(A)' columns",
};

/** The row's elapsed test time, s. */
function testTimeSec(f: readonly string[], c: ArbinColumns, fileName: string, line: number): number {
  // A cell past the row's end reads as empty (the row's length was checked against `need`).
  const timeCell = f[c.time.index] ?? '';
  const sec = localeDuration(timeCell);
  if (!Number.isFinite(sec)) throw new ReaderError({ fileName, line, column: c.time.name, expected: 'an elapsed time in seconds', value: timeCell });
  return sec;
}

/** A date-time cell: what `dateTimeCell` reads, or Unix epoch seconds (TRI's export writes `DateTime` so). */
function arbinDateTime(cell: string | undefined, ctx: CellContext): number {
  const t = (cell ?? '').trim();
  if (/^\d{9,10}(\.\d+)?$/.test(t)) return secondsToMs(+t);
  return dateTimeCell(cell, ctx);
}

export function createArbinParser(opts: ArbinCsvOptions): CyclerRowParser {
  const { fileName } = opts;
  let startTs = opts.startTs;
  const oracle: CyclerStepOracle[] = [];
  let open: CyclerStepOracle | undefined;
  // Counters at the start of the open step, and their latest values.
  let chgBase = 0;
  let dchgBase = 0;
  let chgLast = 0;
  let dchgLast = 0;
  let lastCycle = NaN;

  const closeRun = (): void => {
    if (open === undefined) return;
    const dc = chgLast - chgBase;
    const dd = dchgLast - dchgBase;
    open.kind = dc > dd && dc > 0 ? 'charge' : dd > 0 ? 'discharge' : 'rest';
    open.capacity_mAh = open.kind === 'charge' ? dc : open.kind === 'discharge' ? dd : Math.max(0, dc, dd);
    open.qChargeCycler_mAh = dc;
    open.qDischargeCycler_mAh = dd;
    open = undefined;
  };

  // The oracle from the per-cycle counters (rows with a step index, in files that have both counters).
  const trackStep = (f: readonly string[], line: number, c: ArbinColumns, row: CyclerRow): void => {
    if (c.chg.index < 0 || c.dchg.index < 0 || row.stepIndex === undefined) return;
    const chg = localeNumberCell(f[c.chg.index], { fileName, line, column: c.chg.name }) * c.chg.toMah;
    const dchg = localeNumberCell(f[c.dchg.index], { fileName, line, column: c.dchg.name }) * c.dchg.toMah;
    const cycle = row.cycleIndex ?? 0;
    if (open?.cycleIndex !== cycle || open.stepIndex !== row.stepIndex) {
      closeRun();
      // The counters restart with each cycle; within a cycle a step starts where the previous one ended.
      const sameCycle = cycle === lastCycle;
      chgBase = sameCycle ? chgLast : 0;
      dchgBase = sameCycle ? dchgLast : 0;
      open = { cycleIndex: cycle, stepIndex: row.stepIndex, kind: 'rest', capacity_mAh: 0, tStart: row.ts, tEnd: row.ts };
      oracle.push(open);
    }
    lastCycle = cycle;
    chgLast = chg;
    dchgLast = dchg;
    open.tEnd = row.ts;
  };

  const row = (text: string, line: number, c: ArbinColumns, out: CyclerRow[]): void => {
    const f = splitCsvLine(text, ',');
    if (f.length < c.need) throw shortRowError(fileName, line, c.need, f.length, text);
    const sec = testTimeSec(f, c, fileName, line);
    startTs ??= c.date.index >= 0 ? arbinDateTime(f[c.date.index], { fileName, line, column: c.date.name }) - secondsToMs(sec) : 0;
    const ts = startTs + secondsToMs(sec);
    const r: CyclerRow = { ts, current_mA: localeNumberCell(f[c.cur.index], { fileName, line, column: c.cur.name }) * c.curToMa, line };
    if (c.volt.index >= 0) {
      const v = optionalLocaleNumberCell(f[c.volt.index], { fileName, line, column: c.volt.name });
      if (v !== undefined) r.voltage_V = v;
    }
    // An empty index (TRI's export leaves them empty in every row) is no index.
    if (c.step.index >= 0 && (f[c.step.index] ?? '').trim() !== '') r.stepIndex = integerCell(f[c.step.index], { fileName, line, column: c.step.name });
    if (c.cycle.index >= 0 && (f[c.cycle.index] ?? '').trim() !== '') r.cycleIndex = integerCell(f[c.cycle.index], { fileName, line, column: c.cycle.name });
    out.push(r);
    trackStep(f, line, c, r);
  };

  return new CyclerLineParser(ARBIN_LAYOUT, fileName, { oracle, startTs: () => startTs, row, finish: closeRun });
}
