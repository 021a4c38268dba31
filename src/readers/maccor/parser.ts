/**
 * Maccor text export (`.0xx` "ASCII" export): metadata lines (any number, any content), then a
 * tab-separated header row (the first line whose first cell is `Rec#` or `Rec`), then one row per record;
 * CRLF or LF; decimal points or commas.
 *
 * Columns, by header name (the names of each layout: `columns.ts`):
 * - cycle (`Cyc#`, `Cycle C`), `Step` (integers); state (`State`, `Md`): `C` charge, `D` discharge, `R`
 *   rest, `O` other, `S` stopped (the final row of a stopped test).
 * - test time (`Test (Sec)`, `Test (Min)`, `TestTime`): elapsed, a number or `Nd H:MM:SS[.sss]`. A bare
 *   `TestTime` number has no unit: the wall clock tells (seconds, minutes or hours: the rows are held until
 *   the wall clock has moved a minute, then the ratio of the spans is rounded to the nearest unit).
 * - step time (optional, same forms): where a file that starts mid-step began that step.
 * - current (`Amps`, `Current [A]`, `mAmps`) → `current_mA`. Signed (+ charge) in most exports; some
 *   write it unsigned and carry the direction in the state (see `currentSign`).
 * - capacity counter (`Amp-hr`, `Cap. [Ah]`, `mAmp-hr`): positive both ways; restarts at 0 with a step,
 *   or continues the previous step's count (a CV step after its CC step, in some procedures).
 * - voltage (`Volts`, in mV in the milli-unit export) → `voltage_V`; wall clock (`DPt Time`): only the
 *   first row's, for the default `startTs` (later rows may jump, e.g. at the end of daylight saving time;
 *   `ts` follows the test time).
 *
 * A file that starts mid-step (its first row's step time is not 0): a row is added at the step's start
 * with the first row's current, so the integral covers what the cycler's counter covers. A truncated
 * last record (fewer fields than the header, the file cut while written) is dropped; a truncated record
 * followed by others is an error.
 *
 * Timing rules (what BEEP's `xTESLADIAG_000038.078` shows): a step's first row is already some way
 * into the step (`Step (Sec)` = 0.03 s at `Test (Sec)` = 5.03), and `Test − Step` on that row equals
 * the previous row's `Test (Sec)`: consecutive steps share the boundary instant, which the oracle
 * reports as `tStart`. No two rows share a timestamp in that file.
 */
import { parseWallClockUtc, RowCells, secondsToMs, shortRowError, startTsFromWallClock } from '../common.js';
import { counterIncrement } from '../counters.js';
import { localeDuration, localeNumber, localeNumberCell } from '../fields.js';
import { CyclerLineParser, parseCyclerText, type LineLayout } from '../line-parser.js';
import type { CyclerRowParser } from '../stream.js';
import { ReaderError, type CyclerParseResult, type CyclerRow, type CyclerStepOracle } from '../types.js';
import { isMaccorHeader, readMaccorHeader, type MaccorColumns } from './columns.js';

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
 * A step is a maximal run of non-`S` rows with equal cycle and step index; `S` (stopped) rows are kept as
 * rows but ignored by the oracle. Per step: kind from the last row's state; the counter's gain over the
 * step (from 0, or from the previous step's last value when the step continues that count: whichever is
 * nearer to what the step's current could have passed by its first row), credited to charge (a step that
 * starts in state C), discharge (D) or nothing; `tStart` = first row's `ts` − its step time (the first
 * row's `ts` without a step-time column), `tEnd` = last row's `ts`.
 */
export function parseMaccorText(text: string, opts: MaccorTextOptions): CyclerParseResult {
  return parseCyclerText(createMaccorParser(opts), text);
}

/** The layout for the shared loop: metadata lines come first; the header is the first line whose first cell is `Rec#` or `Rec`. */
const MACCOR_LAYOUT: LineLayout<MaccorColumns> = {
  header(text, line, fileName) {
    if (!text.startsWith('Rec')) return undefined;
    const cells = text.split('\t').map((c) => c.trim());
    return isMaccorHeader(cells) ? readMaccorHeader(cells, line, fileName) : undefined;
  },
  blank: '\t',
  noHeader: "a tab-separated header row starting with 'Rec#' or 'Rec' (none found before the end of the file)",
};

/** One data row as read, its times still in the file's unit. */
interface RawRow {
  readonly line: number;
  readonly test: number;
  /** NaN without a step-time column. */
  readonly stepTime: number;
  readonly amps_mA: number;
  readonly state: string;
  readonly cycle: number;
  readonly step: number;
  readonly q_mAh: number;
  readonly voltage_V: number | undefined;
  /** The wall-clock cell (only the first row's is read). */
  readonly wallCell: string;
  /** The test time was written as a duration (`Nd hh:mm:ss`): its unit is the second. */
  readonly duration: boolean;
}

