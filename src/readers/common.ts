/**
 * Small, allocation-light helpers shared by the cycler readers. No regular expressions per field:
 * cells are converted with `Number()` and split on fixed separators.
 */
import { ReaderError, type CyclerRow } from './types.js';

/**
 * Splits text into lines on `\n`, dropping a trailing `\r` (CRLF) and a leading byte-order mark.
 * Index i holds source line i + 1.
 */
export function splitLines(text: string): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l?.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1);
  }
  return lines;
}

/** True for a line with nothing but whitespace and separators (blank or `,,,`). */
export function isBlankLine(line: string, sep: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (c !== sep && c !== ' ' && c !== '\t') return false;
  }
  return true;
}

/**
 * Splits one CSV line. Plain `split` unless the line has a double quote, then RFC 4180 quoting
 * (quoted separators, `""` escapes) within the line.
 */
export function splitCsvLine(line: string, sep: string): string[] {
  if (!line.includes('"')) return line.split(sep);
  const out: string[] = [];
  let cur = '';
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (inQuotes) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else inQuotes = false;
      } else cur += c;
    } else if (c === '"') inQuotes = true;
    else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Where a cell sits, for error messages. */
export interface CellContext {
  fileName: string;
  line: number;
  column: string;
}

/** A finite number from a cell, or a ReaderError naming file, line, column and value. */
export function numberCell(cell: string | undefined, ctx: CellContext): number {
  if (cell !== undefined) {
    const v = +cell;
    // `+''` and `+'  '` are 0: only then look at the text.
    if (Number.isFinite(v) && (v !== 0 || cell.trim() !== '')) return v;
  }
  throw new ReaderError({ ...ctx, expected: 'a number', value: cell ?? '' });
}

/** An integer from a cell (cycle and step indices), or a ReaderError. */
export function integerCell(cell: string | undefined, ctx: CellContext): number {
  if (cell !== undefined) {
    const v = +cell;
    if (Number.isInteger(v) && cell.trim() !== '') return v;
  }
  throw new ReaderError({ ...ctx, expected: 'an integer', value: cell ?? '' });
}

/** Like numberCell, but an empty cell is `undefined` (optional quantities such as voltage). */
export function optionalNumberCell(cell: string | undefined, ctx: CellContext): number | undefined {
  if (cell === undefined || cell.trim() === '') return undefined;
  return numberCell(cell, ctx);
}

const DURATION_FORMS = 'seconds, [H]H:MM:SS[.sss] or Nd H:MM:SS[.sss]';

/**
 * Elapsed time in seconds from any of: plain seconds (`161804.32`), `H:MM:SS[.sss]` with unbounded
 * hours (`144:01:18`), `M:SS[.sss]`, or `Nd H:MM:SS[.sss]` (`1d 2:03:04.5`; fields need not be
 * zero-padded). Returns NaN when the text is none of these.
 */
export function parseDuration(cell: string): number {
  const s = cell.trim();
  if (s === '') return NaN;
  if (!s.includes(':')) return +s; // plain seconds; NaN for junk
  let days = 0;
  let rest = s;
  const d = s.indexOf('d');
  if (d >= 0) {
    const dayText = s.slice(0, d).trim();
    days = dayText === '' ? NaN : +dayText;
    if (!Number.isInteger(days) || days < 0) return NaN;
    rest = s.slice(d + 1).trim();
  }
  const parts = rest.split(':');
  let h = 0;
  let m: number;
  let sec: number;
  if (parts.length === 3) {
    h = wholeField(parts[0]);
    m = wholeField(parts[1]);
    sec = secondsField(parts[2]);
  } else if (parts.length === 2 && d < 0) {
    m = wholeField(parts[0]);
    sec = secondsField(parts[1]);
    if (m >= 60) return NaN;
  } else return NaN;
  if (!(m < 60 && sec < 60) || (d >= 0 && !(h < 24))) return NaN; // also rejects NaN
  return days * 86_400 + h * 3600 + m * 60 + sec;
}

/** A whole number field (`05`), NaN otherwise; an absent field (`undefined`) is no number. */
function wholeField(t: string | undefined): number {
  if (t === undefined || t === '' || t.includes('.') || t.includes(' ')) return NaN;
  const v = +t;
  return Number.isInteger(v) && v >= 0 ? v : NaN;
}

/** A seconds field (`04.5`), NaN otherwise; an absent field (`undefined`) is no number. */
function secondsField(t: string | undefined): number {
  if (t === undefined || t === '' || t.includes(' ')) return NaN;
  const v = +t;
  return Number.isFinite(v) && v >= 0 ? v : NaN;
}

/** Elapsed-time cell → seconds, or a ReaderError naming the accepted forms. */
export function durationCell(cell: string | undefined, ctx: CellContext): number {
  const v = cell === undefined ? NaN : parseDuration(cell);
  if (Number.isFinite(v)) return v;
  throw new ReaderError({ ...ctx, expected: `an elapsed time (${DURATION_FORMS})`, value: cell ?? '' });
}

/** Seconds → ms, rounded to the microsecond so that `5.03 s` is exactly 5030 ms. */
export function secondsToMs(sec: number): number {
  return Math.round(sec * 1e6) / 1e3;
}

/**
 * Wall-clock date-time read as UTC, epoch ms. Accepts `YYYY-MM-DD HH:MM:SS[.sss]` (also with `T`)
 * and `MM/DD/YYYY HH:MM:SS[.sss]` (US order, Maccor), optionally followed by `AM`/`PM`.
 * Returns NaN when the text is none of these.
 */
