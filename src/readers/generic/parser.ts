/**
 * Any delimited text with a header row, read through a column mapping: which column is the time (and in
 * what form), the current (and its unit and sign), and optionally the voltage, the cycler's step and
 * cycle index. The mapping comes from the command line (`--time-col`, `--current-col`, …) or a YAML/JSON
 * mapping file (`--mapping`); it is validated once by zod.
 *
 * Separator: tab, `;` or `,` (detected from the header line unless given). Numbers may have decimal
 * commas. Lines before the header (a logger's preamble) are skipped: the header is `headerLine`, or the
 * first line that holds both the time and the current column names. Columns given by position (`#N`) need
 * no header: with the time and current so given and no `headerLine`, data starts at the first line whose
 * time and current cells are numbers (a logger's header-less CSV).
 */
import { columnAt, columnPosition, secondsToMs, shortRowError, splitCsvLine, type CellContext, type Column } from '../common.js';
import { dateTimeCell, detectSeparator, headerKey, localeDuration, localeNumberCell, optionalLocaleNumberCell } from '../fields.js';
import { CyclerLineParser, parseCyclerText, type LineLayout } from '../line-parser.js';
import type { CyclerRowParser } from '../stream.js';
import { ReaderError, type CyclerParseResult, type CyclerRow } from '../types.js';
import type { GenericCsvMapping, TimeFormat } from './mapping.js';

/** A file without a header row: the time and the current given by position, no header line named (the mapping's module, with its schema, is not loaded to read a file). */
function isHeaderless(m: GenericCsvMapping): boolean {
  return m.headerLine === undefined && columnPosition(m.time) !== undefined && columnPosition(m.current) !== undefined;
}

/** Elapsed-time formats → ms per unit. */
const TIME_FACTOR_MS: Partial<Record<TimeFormat, number>> = { seconds: 1000, minutes: 60_000, hours: 3_600_000, ms: 1 };

export interface GenericCsvOptions {
  fileName: string;
  mapping: GenericCsvMapping;
  /** Overrides `mapping.start` (epoch ms of elapsed time 0). */
  startTs?: number;
}

export function parseGenericCsv(text: string, opts: GenericCsvOptions): CyclerParseResult {
  return parseCyclerText(createGenericCsvParser(opts), text);
}

/** Index of a mapped column: its position (`#N`), the exact (trimmed) name, else the same name ignoring case, spaces, underscores. */
function columnIndex(names: readonly string[], wanted: string): number {
  const at = columnPosition(wanted);
  if (at !== undefined) return at < names.length ? at : -1;
  const exact = names.indexOf(wanted.trim());
  if (exact >= 0) return exact;
  const k = headerKey(wanted);
  return names.findIndex((n) => headerKey(n) === k);
}

/** The mapped columns of the header (index -1: not mapped) and the separator the header was split on. */
interface GenericColumns {
  readonly time: Column;
  readonly cur: Column;
  readonly volt: Column;
  readonly step: Column;
  readonly cycle: Column;
  readonly need: number;
  readonly sep: string;
}

/** The header's columns; undefined while still in the preamble (no `headerLine` given and a mapped column missing). */
function genericHeader(text: string, line: number, sep: string, m: GenericCsvMapping, fileName: string): GenericColumns | undefined {
  const names = splitCsvLine(text, sep).map((c) => c.trim());
  const time = columnIndex(names, m.time);
  const cur = columnIndex(names, m.current);
  if (time < 0 || cur < 0) {
    if (m.headerLine === undefined) return undefined; // still in the preamble
    const missing = [time < 0 ? `'${m.time}'` : '', cur < 0 ? `'${m.current}'` : ''].filter((x) => x !== '').join(' and ');
    throw new ReaderError({ fileName, line, expected: `the mapped column ${missing} in the header`, value: names.join(', ') });
  }
  const opt = (name: string | undefined, what: string): Column => {
    if (name === undefined) return columnAt(names, -1);
    const i = columnIndex(names, name);
    if (i < 0) throw new ReaderError({ fileName, line, expected: `the mapped ${what} column '${name}' in the header`, value: names.join(', ') });
    return columnAt(names, i);
  };
  const volt = opt(m.voltage, 'voltage');
  const step = opt(m.step, 'step');
  const cycle = opt(m.cycle, 'cycle');
  const need = Math.max(time, cur, volt.index, step.index, cycle.index) + 1;
  return { time: columnAt(names, time), cur: columnAt(names, cur), volt, step, cycle, need, sep };
}

/**
 * A header-less file's columns, from its first data line (the first whose time and current cells are
 * numbers, or date-times for `datetime`); undefined for a preamble line. Columns are named `#N`.
 */