/** An elapsed-time cell: a duration form (seconds) or a number in the column's unit; NaN otherwise. */
function elapsedOf(cell: string): { v: number; duration: boolean } {
  return cell.includes(':') ? { v: localeDuration(cell), duration: true } : { v: localeNumber(cell), duration: false };
}

function readRaw(f: readonly string[], line: number, c: MaccorColumns, fileName: string): RawRow {
  const cell = new RowCells(f, fileName, line);
  const num = (col: MaccorColumns['amps']): number => localeNumberCell(f[col.index], { fileName, line, column: col.name });
  const int = (col: MaccorColumns['amps']): number => {
    const v = num(col);
    if (!Number.isInteger(v)) throw new ReaderError({ fileName, line, column: col.name, expected: 'an integer', value: f[col.index] ?? '' });
    return v;
  };
  const t = elapsedOf(f[c.test.index] ?? '');
  if (!Number.isFinite(t.v))
    throw new ReaderError({ fileName, line, column: c.test.name, expected: 'an elapsed time (a number or Nd hh:mm:ss)', value: f[c.test.index] ?? '' });
  const st = c.stepTime.index >= 0 ? elapsedOf(f[c.stepTime.index] ?? '').v : NaN;
  const state = cell.text(c.state).toUpperCase();
  if (state === '') throw new ReaderError({ fileName, line, column: c.state.name, expected: 'a state letter (C, D, R, O or S)', value: '' });
  const vCell = c.volt.index >= 0 ? (f[c.volt.index] ?? '').trim() : '';
  return {
    line,
    test: t.v,
    stepTime: st,
    amps_mA: num(c.amps) * c.toMa,
    state,
    cycle: int(c.cycle),
    step: int(c.step),
    q_mAh: num(c.ah) * c.toMah,
    voltage_V: vCell === '' ? undefined : num(c.volt) * c.toV,
    wallCell: c.date.index >= 0 ? (f[c.date.index] ?? '') : '',
    duration: t.duration,
  };
}

/** Wall-clock span after which a bare `TestTime`'s unit is judged, ms. */
const UNIT_SPAN_MS = 60_000;
const TIME_UNITS_S = [1, 60, 3600];

/**
 * The unit of a bare-number test time, from the rows so far: the wall-clock span over the test-time span,
 * rounded to the nearest of s, min, h, once the wall clock has moved `UNIT_SPAN_MS`; undefined before.
 */
function unitFromWallClock(rows: readonly RawRow[]): number | undefined {
  const first = rows[0];
  if (first === undefined) return undefined;
  const w0 = parseWallClockUtc(first.wallCell);
  if (Number.isNaN(w0)) return 1; // no usable wall clock: seconds (the error about it comes with startTs)
  for (let k = rows.length - 1; k > 0; k--) {
    const r = rows[k];
    if (r === undefined) continue;
    const span_ms = parseWallClockUtc(r.wallCell) - w0;
    const test = r.test - first.test;
    if (span_ms >= UNIT_SPAN_MS && test > 0) {
      const ratio = span_ms / 1000 / test;
      return TIME_UNITS_S.reduce((best, u) => (Math.abs(Math.log(ratio / u)) < Math.abs(Math.log(ratio / best)) ? u : best));
    }
    break;
  }
  return undefined;
}

/**
 * The cycler's per-step counters (`oracle.py`'s rule): a step of non-`S` rows starting in C or D is
 * credited the counter's gain over it, counted from 0 or from the previous step's last value when it
 * continues that count.
 */
class StepCounters {
  private open: CyclerStepOracle | undefined;
  private openState = '';
  private sum = 0;
  private last = 0;
  /** The counter's value on the last row of the previous step. */
  private prevQ = 0;

  constructor(private readonly oracle: CyclerStepOracle[]) {}

  row(r: RawRow, ts: number, current_mA: number, stepTime_s: number): void {
    if (r.state === 'S') return;
    if (this.open?.cycleIndex !== r.cycle || this.open.stepIndex !== r.step) {
      this.close();
      const cd = r.state === 'C' || r.state === 'D';
      let cont = false;
      if (cd && this.prevQ > 0 && r.q_mAh >= this.prevQ) {
        // Continuation or restart: which is nearer to what the step's current passed by this row?
        const sinceStart = (Math.abs(current_mA) * Math.max(Number.isNaN(stepTime_s) ? 0 : stepTime_s, 0)) / 3600;
        cont = Math.abs(r.q_mAh - (this.prevQ + sinceStart)) < Math.abs(r.q_mAh - sinceStart);
      }
      this.last = cont ? this.prevQ : 0;
      this.sum = 0;
      this.openState = r.state;
      const tStart = Number.isNaN(stepTime_s) ? ts : ts - secondsToMs(stepTime_s);
      this.open = { cycleIndex: r.cycle, stepIndex: r.step, kind: 'rest', capacity_mAh: 0, tStart, tEnd: ts };
      this.oracle.push(this.open);
    }
    this.sum += counterIncrement(this.last, r.q_mAh);
    this.last = r.q_mAh;
    this.prevQ = r.q_mAh;
    this.open.kind = maccorStateKind(r.state);
    this.open.tEnd = ts;
  }

