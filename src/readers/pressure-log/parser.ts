/**
 * Pressure logs from load-cell software: delimited text of time and force (or pressure).
 *
 * - Separator: tab, `;` or `,`, detected from the header; numbers may have decimal commas.
 * - Preamble lines (device, serial number, a `Start: …` line) before the header are skipped. The header is
 *   the first line with a time column (`Time`, `Time (s)`, `Elapsed [s]`, `t/s`, `Timestamp`, `Date/Time`,
 *   `Zeit`) and a value column (a name with `force`, `load`, `pressure`, `kraft`, `druck` or `weight`).
 * - Unit: from the value column's name (`Force (kgf)`, `Load [N]`, `Pressure/MPa`) or given (`unit`):
 *   MPa, kPa, N, kgf, and converted on reading: kN (→ N), kg (→ kgf), lbf (→ N), bar and psi (→ MPa).
 * - Time: a wall clock (`2024-03-14 09:40:00.5`, ISO-8601 with a zone, `14.03.2024 09:40:00`) read as UTC,
 *   or elapsed time (seconds, ms, min, h from the column's unit, or `H:MM:SS`) since the preamble's start
 *   line or `startTs`.
 * - Clock offset: `offset_ms` is added to every timestamp, to line the logger's clock up with the cycler's.
 */
import { columnAt, columnPosition, secondsToMs, shortRowError, splitCsvLine, type Column } from '../common.js';
import { detectSeparator, localeDuration, localeNumber, localeNumberCell, parseDateTime, unquote } from '../fields.js';
import { LineParser, type LineLayout } from '../line-parser.js';
import { parseAll, type PressureLogUnit, type PressureRow, type PressureRowParser } from '../stream.js';
import { ReaderError } from '../types.js';

export interface PressureLogOptions {
  fileName: string;
  /** Unit of the value column when its name does not say, or to override it. */
  unit?: string;
  /** Added to every timestamp, ms (positive: the logger's clock is behind the cycler's). */
  offset_ms?: number;
  /** Epoch ms of elapsed time 0 (overrides a `Start:` line). */
  startTs?: number;
  /**
   * Column names, when the header's names are not recognised, or positions (`#1`, 1-based); both given by
   * position: the log has no header row (data from the first line whose time and value cells read).
   */
  timeColumn?: string;
  valueColumn?: string;
}

export interface PressureLogResult {
  rows: PressureRow[];
  unit: PressureLogUnit;
}

/** Unit spellings → (wire unit, factor). */
const UNITS: Record<string, [PressureLogUnit, number]> = {
  mpa: ['MPa', 1],
  kpa: ['kPa', 1],
  bar: ['MPa', 0.1],
  psi: ['MPa', 0.006894757293168361],
  n: ['N', 1],
  kn: ['N', 1000],
  lbf: ['N', 4.4482216152605],
  kgf: ['kgf', 1],
  kg: ['kgf', 1],
};

const VALUE_NAME = /force|load|pressure|kraft|druck|weight/i;
const TIME_NAME = /^(t|time|elapsed( time)?|relative time|zeit|timestamp|date ?\/? ?time|datetime)\s*([([/].*)?$/i;
const START_LINE = /^\s*#?\s*(start(ed)?( time)?|recording start(ed)?|begin|started on)\s*[:;,=\t]\s*(.+?)[;,\t]*$/i;

/** `Force (kgf)` → `kgf`; `Load [N]` → `N`; `Pressure/MPa` → `MPa`; no unit → undefined. */
export function unitInName(name: string): string | undefined {
  const m = /[([]\s*([^)\]]+?)\s*[)\]]\s*$/.exec(name) ?? /\/\s*([A-Za-z]+)\s*$/.exec(name);
  return m?.[1];
}

