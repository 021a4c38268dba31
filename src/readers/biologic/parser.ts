/**
 * BioLogic EC-Lab (and BT-Lab) ASCII export, `.mpt`.
 *
 * Layout: line 1 `EC-Lab ASCII FILE`; line 2 `Nb header lines : N`; lines 3..N−1 the settings (absent in
 * a plain export, where N = 3); line N the tab-separated column names; data rows after it. Text is
 * ISO-8859-1 (`µ` in column names such as `Capacitance charge/µF`): read the file as latin1.
 *
 * Columns, by name:
 * - `time/s` (required): seconds since the acquisition start. It need not start at 0 (a technique linked
 *   after another continues the clock).
 * - current (required): `<I>/mA` or `I/mA` (also `/A`, `/µA`); signed, + = oxidation of the working
 *   electrode, which is charge for a full cell wired cathode-as-WE (the `currentSign` setting flips it).
 * - `Ewe/V` (or `<Ewe>/V`, `Ecell/V`) → voltage.
 * - `cycle number` (a float in the file) → cycle index; `half cycle` and `mode` (1 CC, 2 CV, 3 rest) →
 *   the step index (see below); `Q charge/discharge/mA.h` → the oracle.
 * Numbers may be written with decimal commas (French/German Windows locales).
 *
 * Time zero: `Acquisition started on : MM/DD/YYYY HH:MM:SS[.sss]` in the settings, read as UTC (a
 * date that is not a valid MM/DD is tried as DD/MM and DD.MM); a plain export has no such line, then
 * `startTs` (default 0).
 *
 * Steps: EC-Lab numbers half cycles (each charge or discharge, with the rest after it) and writes the
 * control mode. The step index here counts runs of equal (`half cycle`, rest or not): a CV hold (mode 2)
 * stays in its CC charge step, a rest (mode 3) is a step of its own. Without either column rows carry no
 * step index. The oracle: per step, |Q| on its last row minus |Q| before it in the same half cycle
 * (`Q charge/discharge` restarts at 0 every half cycle, + charge, − discharge).
 */
import { findColumn, parseWallClockUtc, requireColumn, secondsToMs, shortRowError, type Column } from '../common.js';
import { counterIncrement } from '../counters.js';
import { parseDateTime } from '../fields.js';
import { CyclerLineParser, parseCyclerText, type LineLayout } from '../line-parser.js';
import { FieldCache, fieldBounds, numberAt } from '../scan.js';
import type { CyclerRowParser } from '../stream.js';
import { ReaderError, type CyclerParseResult, type CyclerRow, type CyclerStepOracle } from '../types.js';
import { bytesRow, fieldsFromBytes, MAX_FIELDS, type BiologicColumns, type BytesRow, type RowFields } from './row-fields.js';

export interface BiologicMptOptions {
  /** Used in error messages. */
  fileName: string;
  /** Epoch ms of `time/s` = 0. Default: the `Acquisition started on` line read as UTC; 0 without one. */
  startTs?: number;
  /** Build the oracle from `Q charge/discharge` (default true; processing does not need it). */
  oracle?: boolean;
}

/** What line 1 of an export starts with. */
export const BIOLOGIC_MAGIC = ['EC-Lab ASCII FILE', 'BT-Lab ASCII FILE'];
const NB_HEADER = /^Nb header lines\s*:\s*(\d+)\s*$/;
const ACQ_STARTED = /^Acquisition started on\s*:\s*(.+)$/;

/** Factor to mA for a current column name, or undefined when the name is not a current column. */
function currentFactor(name: string): number | undefined {
  const m = /^<?I>?\/(mA|A|µA|uA)$/.exec(name);
  if (m === null) return undefined;
  return m[1] === 'A' ? 1000 : m[1] === 'mA' ? 1 : 0.001;
}

/** EC-Lab writes the acquisition date in the Windows locale: MM/DD/YYYY, else DD/MM/YYYY or DD.MM.YYYY. */
export function parseAcquisitionStart(text: string): number {
  const s = text.trim();
  const us = parseWallClockUtc(s);
  if (!Number.isNaN(us)) return us;
  const m = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})\s+(.+)$/.exec(s);
  if (m !== null) {
    // The groups are not optional: a match has all four (`?? ''` only satisfies the index type).
    const v = parseWallClockUtc(`${m[3]}-${(m[2] ?? '').padStart(2, '0')}-${(m[1] ?? '').padStart(2, '0')} ${(m[4] ?? '').replace(',', '.')}`);
    if (!Number.isNaN(v)) return v;
  }
  return parseDateTime(s);
}