function headerlessColumns(text: string, line: number, sep: string, m: GenericCsvMapping, fileName: string): GenericColumns | undefined {
  const cells = splitCsvLine(text, sep).map((c) => c.trim());
  const names = cells.map((_, k) => `#${String(k + 1)}`);
  const time = columnIndex(names, m.time);
  const cur = columnIndex(names, m.current);
  if (time < 0 || cur < 0) return undefined;
  try {
    timeMs(cells[time], m.timeFormat, 0, { fileName, line, column: '' });
    localeNumberCell(cells[cur], { fileName, line, column: '' });
  } catch {
    return undefined; // a preamble line
  }
  return genericHeader(names.join(sep), line, sep, m, fileName);
}

/** Epoch ms of `mapping.start` (elapsed formats), `opts.startTs` first; 0 for the absolute time formats. */
function genericStartTs(opts: GenericCsvOptions): number | undefined {
  const { fileName, mapping: m } = opts;
  let startTs = opts.startTs;
  if (startTs === undefined && m.start !== undefined) {
    startTs = Date.parse(m.start);
    if (Number.isNaN(startTs)) throw new ReaderError({ fileName, line: 1, expected: 'mapping.start as an ISO-8601 date-time', value: m.start });
  }
  const elapsed = m.timeFormat !== 'datetime' && m.timeFormat !== 'epoch-s' && m.timeFormat !== 'epoch-ms';
  return elapsed ? startTs : 0;
}

/** A time cell → epoch ms, per the mapping's `timeFormat`; `startTs` is time zero of the elapsed formats. */
function timeMs(cell: string | undefined, timeFormat: TimeFormat, startTs: number, ctx: CellContext): number {
  const factor = TIME_FACTOR_MS[timeFormat];
  if (factor !== undefined) return startTs + (factor === 1 ? localeNumberCell(cell, ctx) : secondsToMs((localeNumberCell(cell, ctx) * factor) / 1000));
  switch (timeFormat) {
    case 'duration': {
      const s = cell === undefined ? NaN : localeDuration(cell);
      if (!Number.isFinite(s)) throw new ReaderError({ ...ctx, expected: 'an elapsed time H:MM:SS[.sss]', value: cell ?? '' });
      return startTs + secondsToMs(s);
    }
    case 'datetime':
      return dateTimeCell(cell, ctx);
    case 'epoch-s':
      return secondsToMs(localeNumberCell(cell, ctx));
    default:
      return localeNumberCell(cell, ctx);
  }
}

export function createGenericCsvParser(opts: GenericCsvOptions): CyclerRowParser {
  const { fileName, mapping: m } = opts;
  // The separator given; `auto` detects it on each candidate header line (the header's is kept in its columns).
  const sep: string | undefined = m.separator === 'auto' ? undefined : m.separator === 'tab' ? '\t' : m.separator;
  let startTs = genericStartTs(opts);
  const headerless = isHeaderless(m);
  const curToMa = (m.currentUnit === 'A' ? 1000 : m.currentUnit === 'mA' ? 1 : 0.001) * (m.currentSign === 'discharge-positive' ? -1 : 1);
  const voltToV = m.voltageUnit === 'mV' ? 0.001 : 1;

  const layout: LineLayout<GenericColumns> = {
    header(text, line) {
      if (m.headerLine !== undefined ? line !== m.headerLine : text.trim() === '') return undefined;
      if (headerless) return headerlessColumns(text, line, sep ?? detectSeparator(text), m, fileName);
      return genericHeader(text, line, sep ?? detectSeparator(text), m, fileName);
    },
    headerIsData: headerless,
    blank: 'trim',
    noHeader:
      m.headerLine !== undefined
        ? `a header on line ${m.headerLine}`
        : headerless
          ? `a data line with numbers in columns ${m.time} (time) and ${m.current} (current)`
          : `a header row naming the mapped columns '${m.time}' and '${m.current}'`,
  };

  const row = (text: string, line: number, c: GenericColumns, out: CyclerRow[]): void => {
    const f = splitCsvLine(text, c.sep);
    if (f.length < c.need) throw shortRowError(fileName, line, c.need, f.length, text);
    startTs ??= 0;
    const r: CyclerRow = {
      ts: timeMs(f[c.time.index], m.timeFormat, startTs, { fileName, line, column: c.time.name }),
      current_mA: localeNumberCell(f[c.cur.index], { fileName, line, column: c.cur.name }) * curToMa,
      line,
    };
    if (c.volt.index >= 0) {
      const v = optionalLocaleNumberCell(f[c.volt.index], { fileName, line, column: c.volt.name });
      if (v !== undefined) r.voltage_V = v * voltToV;
    }
    if (c.step.index >= 0) r.stepIndex = Math.round(localeNumberCell(f[c.step.index], { fileName, line, column: c.step.name }));
    if (c.cycle.index >= 0) r.cycleIndex = Math.round(localeNumberCell(f[c.cycle.index], { fileName, line, column: c.cycle.name }));
    out.push(r);
  };

  return new CyclerLineParser(layout, fileName, { oracle: [], startTs: () => startTs, row });
}
