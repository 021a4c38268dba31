/**
 * Maccor text export (`.0xx` "ASCII" export): metadata lines, then a tab-separated header row (the
 * first line with a `Rec#` column), then one row per record; CRLF or LF.
 *
 * Columns, by header name:
 * - `Cyc#`, `Step` (integers); `State`: `C` charge, `D` discharge, `R` rest, `O` other, `S` stopped
 *   (the final row of a stopped test).
 * - `Test (Sec)`: elapsed test time, plain seconds or `Nd H:MM:SS[.sss]` (`1d 2:03:04.5`).
 * - `Step (Sec)` (optional): elapsed step time, same forms; used for the step start instant.
 * - `Amps`: current in A → `current_mA`. Signed (+ charge) in most exports; some exports write it
 *   unsigned and carry the direction in `State` (see `currentSign`).
 * - `Amp-hr`: per-step capacity counter, restarts at 0 in every step, positive both ways.
 * - `Volts` (optional) → `voltage_V`; `DPt Time` (optional): wall clock `MM/DD/YYYY HH:MM:SS`, only
 *   used for the default `startTs`.
 *
 * Timing rules (what BEEP's `xTESLADIAG_000038.078` shows): a step's first row is already some way
 * into the step (`Step (Sec)` = 0.03 s at `Test (Sec)` = 5.03), and `Test − Step` on that row equals
 * the previous row's `Test (Sec)`: consecutive steps share the boundary instant, which the oracle
 * reports as `tStart`. No two rows share a timestamp in that file.
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
  splitLines,
} from './common.js';
import { ReaderError, type CyclerParseResult, type CyclerRow, type CyclerStepOracle } from './types.js';

/**
 * How `Amps` gets its sign:
 * - `signed`: `Amps` is already signed (+ charge).
 * - `state`: `Amps` is a magnitude; `C` rows get +|I|, `D` rows −|I|, other states keep the value (≈ 0).
 * - `auto` (default): `state` when the file has `D` rows but no negative current, else `signed`.
 */
export type MaccorCurrentSign = 'auto' | 'signed' | 'state';

export interface MaccorTextOptions {
  /** Used in error messages. */
  fileName: string;
  /**
   * Epoch ms of `Test (Sec)` = 0. Default: the first data row's `DPt Time` read as a UTC wall clock
   * (MM/DD/YYYY), minus that row's `Test (Sec)`; 0 when the export has no `DPt Time` column.
   */
  startTs?: number;
  currentSign?: MaccorCurrentSign;
}

/** Step kind from a Maccor `State` letter. */
export function maccorStateKind(state: string): CyclerStepOracle['kind'] {
  return state === 'C' ? 'charge' : state === 'D' ? 'discharge' : 'rest';
}

/**
 * Parses a Maccor text export into rows (file order) and the cycler's per-step capacities.
 * A step is a maximal run of non-`S` rows with equal `Cyc#` and `Step`; `S` (stopped) rows are kept as
 * rows but ignored by the oracle. Per step: kind from the last row's `State`, capacity = |`Amp-hr`| on
 * the last row (mAh), `tStart` = first row's `ts` − its `Step (Sec)` (the first row's `ts` when there is
 * no `Step (Sec)` column), `tEnd` = last row's `ts`.
 */
