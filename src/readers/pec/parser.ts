/**
 * PEC CSV export (PEC SBT battery testers; what cellpy calls "pec_csv"): `key:,value` metadata lines (28 in
 * the corpus file), an optional `#RESULTS CHECK` … `#END RESULTS CHECK` block, then one comma-separated
 * header row starting `Test,Cell,Rack,`, then one row per record (every row ends with a comma).
 *
 * Columns, by name:
 * - `Cycle`, `Step` (integers) → the cycler's indices.
 * - `Total Time (Seconds)` (or `Total Time` as `hh:mm:ss[.fff]`) → `ts`; `Real Time` (`MM/DD/YYYY hh:mm:ss`)
 *   on the first row → the default `startTs` (else the `Start Time:` metadata line).
 * - `Current (mA)` or `Current (A)`, signed (+ charge); `Voltage (mV)` or `Voltage (V)`.
 * - `Charge Capacity (mAh)` / `Discharge Capacity (mAh)` (or `(Ah)`): counters that accumulate over a whole
 *   cycle and restart at 0 with the next → the oracle (each step credited with the counters' gain over it).
 */
import { isBlankLine, parseWallClockUtc, secondsToMs, shortRowError, splitCsvLine, type Column } from '../common.js';
import { counterIncrement } from '../counters.js';
import { localeDuration, localeNumberCell, optionalLocaleNumberCell } from '../fields.js';
import { CyclerLineParser, parseCyclerText, type LineLayout } from '../line-parser.js';
import type { CyclerRowParser } from '../stream.js';
import { ReaderError, type CyclerParseResult, type CyclerRow, type CyclerStepOracle } from '../types.js';

export interface PecCsvOptions {
  fileName: string;
  /** Epoch ms of total time 0. Default: the first row's `Real Time` minus its total time, else the `Start Time:` line. */
  startTs?: number;
}

/** What the header line starts with. */
export const PEC_HEADER_START = 'Test,Cell,Rack,';

interface PecColumns {
  readonly time: Column;
  readonly timeIsSeconds: boolean;
  readonly cur: Column;
  readonly toMa: number;
  readonly volt: Column;
  readonly toV: number;
  readonly cycle: Column;
  readonly step: Column;
  readonly chg: Column;
  readonly dchg: Column;
  readonly toMah: number;
  readonly real: Column;
  readonly need: number;
}

function pecColumns(text: string, line: number, fileName: string): PecColumns {
  const names = splitCsvLine(text, ',').map((c) => c.trim());
  const find = (...wanted: string[]): Column => {
    for (const name of wanted) {
      const index = names.indexOf(name);
      if (index >= 0) return { index, name };
    }
    return { index: -1, name: wanted[0] ?? '' };
  };
  const need = (...wanted: string[]): Column => {
    const c = find(...wanted);
    if (c.index < 0) throw new ReaderError({ fileName, line, expected: `a ${wanted.map((w) => `'${w}'`).join(' or ')} column in the PEC header`, value: text });
    return c;
  };
  const time = need('Total Time (Seconds)', 'Total Time');
  const cur = need('Current (mA)', 'Current (A)');
  const volt = find('Voltage (mV)', 'Voltage (V)');
  const chg = find('Charge Capacity (mAh)', 'Charge Capacity (Ah)');
  const dchg = find('Discharge Capacity (mAh)', 'Discharge Capacity (Ah)');
  const c = {
    time,
    timeIsSeconds: time.name.endsWith('(Seconds)'),
    cur,
    toMa: cur.name.endsWith('(A)') ? 1000 : 1,
    volt,
    toV: volt.name.endsWith('(mV)') ? 0.001 : 1,
    cycle: need('Cycle'),
    step: need('Step'),
    chg,
    dchg,
    toMah: chg.name.endsWith('(Ah)') ? 1000 : 1,
    real: find('Real Time'),
  };
  return { ...c, need: Math.max(c.time.index, c.cur.index, c.volt.index, c.cycle.index, c.step.index, c.chg.index, c.dchg.index, c.real.index) + 1 };
}

export function parsePecCsv(text: string, opts: PecCsvOptions): CyclerParseResult {
  return parseCyclerText(createPecParser(opts), text);
}