export function parseBiologicMpt(text: string, opts: BiologicMptOptions): CyclerParseResult {
  return parseCyclerText(createBiologicParser(opts), text);
}

/** The columns an EC-Lab export has and oep reads (-1: absent), and the current's factor to mA. */
/** The column row (line N) → the columns read; `withOracle` false leaves `Q charge/discharge` out. */
function readColumns(text: string, line: number, fileName: string, withOracle: boolean): BiologicColumns {
  const names = text.split('\t').map((c) => c.trim());
  const time = requireColumn(names, fileName, line, 'time/s');
  let cur: Column = { index: -1, name: '<I>/mA' };
  let curToMa = 1;
  // Prefer the averaged current `<I>` (what EC-Lab records in GCPL), then `I`.
  for (const pref of ['<', 'I']) {
    if (cur.index >= 0) break;
    names.forEach((n, index) => {
      const f = currentFactor(n);
      if (cur.index < 0 && f !== undefined && n.startsWith(pref)) {
        cur = { index, name: n };
        curToMa = f;
      }
    });
  }
  if (cur.index < 0) {
    throw new ReaderError({ fileName, line, expected: "a current column ('<I>/mA' or 'I/mA') in the column row", value: names.join(', ') });
  }
  const volt = findColumn(names, 'Ewe/V', '<Ewe>/V', 'Ecell/V', '<Ecell>/V');
  const cycle = findColumn(names, 'cycle number');
  const half = findColumn(names, 'half cycle');
  const mode = findColumn(names, 'mode');
  const none: Column = { index: -1, name: '' };
  const q = withOracle ? findColumn(names, 'Q charge/discharge/mA.h') : none;
  const qc = withOracle ? findColumn(names, 'Q charge/mA.h') : none;
  const qd = withOracle && qc.index >= 0 ? findColumn(names, 'Q discharge/mA.h') : none;
  const split = qc.index >= 0 && qd.index >= 0;
  const need = Math.max(time.index, cur.index, volt.index, cycle.index, half.index, mode.index, q.index, split ? qc.index : -1, split ? qd.index : -1) + 1;
  if (need > MAX_FIELDS) throw new ReaderError({ fileName, line, expected: `the columns oep reads among the first ${MAX_FIELDS}`, value: names.join(', ') });
  return { time, cur, curToMa, volt, cycle, half, mode, q, qc: split ? qc : none, qd: split ? qd : none, need };
}

/** The header lines 1..N: magic, `Nb header lines : N`, the settings (time zero), the column row. */
function biologicHeader(fileName: string, withOracle: boolean) {
  let headerLines = 0; // N, once line 2 is read
  let acquisitionStart: number | undefined;
  return {
    /** The column row's columns on line N, undefined before; may throw on a malformed header line. */
    line(text: string, line: number): BiologicColumns | undefined {
      if (line === 1) {
        if (!BIOLOGIC_MAGIC.some((m) => text.trim().startsWith(m))) {
          throw new ReaderError({ fileName, line, expected: "'EC-Lab ASCII FILE' (a BioLogic .mpt export)", value: text });
        }
        return undefined;
      }
      if (line === 2) {
        const n = Number(NB_HEADER.exec(text.trim())?.[1]); // NaN without the line
        if (!(n >= 3)) throw new ReaderError({ fileName, line, expected: "'Nb header lines : N' with N ≥ 3", value: text });
        headerLines = n;
        return undefined;
      }
      if (line < headerLines) {
        const started = ACQ_STARTED.exec(text.trim())?.[1];
        if (started !== undefined) {
          const t = parseAcquisitionStart(started);
          if (Number.isNaN(t)) throw new ReaderError({ fileName, line, expected: 'an acquisition date MM/DD/YYYY HH:MM:SS[.sss]', value: started });
          acquisitionStart = t;
        }
        return undefined;
      }
      return line === headerLines ? readColumns(text, line, fileName, withOracle) : undefined;
    },
    /** `Acquisition started on`, when the settings had it. */
    get acquisitionStart(): number | undefined {
      return acquisitionStart;
    },
    noHeader(): string {
      return headerLines > 0
        ? `the column row on line ${headerLines} ('Nb header lines : ${headerLines}'), but the file ended`
        : "'EC-Lab ASCII FILE' and 'Nb header lines : N' (the file is empty)";
    },
  };
}