  close(): void {
    const o = this.open;
    if (o === undefined) return;
    const credited = this.openState === 'C' || this.openState === 'D' ? this.sum : 0;
    o.capacity_mAh = credited;
    o.qChargeCycler_mAh = this.openState === 'C' ? credited : 0;
    o.qDischargeCycler_mAh = this.openState === 'D' ? credited : 0;
    this.open = undefined;
  }
}

/**
 * The incremental form of `parseMaccorText`. Rows are held until the conventions are settled: the unit of
 * a bare-number test time (see `unitFromWallClock`) and, with `currentSign: 'auto'`, the sign convention:
 * the first row that can tell (a negative current: a signed export; a `D` row with a positive current: an
 * unsigned export, sign from the state). A file without any discharge is held to its end. This equals the
 * whole-file rule ("`state` when the file has `D` rows but no negative current") except for a file whose
 * first discharge row is positive and which has negative current later: such a file is read as unsigned
 * here (pass `currentSign`).
 */
export function createMaccorParser(opts: MaccorTextOptions): CyclerRowParser {
  const { fileName } = opts;
  let startTs = opts.startTs;
  const oracle: CyclerStepOracle[] = [];
  const counters = new StepCounters(oracle);
  const setting = opts.currentSign ?? 'auto';
  let sign: 'signed' | 'state' | undefined = setting === 'auto' ? undefined : setting;
  let unit_s: number | undefined;
  let first: RawRow | undefined;
  let emitted = 0;
  const held: RawRow[] = [];
  let truncated: ReaderError | undefined;

  const settle = (r: RawRow, c: MaccorColumns): void => {
    unit_s ??= c.timeUnit_s ?? (r.duration || c.date.index < 0 ? 1 : unitFromWallClock(held));
    if (sign === undefined) {
      if (r.amps_mA < 0) sign = 'signed';
      else if (r.state === 'D' && r.amps_mA > 0) sign = 'state';
    }
  };

  const emit = (r: RawRow, c: MaccorColumns, unit: number, out: CyclerRow[]): void => {
    const f0 = first ?? r;
    if (startTs === undefined) {
      const cells: string[] = [];
      cells[c.date.index] = f0.wallCell;
      startTs = startTsFromWallClock(cells, c.date, f0.test * unit, fileName, f0.line, 'MM/DD/YYYY HH:MM:SS');
    }
    const ts = startTs + secondsToMs(r.test * unit);
    const current_mA = sign === 'state' && r.state === 'C' ? Math.abs(r.amps_mA) : sign === 'state' && r.state === 'D' ? -Math.abs(r.amps_mA) : r.amps_mA;
    const stepTime_s = r.stepTime * unit;
    const base = { current_mA, voltage_V: r.voltage_V, stepIndex: r.step, cycleIndex: r.cycle, line: r.line };
    // A file that starts mid-step: the step began `stepTime` before its first row.
    if (emitted === 0 && stepTime_s > 0) out.push({ ...base, ts: ts - secondsToMs(stepTime_s) });
    out.push({ ...base, ts });
    emitted++;
    counters.row(r, ts, current_mA, stepTime_s);
  };

  const flush = (c: MaccorColumns, out: CyclerRow[]): void => {
    const unit = unit_s;
    if (unit === undefined || sign === undefined) return;
    for (const h of held) emit(h, c, unit, out);
    held.length = 0;
  };

  const row = (text: string, line: number, c: MaccorColumns, out: CyclerRow[]): void => {
    if (truncated !== undefined) throw truncated;
    const f = text.split('\t');
    if (f.length < c.need) {
      // The last record of a file cut while it was written: dropped if nothing follows it.
      truncated = shortRowError(fileName, line, c.need, f.length, text);
      return;
    }
    const r = readRaw(f, line, c, fileName);
    first ??= r;
    held.push(r);
    settle(r, c);
    flush(c, out);
  };

  let cols: MaccorColumns | undefined;
  return new CyclerLineParser(
    {
      ...MACCOR_LAYOUT,
      header: (text, line, name) => (cols = MACCOR_LAYOUT.header(text, line, name)),
    },
    fileName,
    {
      oracle,
      startTs: () => startTs,
      row,
      held: () => held.length,
      finish(out) {
        // Undecided to the end: seconds, and no negative current nor a discharge row with current: nothing to flip.
        unit_s ??= 1;
        sign ??= 'signed';
        if (cols !== undefined) flush(cols, out);
        counters.close();
      },
    },
  );
}