/** Positions of the time and value columns of a header line (-1 when absent). */
export function pressureLogColumns(names: readonly string[], timeColumn?: string, valueColumn?: string): { time: number; value: number } {
  const given = (spec: string): number => {
    const at = columnPosition(spec);
    return at === undefined ? names.indexOf(spec) : at < names.length ? at : -1;
  };
  const time = timeColumn !== undefined ? given(timeColumn) : names.findIndex((n) => TIME_NAME.test(n.trim()));
  const value = valueColumn !== undefined ? given(valueColumn) : names.findIndex((n, i) => i !== time && VALUE_NAME.test(n));
  return { time, value };
}

/** Both columns given by position: a log without a header row. */
function isHeaderlessLog(opts: PressureLogOptions): boolean {
  return (
    opts.timeColumn !== undefined &&
    opts.valueColumn !== undefined &&
    columnPosition(opts.timeColumn) !== undefined &&
    columnPosition(opts.valueColumn) !== undefined
  );
}

export function pressureUnit(spelling: string): [PressureLogUnit, number] | undefined {
  return UNITS[spelling.trim().toLowerCase()];
}

type TimeKind = 'datetime' | 'duration' | { factor_ms: number };

function timeKindFromName(name: string): TimeKind | undefined {
  const u = unitInName(name)?.toLowerCase();
  if (u === undefined) return undefined;
  if (u === 's' || u === 'sec') return { factor_ms: 1000 };
  if (u === 'ms') return { factor_ms: 1 };
  if (u === 'min') return { factor_ms: 60_000 };
  if (u === 'h') return { factor_ms: 3_600_000 };
  if (u.includes(':')) return 'duration';
  return undefined;
}

export function parsePressureLog(text: string, opts: PressureLogOptions): PressureLogResult {
  const parser = createPressureLogParser(opts);
  const rows = parseAll(parser, text);
  // parseAll ends the parser, which throws a ReaderError when the log had no header: the unit is known here.
  const unit = parser.unit;
  if (unit === undefined) throw new Error(`${opts.fileName}: a pressure log parsed without its header`);
  return { rows, unit };
}

/** Lines of preamble tolerated before the header. */
const MAX_HEADER_LINE = 100;

interface PressureLogColumns {
  readonly time: Column;
  readonly value: Column;
  readonly need: number;
  readonly unit: PressureLogUnit;
  /** Value in the log's spelling → value in `unit`. */
  readonly factor: number;
  readonly sep: string;
  /** How the time column reads, when its name says (else the first value tells). */
  readonly timeKind: TimeKind | undefined;
}

/** A header line → its columns; undefined when the line is not the header. */
function pressureLogHeader(text: string, line: number, opts: PressureLogOptions): PressureLogColumns | undefined {
  const { fileName } = opts;
  const sep = detectSeparator(text);
  const cells = splitCsvLine(text, sep).map((c) => unquote(c));
  const headerless = isHeaderlessLog(opts);
  // Without a header row the columns are named by position, and the first line whose cells read is data.
  const names = headerless ? cells.map((_, k) => `#${String(k + 1)}`) : cells;
  const found = pressureLogColumns(names, opts.timeColumn, opts.valueColumn);
  if (found.time < 0 || found.value < 0) return undefined;
  if (headerless && !readsAsData(cells[found.time], cells[found.value])) return undefined;
  const time = columnAt(names, found.time);
  const value = columnAt(names, found.value);
  const spelled = opts.unit ?? unitInName(value.name);
  if (spelled === undefined) {
    throw new ReaderError({
      fileName,
      line,
      column: value.name,
      expected: 'a unit in the value column name, e.g. "Force (kgf)" (or give the unit: --pressure-unit)',
      value: value.name,
    });
  }
  const u = pressureUnit(spelled);
  if (u === undefined)
    throw new ReaderError({ fileName, line, column: value.name, expected: `a force or pressure unit (${Object.keys(UNITS).join(', ')})`, value: spelled });
  return { time, value, need: Math.max(time.index, value.index) + 1, unit: u[0], factor: u[1], sep, timeKind: timeKindFromName(time.name) };
}