/**
 * EC-Lab's steps: a run of rows with equal (`half cycle`, rest or not) is one step. With a
 * `Q charge/discharge` column each step also goes to the oracle, its capacity |Q| on its last row minus
 * |Q| before it in the same half cycle (the counter restarts at 0 every half cycle).
 */
class HalfCycleSteps {
  private stepIndex = 0;
  private runKey = NaN;
  private runHalf = NaN;
  /** |Q| before the run, same half cycle. */
  private runQBase = 0;
  private runQLast = 0;
  private runRest = false;
  private open: CyclerStepOracle | undefined = undefined;
  private lastQ = 0;

  constructor(private readonly oracle: CyclerStepOracle[]) {}

  /** The step index of a row; `q` is its `Q charge/discharge` (undefined without that column). */
  step(half: number, rest: boolean, q: number | undefined, cycleIndex: number | undefined, ts: number): number {
    const key = half * 2 + (rest ? 1 : 0);
    if (key !== this.runKey) {
      this.close();
      this.stepIndex++;
      this.runQBase = half === this.runHalf ? this.lastQ : 0;
      this.runKey = key;
      this.runHalf = half;
      this.runRest = rest;
      if (q !== undefined) {
        this.open = { cycleIndex: cycleIndex ?? 0, stepIndex: this.stepIndex, kind: 'rest', capacity_mAh: 0, tStart: ts, tEnd: ts };
        this.oracle.push(this.open);
      }
    }
    this.runQLast = q ?? 0;
    this.lastQ = q ?? 0;
    if (this.open !== undefined) this.open.tEnd = ts;
    return this.stepIndex;
  }

  /** Adds a row's counter increments (the cycler's, by direction) to the open step. */
  credit(charge_mAh: number, discharge_mAh: number): void {
    const open = this.open;
    if (open === undefined) return;
    open.qChargeCycler_mAh = (open.qChargeCycler_mAh ?? 0) + charge_mAh;
    open.qDischargeCycler_mAh = (open.qDischargeCycler_mAh ?? 0) + discharge_mAh;
  }

  /** Settles the open step's kind and capacity (once). */
  close(): void {
    const open = this.open;
    if (open === undefined) return;
    const dq = this.runQLast - this.runQBase;
    open.kind = this.runRest ? 'rest' : dq > 0 ? 'charge' : dq < 0 ? 'discharge' : 'rest';
    open.capacity_mAh = Math.abs(Math.abs(this.runQLast) - Math.abs(this.runQBase));
    this.open = undefined;
  }
}

/**
 * Rows from their numbers: the step index (EC-Lab's half cycles), the cycler's counters credited to it,
 * the row. The counters restart every half cycle: reset-aware increments within a (cycle, half cycle).
 */
class RowCommit {
  private key = NaN;
  private lastC = 0;
  private lastD = 0;

  constructor(
    private readonly steps: HalfCycleSteps,
    private readonly startTs: () => number,
  ) {}

  /** One row from its fields, all read before (a bad field leaves the parser as it was). */
  row(line: number, c: BiologicColumns, out: CyclerRow[], f: RowFields): void {
    // The header settled the time zero (`startTs ??= … ?? 0`) before any row.
    const ts = this.startTs() + secondsToMs(f.time_s);
    const cycleIndex = c.cycle.index >= 0 ? Math.round(f.cycle) : undefined;
    let stepIndexOfRow: number | undefined;
    if (c.half.index >= 0 || c.mode.index >= 0) {
      const half = c.half.index >= 0 ? Math.round(f.half) : 0;
      const rest = c.mode.index >= 0 && Math.round(f.mode) === 3;
      const q = c.q.index >= 0 ? f.q : undefined;
      stepIndexOfRow = this.steps.step(half, rest, q, cycleIndex, ts);
      if (q !== undefined) this.counters(cycleIndex ?? 0, half, c.qc.index >= 0 ? f.qc : Math.max(q, 0), c.qd.index >= 0 ? f.qd : Math.max(-q, 0));
    }
    // One object shape for every row (all fields set, some undefined): cheaper for the JIT.
    const r: CyclerRow = { ts, current_mA: f.current * c.curToMa, voltage_V: f.voltage, stepIndex: stepIndexOfRow, cycleIndex, line };
    out.push(r);
  }

  close(): void {
    this.steps.close();
  }

