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
import {
  durationCell,
  findColumn,
  integerCell,
  isBlankLine,
  numberCell,
  optionalNumberCell,
  requireColumn,
  secondsToMs,
  shortRowError,
  startTsFromWallClock,
  splitCsvLine,
  splitLines,
} from './common.js';
import { ReaderError, type CyclerParseResult, type CyclerRow, type CyclerStepOracle } from './types.js';

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
  const { fileName } = opts;
  const lines = splitLines(text);
  let h = 0;
  while (h < lines.length && isBlankLine(lines[h]!, ',')) h++;
  if (h >= lines.length) throw new ReaderError({ fileName, line: 1, expected: 'a header row (the file is empty)' });
  const headerLine = h + 1;
  const header = splitCsvLine(lines[h]!, ',').map((c) => c.trim());

  const col = (...names: string[]): { index: number; name: string } => requireColumn(header, fileName, headerLine, ...names);
  const cCycle = col('Cycle Index');
  const cStep = col('Step Index');
  const cType = col('Step Type');
  const cTime = col('Cumulative Time');
  const cCur = col('Current(A)', 'Current(mA)');
  const cChg = col('Chg. Cap.(Ah)', 'Chg. Cap.(mAh)');
  const cDchg = col('DChg. Cap.(Ah)', 'DChg. Cap.(mAh)');
  const cVolt = findColumn(header, 'Voltage(V)');
  const cDate = findColumn(header, 'Date');
  const curToMa = cCur.name.endsWith('(A)') ? 1000 : 1;
  const chgToMah = cChg.name.endsWith('(Ah)') ? 1000 : 1;
  const dchgToMah = cDchg.name.endsWith('(Ah)') ? 1000 : 1;
  const need =
    Math.max(cCycle.index, cStep.index, cType.index, cTime.index, cCur.index, cChg.index, cDchg.index, cVolt.index, cDate.index) + 1;

  const rows: CyclerRow[] = [];
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
  };

  for (let i = h + 1; i < lines.length; i++) {
    const text = lines[i]!;
    if (isBlankLine(text, ',')) continue;
    const line = i + 1;
    const f = splitCsvLine(text, ',');
    if (f.length < need) throw shortRowError(fileName, line, need, f.length, text);

    const sec = durationCell(f[cTime.index], { fileName, line, column: cTime.name });
    if (startTs === undefined) startTs = startTsFromWallClock(f, cDate, sec, fileName, line, 'YYYY-MM-DD HH:MM:SS');
    const ts = startTs + secondsToMs(sec);
    const current_mA = numberCell(f[cCur.index], { fileName, line, column: cCur.name }) * curToMa;
    const cycleIndex = integerCell(f[cCycle.index], { fileName, line, column: cCycle.name });
    const stepIndex = integerCell(f[cStep.index], { fileName, line, column: cStep.name });
    const chg = numberCell(f[cChg.index], { fileName, line, column: cChg.name }) * chgToMah;
    const dchg = numberCell(f[cDchg.index], { fileName, line, column: cDchg.name }) * dchgToMah;

    const row: CyclerRow = { ts, current_mA, stepIndex, cycleIndex, line };
    if (cVolt.index >= 0) {
      const v = optionalNumberCell(f[cVolt.index], { fileName, line, column: cVolt.name });
      if (v !== undefined) row.voltage_V = v;
    }
    rows.push(row);

    if (cycleIndex !== runCycle || stepIndex !== runStep) {
      closeRun();
      runCycle = cycleIndex;
      runStep = stepIndex;
      runStart = ts;
    }
    runEnd = ts;
    runType = f[cType.index]!.trim();
    runChg = Math.abs(chg);
    runDchg = Math.abs(dchg);
  }
  closeRun();
  return { rows, oracle };
}