/** A header-less log's first data line: a time (date-time, H:MM:SS or number) and a number. */
function readsAsData(t: string | undefined, v: string | undefined): boolean {
  if (t === undefined || v === undefined) return false;
  const time = t.trim();
  const timeReads = !Number.isNaN(parseDateTime(time)) || Number.isFinite(localeDuration(time)) || Number.isFinite(localeNumber(time));
  return timeReads && Number.isFinite(localeNumber(v.trim()));
}

/** A load-cell log's parser: the shared loop, plus the unit its header names. */
class PressureLogParser extends LineParser<PressureLogColumns, PressureRow> implements PressureRowParser {
  get unit(): PressureLogUnit | undefined {
    return this.columns?.unit;
  }
}

export function createPressureLogParser(opts: PressureLogOptions): PressureRowParser {
  const { fileName } = opts;
  const offset = opts.offset_ms ?? 0;
  let start = opts.startTs;
  let timeKind: TimeKind | undefined;

  const layout: LineLayout<PressureLogColumns> = {
    header(text, line) {
      if (text.trim() === '') return undefined;
      const started = START_LINE.exec(text)?.[5];
      if (started !== undefined && opts.startTs === undefined) {
        const t = parseDateTime(unquote(started));
        if (!Number.isNaN(t)) start = t;
      }
      const cols = pressureLogHeader(text, line, opts);
      if (cols === undefined && line >= MAX_HEADER_LINE) {
        throw new ReaderError({
          fileName,
          line,
          expected: `a header with a time column and a force/pressure column within the first ${MAX_HEADER_LINE} lines`,
        });
      }
      if (cols !== undefined) timeKind = cols.timeKind;
      return cols;
    },
    blank: 'trim',
    headerIsData: isHeaderlessLog(opts),
    noHeader: isHeaderlessLog(opts)
      ? `a data line with a time in column ${opts.timeColumn ?? ''} and a number in column ${opts.valueColumn ?? ''}`
      : 'a header with a time column and a force/pressure column',
  };

  // Epoch ms of a time cell (before the clock offset).
  const timeMs = (tCell: string, line: number, c: PressureLogColumns): number => {
    // No unit in the name: the first value tells (a date-time, H:MM:SS, or seconds).
    timeKind ??= !Number.isNaN(parseDateTime(tCell)) ? 'datetime' : tCell.includes(':') ? 'duration' : { factor_ms: 1000 };
    if (timeKind === 'datetime') return parseDateTime(tCell);
    if (start === undefined) {
      throw new ReaderError({
        fileName,
        line,
        column: c.time.name,
        expected: "a start time for elapsed times: a 'Start: <date-time>' line before the header, or --pressure-start",
      });
    }
    const e =
      timeKind === 'duration'
        ? secondsToMs(localeDuration(tCell))
        : timeKind.factor_ms === 1
          ? localeNumber(tCell)
          : secondsToMs((localeNumber(tCell) * timeKind.factor_ms) / 1000);
    return start + e;
  };

  const row = (text: string, line: number, c: PressureLogColumns, out: PressureRow[]): void => {
    const f = splitCsvLine(text, c.sep);
    if (f.length < c.need) throw shortRowError(fileName, line, c.need, f.length, text);
    // A cell past the row's end reads as empty (the row's length was checked against `need`).
    const tCell = unquote(f[c.time.index] ?? '');
    const ts = timeMs(tCell, line, c);
    if (!Number.isFinite(ts)) throw new ReaderError({ fileName, line, column: c.time.name, expected: 'a time (date-time, seconds or H:MM:SS)', value: tCell });
    const value = localeNumberCell(unquote(f[c.value.index] ?? ''), { fileName, line, column: c.value.name }) * c.factor;
    out.push({ ts: ts + offset, value, line });
  };

  return new PressureLogParser(layout, fileName, { row });
}
