/**
 * Cell-level helpers for the formats that come from many locales and many programs (EC-Lab, Arbin,
 * load-cell loggers, a lab's own CSV): decimal commas, separators, header names, date-times.
 */
import { parseDuration, parseWallClockUtc, secondsToMs, type CellContext } from './common.js';
import { ReaderError } from './types.js';

/**
 * A number that may be written with a decimal comma (`3,5000000000000000E+001`, `0,25`). The comma is
 * only looked at when the cell is not a plain number, so the common case costs one conversion.
 */
export function localeNumber(cell: string): number {
  const v = +cell;
  if (v === v) return v === 0 && cell.trim() === '' ? NaN : v; // `+''` is 0: an empty cell is no number
  return cell.includes(',') ? +cell.replace(',', '.') : NaN;
}

/** `localeNumber` or a ReaderError naming file, line, column and value. */
export function localeNumberCell(cell: string | undefined, ctx: CellContext): number {
  const v = cell === undefined ? NaN : localeNumber(cell);
  if (Number.isFinite(v)) return v;
  throw new ReaderError({ ...ctx, expected: 'a number', value: cell ?? '' });
}

/** Optional variant: an empty cell is undefined. */
export function optionalLocaleNumberCell(cell: string | undefined, ctx: CellContext): number | undefined {
  if (cell === undefined || cell.trim() === '') return undefined;
  return localeNumberCell(cell, ctx);
}

/** Header name for matching: lower case, without spaces and underscores (`Test_Time(s)` = `Test Time (s)`). */
export function headerKey(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '');
}

/**
 * The field separator of a delimited line: the most frequent of tab, `;` and `,` outside double quotes
 * (ties prefer tab, then `;`: a `;` file may have decimal commas, a `,` file cannot).
 */
export function detectSeparator(line: string): '\t' | ';' | ',' {
  let tab = 0;
  let semi = 0;
  let comma = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (quoted) continue;
    else if (c === 9) tab++;
    else if (c === 59) semi++;
    else if (c === 44) comma++;
  }
  if (tab >= semi && tab >= comma && tab > 0) return '\t';
  if (semi >= comma && semi > 0) return ';';
  return ',';
}

/** Days between 1899-12-30 (the spreadsheet epoch) and 1970-01-01. */
const SPREADSHEET_EPOCH_DAYS = 25_569;

/**
 * A wall-clock date-time, read as UTC unless it carries its own zone, epoch ms. Accepts what the cycler
 * readers accept (`YYYY-MM-DD HH:MM:SS[.sss]`, `MM/DD/YYYY HH:MM:SS[ AM|PM]`), ISO-8601 with a zone
 * (`2024-03-14T09:40:00.000Z`, `…+01:00`), European `DD.MM.YYYY HH:MM:SS`, and a spreadsheet serial day
 * number (`45365.4027`, what Excel leaves in a date column). NaN when it is none of these.
 */
export function parseDateTime(cell: string): number {
  const s = cell.trim();
  if (s === '') return NaN;
  const plain = parseWallClockUtc(s);
  if (!Number.isNaN(plain)) return plain;
  if (/^\d{4}-\d\d-\d\dT.*(Z|[+-]\d\d:?\d\d)$/.test(s)) {
    const z = Date.parse(s);
    return Number.isNaN(z) ? NaN : z;
  }
  const eu = /^(\d{1,2})\.(\d{1,2})\.(\d{4})[ T](.+)$/.exec(s);
  // The groups are not optional: a match has all four (`?? ''` only satisfies the index type).
  if (eu !== null) return parseWallClockUtc(`${eu[3]}-${(eu[2] ?? '').padStart(2, '0')}-${(eu[1] ?? '').padStart(2, '0')} ${eu[4]}`);
  if (/^\d{5}(\.\d+)?$/.test(s)) return secondsToMs((+s - SPREADSHEET_EPOCH_DAYS) * 86_400);
  return NaN;
}

/** `parseDateTime` or a ReaderError. */
export function dateTimeCell(cell: string | undefined, ctx: CellContext): number {
  const v = cell === undefined ? NaN : parseDateTime(cell);
  if (Number.isFinite(v)) return v;
  throw new ReaderError({
    ...ctx,
    expected: 'a date-time (YYYY-MM-DD HH:MM:SS, MM/DD/YYYY HH:MM:SS, DD.MM.YYYY HH:MM:SS, ISO-8601 with zone, or a spreadsheet day number)',
    value: cell ?? '',
  });
}

/** Elapsed seconds, plain or `H:MM:SS` / `Nd H:MM:SS`, with a decimal comma allowed. NaN otherwise. */
export function localeDuration(cell: string): number {
  const v = parseDuration(cell);
  if (!Number.isNaN(v) || !cell.includes(',')) return v;
  return parseDuration(cell.replace(',', '.'));
}

/** Unquotes a CSV cell that kept its quotes (simple split): `"12,5"` → `12,5`. */
export function unquote(cell: string): string {
  const t = cell.trim();
  return t.length >= 2 && t.charCodeAt(0) === 34 && t.charCodeAt(t.length - 1) === 34 ? t.slice(1, -1).replace(/""/g, '"') : t;
}
