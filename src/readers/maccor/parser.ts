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
import { findColumn, requireColumn, RowCells, secondsToMs, shortRowError, startTsFromWallClock, type Column } from '../common.js';
import { CyclerLineParser, parseCyclerText, type LineLayout } from '../line-parser.js';
import type { CyclerRowParser } from '../stream.js';
import { ReaderError, type CyclerParseResult, type CyclerRow, type CyclerStepOracle } from '../types.js';

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
  return parseCyclerText(createMaccorParser(opts), text);
}

interface MaccorColumns {
  readonly cCyc: Column;
  readonly cStep: Column;
  readonly cTest: Column;
  readonly cAmps: Column;
  readonly cState: Column;
  readonly cAh: Column;
  readonly cStepSec: Column;
  readonly cVolt: Column;
  readonly cDate: Column;
  readonly need: number;
}

/** The header row's cells → the positions of the columns read. */
function readMaccorHeader(cells: string[], headerLine: number, fileName: string): MaccorColumns {
  const col = (...names: string[]): Column => requireColumn(cells, fileName, headerLine, ...names);
  const cCyc = col('Cyc#');
  const cStep = col('Step');
  const cTest = col('Test (Sec)');
  const cAmps = col('Amps');
  const cState = col('State');
  const cAh = col('Amp-hr');
  const cStepSec = findColumn(cells, 'Step (Sec)');
  const cVolt = findColumn(cells, 'Volts');
  const cDate = findColumn(cells, 'DPt Time');
  const need = Math.max(cCyc.index, cStep.index, cTest.index, cAmps.index, cState.index, cAh.index, cStepSec.index, cVolt.index, cDate.index) + 1;
  return { cCyc, cStep, cTest, cAmps, cState, cAh, cStepSec, cVolt, cDate, need };
}

/** The layout for the shared loop: metadata lines come first; the header is the first line with a `Rec#` cell. */
const MACCOR_LAYOUT: LineLayout<MaccorColumns> = {
  header(text, line, fileName) {
    if (!text.includes('Rec#')) return undefined;
    const cells = text.split('\t').map((c) => c.trim());
    return cells.includes('Rec#') ? readMaccorHeader(cells, line, fileName) : undefined;
  },
  blank: '\t',
  noHeader: "a tab-separated header row with a 'Rec#' column (none found before the end of the file)",
};

/**
 * The incremental form of `parseMaccorText`. With `currentSign: 'auto'` the sign convention is settled by
 * the first row that can tell: a negative `Amps` (signed export) or a `D` row with a positive `Amps`
 * (unsigned export, sign from `State`). Rows before that are held back (normally the first charge step;
 * a file without any discharge is held to its end). This equals the whole-file rule ("`state` when the
 * file has `D` rows but no negative current") except for a file whose first discharge row is positive
 * and which has negative current later: such a file is read as unsigned here (pass `currentSign`).
 */
export function createMaccorParser(opts: MaccorTextOptions): CyclerRowParser {
  const { fileName } = opts;
  let startTs = opts.startTs;
  const oracle: CyclerStepOracle[] = [];
  let open: CyclerStepOracle | undefined;
  const setting = opts.currentSign ?? 'auto';
  let mode: 'signed' | 'state' | undefined = setting === 'auto' ? undefined : setting;
  const held: { row: CyclerRow; state: string }[] = [];

  const applySign = (r: CyclerRow, state: string): void => {
    if (mode !== 'state') return;
    if (state === 'C') r.current_mA = Math.abs(r.current_mA);
    else if (state === 'D') r.current_mA = -Math.abs(r.current_mA);
  };

  // Settles the sign convention on the first row that tells; false while the row must be held back.
  const settled = (amps: number, state: string, out: CyclerRow[]): boolean => {
    if (mode !== undefined) return true;
    if (amps < 0) mode = 'signed';
    else if (state === 'D' && amps > 0) mode = 'state';
    if (mode === undefined) return false;
    for (const h of held) {
      applySign(h.row, h.state);
      out.push(h.row);
    }
    held.length = 0;
    return true;
  };

  const row = (text: string, line: number, c: MaccorColumns, out: CyclerRow[]): void => {
    const f = text.split('\t');
    if (f.length < c.need) throw shortRowError(fileName, line, c.need, f.length, text);
    const cell = new RowCells(f, fileName, line);
    const sec = cell.duration(c.cTest);
    startTs ??= startTsFromWallClock(f, c.cDate, sec, fileName, line, 'MM/DD/YYYY HH:MM:SS');
    const amps = cell.number(c.cAmps);
    const cycleIndex = cell.integer(c.cCyc);
    const stepIndex = cell.integer(c.cStep);
    const state = cell.text(c.cState).toUpperCase();
    if (state === '') throw new ReaderError({ fileName, line, column: c.cState.name, expected: 'a state letter (C, D, R, O or S)', value: '' });
    const ah = cell.number(c.cAh);

    const r: CyclerRow = { ts: startTs + secondsToMs(sec), current_mA: amps * 1000, stepIndex, cycleIndex, line };
    cell.voltage(c.cVolt, r);

    // The oracle, from non-S rows (independent of the sign convention).
    if (state !== 'S') {
      if (open?.cycleIndex !== cycleIndex || open.stepIndex !== stepIndex) {
        // Step (Sec) is only needed on the row that starts a step.
        const ss = c.cStepSec.index >= 0 ? cell.duration(c.cStepSec) : NaN;
        const tStart = Number.isNaN(ss) ? r.ts : r.ts - secondsToMs(ss);
        open = { cycleIndex, stepIndex, kind: 'rest', capacity_mAh: 0, tStart, tEnd: r.ts };
        oracle.push(open);
      }
      open.kind = maccorStateKind(state);
      open.capacity_mAh = Math.abs(ah) * 1000;
      open.tEnd = r.ts;
    }

    if (!settled(amps, state, out)) {
      held.push({ row: r, state });
      return;
    }
    applySign(r, state);
    out.push(r);
  };

  return new CyclerLineParser(MACCOR_LAYOUT, fileName, {
    oracle,
    startTs: () => startTs,
    row,
    held: () => held.length,
    finish(out) {
      // Undecided to the end: no negative current and no discharge row with current: nothing to flip.
      mode ??= 'signed';
      for (const h of held) out.push(h.row);
      held.length = 0;
    },
  });
}
