/**
 * Neware CSV export (BTS/BTSDA "record" sheet saved as CSV): one header row, then one row per record.
 *
 * Columns are found by header name, never by position:
 * - `Cycle Index`, `Step Index` (integers), `Step Type` (`Rest`, `CC Chg`, `CC DChg`, `CCCV Chg`, …)
 * - `Cumulative Time`: elapsed test time, `H:MM:SS[.sss]` with unbounded hours (`144:01:18`);
 *   plain seconds and `Nd H:MM:SS` are accepted too.
 * - `Current(A)` (or `Current(mA)`): signed, negative = discharge → `current_mA`.
 * - `Voltage(V)` (optional) → `voltage_V`.
 * - `Chg. Cap.(Ah)` / `DChg. Cap.(Ah)` (or `(mAh)`): counters that restart at 0 in every step.
 * - `Date` (optional): wall clock, `YYYY-MM-DD HH:MM:SS`; only used for the default `startTs`.
 *
 * Timing rules (what the cellpy `neware_uio.csv` export shows): the first row of a step carries the
 * same `Cumulative Time` as the last row of the step before (step time `00:00:00`), so the steps share
 * their boundary instant; `Cumulative Time` has 1 s resolution, so the burst of fast samples at a step
 * start shows up as several rows with equal `ts`: they are kept, in file order. `Date` drifts against
 * `Cumulative Time` (17 s over 144 h in that file): `ts` follows `Cumulative Time` only.
 */
import { findColumn, isBlankLine, requireColumn, RowCells, secondsToMs, shortRowError, splitCsvLine, startTsFromWallClock, type Column } from '../common.js';
import { CyclerLineParser, parseCyclerText, type LineLayout } from '../line-parser.js';
import type { CyclerRowParser } from '../stream.js';
import type { CyclerParseResult, CyclerRow, CyclerStepOracle } from '../types.js';

export interface NewareCsvOptions {
  /** Used in error messages. */
  fileName: string;
  /**
   * Epoch ms of `Cumulative Time` = 0. Default: the first data row's `Date` read as a UTC wall clock,
   * minus that row's `Cumulative Time`; 0 when the export has no `Date` column.
   */
  startTs?: number;
}

/** Step kind from a Neware `Step Type`; undefined when the type does not say (then the capacities decide). */
export function newareStepKind(stepType: string): CyclerStepOracle['kind'] | undefined {
  const t = stepType.toLowerCase();
  if (t.includes('dchg') || t.includes('discharge')) return 'discharge';
  if (t.includes('chg') || t.includes('charge')) return 'charge';
  if (t.includes('rest') || t.includes('pause')) return 'rest';
  return undefined;
}

/**
 * Parses a Neware CSV export into rows (file order, equal timestamps kept) and the cycler's per-step
 * capacities. A step is a maximal run of rows with equal `Cycle Index` and `Step Index`; its capacity is
 * `Chg. Cap.` (charge) or `DChg. Cap.` (discharge) on its last row, in mAh (rest: the larger of the two,
 * normally 0). `tStart` / `tEnd` are the `ts` of the step's first / last row.
 */
export function parseNewareCsv(text: string, opts: NewareCsvOptions): CyclerParseResult {
  return parseCyclerText(createNewareParser(opts), text);
}

interface NewareColumns {
  readonly cCycle: Column;
  readonly cStep: Column;
  readonly cType: Column;
  readonly cTime: Column;
  readonly cCur: Column;
  readonly cChg: Column;
  readonly cDchg: Column;
  readonly cVolt: Column;
  readonly cDate: Column;
  readonly curToMa: number;
  readonly chgToMah: number;
  readonly dchgToMah: number;
  readonly need: number;
}

