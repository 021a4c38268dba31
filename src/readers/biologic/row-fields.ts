/**
 * The columns an EC-Lab row is read by, and the row read straight from the file's bytes (no string) when
 * every field it needs is a plain number; the parser (parser.ts) falls back to the text path otherwise.
 */
import type { Column } from '../common.js';
import { bytesFieldNumbers, RepeatCache } from '../scan.js';

export interface BiologicColumns {
  readonly time: Column;
  readonly cur: Column;
  readonly curToMa: number;
  readonly volt: Column;
  readonly cycle: Column;
  readonly half: Column;
  readonly mode: Column;
  readonly q: Column;
  /** The cycler's counters by direction (`Q charge/mA.h`, `Q discharge/mA.h`), -1 when absent or not read. */
  readonly qc: Column;
  readonly qd: Column;
  readonly need: number;
}

/** The numbers of one row, before they change anything (NaN: a column the export does not have). */
export interface RowFields {
  time_s: number;
  current: number;
  voltage: number | undefined;
  cycle: number;
  half: number;
  mode: number;
  q: number;
  qc: number;
  qd: number;
}

/** Fields looked at per row: the columns oep reads must be among the first ones. */
export const MAX_FIELDS = 64;

/** The columns read from bytes, in the order of their slots in `BytesRow.values`. */
const SLOT_COLUMNS = ['time', 'cur', 'volt', 'cycle', 'half', 'mode', 'q', 'qc', 'qd'] as const;
/** Columns whose text repeats row after row (as the text path's `FieldCache`): current, cycle, half cycle, mode. */
const REPEATING = new Set<string>(['cur', 'cycle', 'half', 'mode']);

/** What reading a row from bytes needs: each field's bounds and slot (-1: not read), and the numbers read. */
export interface BytesRow {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly slots: Int8Array;
  readonly values: Float64Array;
  readonly repeat: RepeatCache;
}

export function bytesRow(c: BiologicColumns, starts: Int32Array, ends: Int32Array): BytesRow {
  const slots = new Int8Array(MAX_FIELDS).fill(-1);
  SLOT_COLUMNS.forEach((name, slot) => {
    const k = c[name].index;
    if (k >= 0) slots[k] = slot;
  });
  return { starts, ends, slots, values: new Float64Array(SLOT_COLUMNS.length), repeat: new RepeatCache(SLOT_COLUMNS.map((n) => REPEATING.has(n))) };
}

/**
 * A row's fields straight from the file's bytes (no string), when every one it needs is a plain number
 * (`bytesNumber`); false (and `f` to be ignored) otherwise: the row is then read as text. A column the
 * export lacks reads 0 (not used then).
 */
export function fieldsFromBytes(buf: Uint8Array, start: number, end: number, c: BiologicColumns, b: BytesRow, f: RowFields): boolean {
  if (bytesFieldNumbers(buf, start, end, c.need, b.slots, b.starts, b.ends, b.values, b.repeat) < c.need) return false;
  const v = b.values;
  const vi = c.volt.index;
  f.time_s = v[0] ?? NaN;
  f.current = v[1] ?? NaN;
  f.voltage = vi >= 0 && (b.ends[vi] ?? 0) > (b.starts[vi] ?? 0) ? (v[2] ?? NaN) : undefined;
  f.cycle = c.cycle.index >= 0 ? (v[3] ?? NaN) : 0;
  f.half = c.half.index >= 0 ? (v[4] ?? NaN) : 0;
  f.mode = c.mode.index >= 0 ? (v[5] ?? NaN) : 0;
  f.q = c.q.index >= 0 ? (v[6] ?? NaN) : 0;
  f.qc = c.qc.index >= 0 ? (v[7] ?? NaN) : 0;
  f.qd = c.qd.index >= 0 ? (v[8] ?? NaN) : 0;
  // NaN: a field that is not a plain number.
  const volt = f.voltage;
  if (f.time_s !== f.time_s || f.current !== f.current || (volt !== undefined && volt !== volt)) return false;
  return f.cycle === f.cycle && f.half === f.half && f.mode === f.mode && f.q === f.q && f.qc === f.qc && f.qd === f.qd;
}