export function parseWallClockUtc(cell: string): number {
  const s = cell.trim();
  let cut = s.indexOf(' ');
  if (cut < 0) cut = s.indexOf('T');
  if (cut < 0) return NaN;
  const datePart = s.slice(0, cut);
  let timePart = s.slice(cut + 1).trim();
  let y: number;
  let mo: number;
  let day: number;
  if (datePart.includes('-')) {
    const p = datePart.split('-');
    if (p.length !== 3) return NaN;
    y = wholeField(p[0]);
    mo = wholeField(p[1]);
    day = wholeField(p[2]);
  } else {
    const p = datePart.split('/');
    if (p.length !== 3) return NaN;
    mo = wholeField(p[0]);
    day = wholeField(p[1]);
    y = wholeField(p[2]);
  }
  let pm: boolean | undefined;
  const upper = timePart.toUpperCase();
  if (upper.endsWith('AM') || upper.endsWith('PM')) {
    pm = upper.endsWith('PM');
    timePart = timePart.slice(0, -2).trim();
  }
  const t = timePart.split(':');
  if (t.length !== 3 && t.length !== 2) return NaN;
  let h = wholeField(t[0]);
  const mi = wholeField(t[1]);
  const sec = t.length === 3 ? secondsField(t[2]) : 0;
  if (pm !== undefined) {
    if (!(h >= 1 && h <= 12)) return NaN;
    h = (h % 12) + (pm ? 12 : 0);
  }
  if (!(y >= 1970 && mo >= 1 && mo <= 12 && day >= 1 && day <= 31 && h < 24 && mi < 60 && sec < 60)) return NaN;
  const ms = Date.UTC(y, mo - 1, day, h, mi, 0) + secondsToMs(sec);
  // Reject dates that Date.UTC silently rolled over (e.g. 02/31).
  if (new Date(ms).getUTCDate() !== day) return NaN;
  return ms;
}

/** A header column: its position (-1 when absent) and the name it has in the header. */
export interface Column {
  index: number;
  name: string;
}

/** The column at `index` of a header's (trimmed) cells; an index past them (or -1, absent) has no name (''). */
/** The 0-based index of a column given by position (`#3` → 2), undefined for a column given by name. */
export function columnPosition(spec: string): number | undefined {
  const m = /^#([1-9][0-9]*)$/.exec(spec.trim());
  return m === null ? undefined : Number(m[1]) - 1;
}

export function columnAt(names: readonly string[], index: number): Column {
  return { index, name: names[index] ?? '' };
}

/** Index of a header column by exact (trimmed) name, or -1. */
export function findColumn(header: readonly string[], ...names: string[]): Column {
  for (const name of names) {
    const index = header.indexOf(name);
    if (index >= 0) return { index, name };
  }
  return { index: -1, name: names[0] ?? '' };
}

/** Required header column, or a ReaderError that lists the header that was found. */
export function requireColumn(header: readonly string[], fileName: string, line: number, ...names: string[]): Column {
  const c = findColumn(header, ...names);
  if (c.index >= 0) return c;
  const wanted = names.map((n) => `'${n}'`).join(' or ');
  throw new ReaderError({ fileName, line, expected: `a ${wanted} column in the header`, value: header.join(', ') });
}

/** A data row with fewer cells than the columns we read. */
export function shortRowError(fileName: string, line: number, need: number, got: number, text: string): ReaderError {
  return new ReaderError({ fileName, line, expected: `at least ${need} fields (got ${got}): truncated row?`, value: text });
}

/**
 * Default `startTs` from the first data row: its wall-clock cell read as UTC, minus its elapsed time,
 * so that the row's `ts` is its wall clock. 0 when the export has no wall-clock column.
 */
export function startTsFromWallClock(f: readonly string[], dateCol: Column, elapsedSec: number, fileName: string, line: number, format: string): number {
  if (dateCol.index < 0) return 0;
  const cell = f[dateCol.index] ?? '';
  const wall = parseWallClockUtc(cell);
  if (Number.isNaN(wall)) {
    throw new ReaderError({ fileName, line, column: dateCol.name, expected: `a wall-clock date-time ${format} (or pass startTs)`, value: cell });
  }
  return wall - secondsToMs(elapsedSec);
}

/** One data row's cells, read by header column: every error names the file, the line and the column. */
export class RowCells {
  constructor(
    private readonly f: readonly string[],
    private readonly fileName: string,
    private readonly line: number,
  ) {}

  private at(col: Column): CellContext {
    return { fileName: this.fileName, line: this.line, column: col.name };
  }

  /** `numberCell` of the column. */
  number(col: Column): number {
    return numberCell(this.f[col.index], this.at(col));
  }

  /** `integerCell` of the column (cycle and step indices). */
  integer(col: Column): number {
    return integerCell(this.f[col.index], this.at(col));
  }

  /** `durationCell` of the column (elapsed seconds). */
  duration(col: Column): number {
    return durationCell(this.f[col.index], this.at(col));
  }

  /** The column's text, trimmed; a cell past the row's end reads as empty (callers check the row's length first). */
  text(col: Column): string {
    return (this.f[col.index] ?? '').trim();
  }

  /** Sets `row.voltage_V` from an optional voltage column; an absent column or an empty cell leaves it unset. */
  voltage(col: Column, row: CyclerRow): void {
    if (col.index < 0) return;
    const v = optionalNumberCell(this.f[col.index], this.at(col));
    if (v !== undefined) row.voltage_V = v;
  }
}