  private counters(cycle: number, half: number, qc: number, qd: number): void {
    const key = cycle * 1e6 + half;
    if (key !== this.key) {
      this.key = key;
      this.lastC = 0;
      this.lastD = 0;
    }
    this.steps.credit(counterIncrement(this.lastC, qc), counterIncrement(this.lastD, qd));
    this.lastC = qc;
    this.lastD = qd;
  }
}

export function createBiologicParser(opts: BiologicMptOptions): CyclerRowParser {
  const { fileName } = opts;
  let startTs = opts.startTs;
  const oracle: CyclerStepOracle[] = [];
  const starts = new Int32Array(MAX_FIELDS);
  const ends = new Int32Array(MAX_FIELDS);
  const caches = Array.from({ length: MAX_FIELDS }, () => new FieldCache());
  const head = biologicHeader(fileName, opts.oracle !== false);

  const rows = new RowCommit(new HalfCycleSteps(oracle), () => startTs ?? 0);
  const fields: RowFields = { time_s: 0, current: 0, voltage: undefined, cycle: NaN, half: NaN, mode: NaN, q: NaN, qc: NaN, qd: NaN };

  const row = (text: string, line: number, c: BiologicColumns, out: CyclerRow[]): void => {
    const n = fieldBounds(text, '\t', c.need, starts, ends);
    if (n < c.need) throw shortRowError(fileName, line, c.need, n, text);
    // Fields that repeat row after row (current in CC and rest, cycle, mode, half cycle) go through a cache.
    const num = (col: Column, cached: boolean): number => {
      // A field past the bounds found is empty (0, 0): no number. `need` ≤ MAX_FIELDS, so a column always has its bounds and its cache.
      const k = col.index;
      if (k < 0) return NaN;
      const s = starts[k] ?? 0;
      const e = ends[k] ?? 0;
      const cache = cached ? caches[k] : undefined;
      const v = cache !== undefined ? cache.numberAt(text, s, e) : numberAt(text, s, e);
      if (Number.isFinite(v)) return v;
      throw new ReaderError({ fileName, line, column: col.name, expected: 'a number', value: text.slice(s, e) });
    };
    const vi = c.volt.index;
    fields.time_s = num(c.time, false);
    fields.current = num(c.cur, true);
    fields.voltage = vi >= 0 && (ends[vi] ?? 0) > (starts[vi] ?? 0) ? num(c.volt, false) : undefined;
    fields.cycle = num(c.cycle, true);
    fields.half = num(c.half, true);
    fields.mode = num(c.mode, true);
    // The counters are read only where they are used: with a step column (half cycle or mode), and `Q charge/discharge`.
    const counted = (c.half.index >= 0 || c.mode.index >= 0) && c.q.index >= 0;
    fields.q = counted ? num(c.q, false) : NaN;
    fields.qc = counted ? num(c.qc, false) : NaN;
    fields.qd = counted ? num(c.qd, false) : NaN;
    rows.row(line, c, out, fields);
  };

  /** The same row from the file's bytes, when every field it needs is a plain number; false: read it as text. */
  // The slots of the columns read from bytes, made once the column row is known.
  let bytes: { cols: BiologicColumns; row: BytesRow } | undefined;
  const rowBytes = (buf: Uint8Array, start: number, end: number, line: number, c: BiologicColumns, out: CyclerRow[]): boolean => {
    if (bytes?.cols !== c) bytes = { cols: c, row: bytesRow(c, starts, ends) };
    if (!fieldsFromBytes(buf, start, end, c, bytes.row, fields)) return false;
    rows.row(line, c, out, fields);
    return true;
  };

  let columns: BiologicColumns | undefined;
  const layout: LineLayout<BiologicColumns> = {
    header(text, line) {
      const cols = head.line(text, line);
      if (cols !== undefined) startTs ??= head.acquisitionStart ?? 0;
      columns = cols;
      return cols;
    },
    blank: 'trim',
    noHeader: () => head.noHeader(),
  };
  return new CyclerLineParser(layout, fileName, {
    oracle,
    startTs: () => startTs,
    // `<I>/mA` is the mean current over the interval that ends at the row; `I/mA` the current at the row.
    currentSampling: () => (columns === undefined ? undefined : columns.cur.name.startsWith('<') ? 'interval-average' : 'instantaneous'),
    row,
    rowBytes,
    finish: () => {
      rows.close();
    },
  });
}