export function parseMaccorText(text: string, opts: MaccorTextOptions): CyclerParseResult {
  const { fileName } = opts;
  const lines = splitLines(text);

  let h = -1;
  let header: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!l.includes('Rec#')) continue;
    const cells = l.split('\t').map((c) => c.trim());
    if (cells.includes('Rec#')) {
      h = i;
      header = cells;
      break;
    }
  }
  if (h < 0) {
    throw new ReaderError({
      fileName,
      line: Math.max(1, lines.length),
      expected: "a tab-separated header row with a 'Rec#' column (none found before the end of the file)",
    });
  }
  const headerLine = h + 1;
  const col = (...names: string[]): { index: number; name: string } => requireColumn(header, fileName, headerLine, ...names);
  const cCyc = col('Cyc#');
  const cStep = col('Step');
  const cTest = col('Test (Sec)');
  const cAmps = col('Amps');
  const cState = col('State');
  const cAh = col('Amp-hr');
  const cStepSec = findColumn(header, 'Step (Sec)');
  const cVolt = findColumn(header, 'Volts');
  const cDate = findColumn(header, 'DPt Time');
  const need = Math.max(cCyc.index, cStep.index, cTest.index, cAmps.index, cState.index, cAh.index, cStepSec.index, cVolt.index, cDate.index) + 1;

  // Pass 1: parse every row; the sign rule needs the whole file.
  const rows: CyclerRow[] = [];
  const states: string[] = [];
  const ampHr: number[] = [];
  const stepSecs: number[] = []; // NaN unless the row starts a step
  let startTs = opts.startTs;
  let anyNegative = false;
  let anyDischargeState = false;
  let prevCyc = NaN;
  let prevStep = NaN;

  for (let i = h + 1; i < lines.length; i++) {
    const text = lines[i]!;
    if (isBlankLine(text, '\t')) continue;
    const line = i + 1;
    const f = text.split('\t');
    if (f.length < need) throw shortRowError(fileName, line, need, f.length, text);

    const sec = durationCell(f[cTest.index], { fileName, line, column: cTest.name });
    if (startTs === undefined) startTs = startTsFromWallClock(f, cDate, sec, fileName, line, 'MM/DD/YYYY HH:MM:SS');
    const amps = numberCell(f[cAmps.index], { fileName, line, column: cAmps.name });
    const cycleIndex = integerCell(f[cCyc.index], { fileName, line, column: cCyc.name });
    const stepIndex = integerCell(f[cStep.index], { fileName, line, column: cStep.name });
    const state = f[cState.index]!.trim().toUpperCase();
    if (state === '') throw new ReaderError({ fileName, line, column: cState.name, expected: 'a state letter (C, D, R, O or S)', value: '' });
    const ah = numberCell(f[cAh.index], { fileName, line, column: cAh.name });

    const row: CyclerRow = { ts: startTs + secondsToMs(sec), current_mA: amps * 1000, stepIndex, cycleIndex, line };
    if (cVolt.index >= 0) {
      const v = optionalNumberCell(f[cVolt.index], { fileName, line, column: cVolt.name });
      if (v !== undefined) row.voltage_V = v;
    }
    rows.push(row);
    states.push(state);
    ampHr.push(ah);

    // Step (Sec) is only needed on the row that starts a step (same grouping as the oracle below).
    let stepSec = NaN;
    if (state !== 'S') {
      if ((cycleIndex !== prevCyc || stepIndex !== prevStep) && cStepSec.index >= 0) {
        stepSec = durationCell(f[cStepSec.index], { fileName, line, column: cStepSec.name });
      }
      prevCyc = cycleIndex;
      prevStep = stepIndex;
    }
    stepSecs.push(stepSec);

    if (amps < 0) anyNegative = true;
    if (state === 'D') anyDischargeState = true;
  }

  const mode = opts.currentSign ?? 'auto';
  if (mode === 'state' || (mode === 'auto' && anyDischargeState && !anyNegative)) {
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k]!;
      const s = states[k]!;
      if (s === 'C') r.current_mA = Math.abs(r.current_mA);
      else if (s === 'D') r.current_mA = -Math.abs(r.current_mA);
    }
  }

  // Pass 2: the oracle, from non-S rows.
  const oracle: CyclerStepOracle[] = [];
  let open: CyclerStepOracle | undefined;
  for (let k = 0; k < rows.length; k++) {
    const s = states[k]!;
    if (s === 'S') continue;
    const r = rows[k]!;
    const cyc = r.cycleIndex!;
    const step = r.stepIndex!;
    if (open === undefined || open.cycleIndex !== cyc || open.stepIndex !== step) {
      const ss = stepSecs[k]!;
      const tStart = Number.isNaN(ss) ? r.ts : r.ts - secondsToMs(ss);
      open = { cycleIndex: cyc, stepIndex: step, kind: 'rest', capacity_mAh: 0, tStart, tEnd: r.ts };
      oracle.push(open);
    }
    open.kind = maccorStateKind(s);
    open.capacity_mAh = Math.abs(ampHr[k]!) * 1000;
    open.tEnd = r.ts;
  }
  return { rows, oracle };
}