export function createPecParser(opts: PecCsvOptions): CyclerRowParser {
  const { fileName } = opts;
  let startTs = opts.startTs;
  let metaStart: number | undefined;
  const oracle: CyclerStepOracle[] = [];
  let open: CyclerStepOracle | undefined;
  // The counters restart with each cycle: reset-aware increments within a cycle, credited to the row's step.
  let counterCycle = NaN;
  let lastC = 0;
  let lastD = 0;

  const layout: LineLayout<PecColumns> = {
    header(text, line) {
      if (text.startsWith(PEC_HEADER_START)) return pecColumns(text, line, fileName);
      if (text.startsWith('Start Time:,')) metaStart = parseWallClockUtc(text.slice('Start Time:,'.length));
      return undefined;
    },
    blank: ',',
    noHeader: `a PEC header row starting '${PEC_HEADER_START}'`,
  };

  const row = (text: string, line: number, c: PecColumns, out: CyclerRow[]): void => {
    const f = splitCsvLine(text, ',');
    if (f.length < c.need) throw shortRowError(fileName, line, c.need, f.length, text);
    const ctx = (col: Column) => ({ fileName, line, column: col.name });
    const timeCell = f[c.time.index] ?? '';
    const sec = c.timeIsSeconds ? localeNumberCell(timeCell, ctx(c.time)) : localeDuration(timeCell);
    if (!Number.isFinite(sec)) throw new ReaderError({ ...ctx(c.time), expected: 'an elapsed time', value: timeCell });
    if (startTs === undefined) {
      const real = c.real.index >= 0 ? parseWallClockUtc(f[c.real.index] ?? '') : NaN;
      const t0 = !Number.isNaN(real) ? real - secondsToMs(sec) : metaStart;
      if (t0 === undefined || Number.isNaN(t0))
        throw new ReaderError({ ...ctx(c.real), expected: "a 'Real Time' wall clock or a 'Start Time:' line (or give --start)" });
      startTs = t0;
    }
    const ts = startTs + secondsToMs(sec);
    const cycleIndex = localeNumberCell(f[c.cycle.index], ctx(c.cycle));
    const stepIndex = localeNumberCell(f[c.step.index], ctx(c.step));
    const r: CyclerRow = { ts, current_mA: localeNumberCell(f[c.cur.index], ctx(c.cur)) * c.toMa, stepIndex, cycleIndex, line };
    const v = c.volt.index >= 0 ? optionalLocaleNumberCell(f[c.volt.index], ctx(c.volt)) : undefined;
    if (v !== undefined) r.voltage_V = v * c.toV;
    out.push(r);
    if (c.chg.index < 0 || c.dchg.index < 0) return;
    const qc = localeNumberCell(f[c.chg.index], ctx(c.chg)) * c.toMah;
    const qd = localeNumberCell(f[c.dchg.index], ctx(c.dchg)) * c.toMah;
    if (cycleIndex !== counterCycle) {
      counterCycle = cycleIndex;
      lastC = 0;
      lastD = 0;
    }
    if (open?.cycleIndex !== cycleIndex || open.stepIndex !== stepIndex) {
      open = { cycleIndex, stepIndex, kind: 'rest', capacity_mAh: 0, tStart: ts, tEnd: ts, qChargeCycler_mAh: 0, qDischargeCycler_mAh: 0 };
      oracle.push(open);
    }
    open.qChargeCycler_mAh = (open.qChargeCycler_mAh ?? 0) + counterIncrement(lastC, qc);
    open.qDischargeCycler_mAh = (open.qDischargeCycler_mAh ?? 0) + counterIncrement(lastD, qd);
    lastC = qc;
    lastD = qd;
    open.tEnd = ts;
    const dc = open.qChargeCycler_mAh;
    const dd = open.qDischargeCycler_mAh;
    open.kind = dc > dd && dc > 0 ? 'charge' : dd > 0 ? 'discharge' : 'rest';
    open.capacity_mAh = Math.max(dc, dd, 0);
  };

  return new CyclerLineParser(layout, fileName, { oracle, startTs: () => startTs, row });
}

/** True when `text` is a PEC header line. */
export function isPecHeader(text: string): boolean {
  return text.startsWith(PEC_HEADER_START) && !isBlankLine(text, ',');
}