/** The header row → the positions of the columns read (and their units). */
function readNewareHeader(text: string, headerLine: number, fileName: string): NewareColumns {
  const header = splitCsvLine(text, ',').map((c) => c.trim());
  const col = (...names: string[]): Column => requireColumn(header, fileName, headerLine, ...names);
  const cCycle = col('Cycle Index');
  const cStep = col('Step Index');
  const cType = col('Step Type');
  const cTime = col('Cumulative Time');
  const cCur = col('Current(A)', 'Current(mA)');
  const cChg = col('Chg. Cap.(Ah)', 'Chg. Cap.(mAh)');
  const cDchg = col('DChg. Cap.(Ah)', 'DChg. Cap.(mAh)');
  const cVolt = findColumn(header, 'Voltage(V)');
  const cDate = findColumn(header, 'Date');
  const need = Math.max(cCycle.index, cStep.index, cType.index, cTime.index, cCur.index, cChg.index, cDchg.index, cVolt.index, cDate.index) + 1;
  const toMilli = (c: Column, unit: string): number => (c.name.endsWith(unit) ? 1000 : 1);
  return {
    cCycle,
    cStep,
    cType,
    cTime,
    cCur,
    cChg,
    cDchg,
    cVolt,
    cDate,
    curToMa: toMilli(cCur, '(A)'),
    chgToMah: toMilli(cChg, '(Ah)'),
    dchgToMah: toMilli(cDchg, '(Ah)'),
    need,
  };
}

/** The layout for the shared loop: the first non-blank line is the header. */
const NEWARE_LAYOUT: LineLayout<NewareColumns> = {
  header: (text, line, fileName) => (isBlankLine(text, ',') ? undefined : readNewareHeader(text, line, fileName)),
  blank: ',',
  noHeader: 'a header row (the file is empty)',
};

/** The incremental form of `parseNewareCsv`: one line at a time (see `RowParser`). */
export function createNewareParser(opts: NewareCsvOptions): CyclerRowParser {
  const { fileName } = opts;
  const oracle: CyclerStepOracle[] = [];
  let startTs = opts.startTs;

  // The step being accumulated.
  let runCycle = NaN;
  let runStep = NaN;
  let runStart = 0;
  let runEnd = 0;
  let runType = '';
  let runChg = 0;
  let runDchg = 0;
  const closeRun = (): void => {
    if (Number.isNaN(runCycle)) return;
    const kind = newareStepKind(runType) ?? (runChg > 0 ? 'charge' : runDchg > 0 ? 'discharge' : 'rest');
    const capacity_mAh = kind === 'charge' ? runChg : kind === 'discharge' ? runDchg : Math.max(runChg, runDchg);
    oracle.push({ cycleIndex: runCycle, stepIndex: runStep, kind, capacity_mAh, tStart: runStart, tEnd: runEnd });
    // Closed once: a second end() must not add the last step again.
    runCycle = NaN;
  };

  const row = (text: string, line: number, c: NewareColumns, out: CyclerRow[]): void => {
    const f = splitCsvLine(text, ',');
    if (f.length < c.need) throw shortRowError(fileName, line, c.need, f.length, text);
    const cell = new RowCells(f, fileName, line);
    const sec = cell.duration(c.cTime);
    startTs ??= startTsFromWallClock(f, c.cDate, sec, fileName, line, 'YYYY-MM-DD HH:MM:SS');
    const ts = startTs + secondsToMs(sec);
    const current_mA = cell.number(c.cCur) * c.curToMa;
    const cycleIndex = cell.integer(c.cCycle);
    const stepIndex = cell.integer(c.cStep);
    const chg = cell.number(c.cChg) * c.chgToMah;
    const dchg = cell.number(c.cDchg) * c.dchgToMah;

    const r: CyclerRow = { ts, current_mA, stepIndex, cycleIndex, line };
    cell.voltage(c.cVolt, r);
    out.push(r);

    if (cycleIndex !== runCycle || stepIndex !== runStep) {
      closeRun();
      runCycle = cycleIndex;
      runStep = stepIndex;
      runStart = ts;
    }
    runEnd = ts;
    runType = cell.text(c.cType);
    runChg = Math.abs(chg);
    runDchg = Math.abs(dchg);
  };

  return new CyclerLineParser(NEWARE_LAYOUT, fileName, { oracle, startTs: () => startTs, row, finish: closeRun });
}
