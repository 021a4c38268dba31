/**
 * Any delimited text with a header row, read through a column mapping: which column is the time (and in
 * what form), the current (and its unit and sign), and optionally the voltage, the cycler's step and
 * cycle index. The mapping comes from the command line (`--time-col`, `--current-col`, …) or a YAML/JSON
 * mapping file (`--mapping`); it is validated once by zod.
 *
 * Separator: tab, `;` or `,` (detected from the header line unless given). Numbers may have decimal
 * commas. Lines before the header (a logger's preamble) are skipped: the header is `headerLine`, or the
 * first line that holds both the time and the current column names.
 */
import { z } from 'zod';
import { secondsToMs, shortRowError, splitCsvLine } from './common.js';
import { dateTimeCell, detectSeparator, headerKey, localeDuration, localeNumberCell, optionalLocaleNumberCell } from './fields.js';
import { cleanLine, parseAll, type CyclerRowParser } from './stream.js';
import { ReaderError, type CyclerParseResult, type CyclerRow } from './types.js';

export const TIME_FORMATS = ['seconds', 'minutes', 'hours', 'ms', 'duration', 'datetime', 'epoch-s', 'epoch-ms'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

const TIME_FACTOR_MS: Partial<Record<TimeFormat, number>> = { seconds: 1000, minutes: 60_000, hours: 3_600_000, ms: 1 };

export const genericCsvMappingSchema = z.strictObject({
  /** Field separator; `auto` = the most frequent of tab, `;`, `,` on the header line. */
  separator: z.enum([',', ';', '\t', 'tab', 'auto']).default('auto'),
  /** 1-based line of the column names; default: the first line naming both the time and the current column. */
  headerLine: z.number().int().positive().optional(),
  time: z.string().min(1).describe('time column name'),
  /**
   * seconds|minutes|hours|ms: elapsed since `start`; duration: H:MM:SS[.sss] or Nd H:MM:SS elapsed since
   * `start`; datetime: wall clock (read as UTC unless it carries a zone); epoch-s|epoch-ms: Unix time.
   */
  timeFormat: z.enum(TIME_FORMATS).default('seconds'),
  /** ISO-8601 date-time of elapsed time 0 (elapsed formats only; default: epoch 0). */
  start: z.string().optional(),
  current: z.string().min(1).describe('current column name'),
  currentUnit: z.enum(['A', 'mA', 'uA']).default('mA'),
  /** The file's convention; rows come out + = charge. */
  currentSign: z.enum(['charge-positive', 'discharge-positive']).default('charge-positive'),
  voltage: z.string().min(1).optional(),
  voltageUnit: z.enum(['V', 'mV']).default('V'),
  step: z.string().min(1).optional(),
  cycle: z.string().min(1).optional(),
});

export type GenericCsvMapping = z.infer<typeof genericCsvMappingSchema>;
export type GenericCsvMappingInput = z.input<typeof genericCsvMappingSchema>;

/** Validates a mapping; a bad one is a ReaderError-free, readable message (thrown as Error). */
export function parseGenericMapping(raw: unknown, source: string): GenericCsvMapping {
  const r = genericCsvMappingSchema.safeParse(raw);
  if (!r.success) throw new Error(`${source} is not a valid column mapping:\n${z.prettifyError(r.error)}`);
  return r.data;
}

export interface GenericCsvOptions {
  fileName: string;
  mapping: GenericCsvMapping;
  /** Overrides `mapping.start` (epoch ms of elapsed time 0). */
  startTs?: number;
}

export function parseGenericCsv(text: string, opts: GenericCsvOptions): CyclerParseResult {
  const parser = createGenericCsvParser(opts);
  return { rows: parseAll(parser, text), oracle: parser.oracle };
}

/** Index of a mapped column: the exact (trimmed) name, else the same name ignoring case, spaces, underscores. */
function columnIndex(names: readonly string[], wanted: string): number {
  const exact = names.indexOf(wanted.trim());
  if (exact >= 0) return exact;
  const k = headerKey(wanted);
  return names.findIndex((n) => headerKey(n) === k);
}

export function createGenericCsvParser(opts: GenericCsvOptions): CyclerRowParser {
  const { fileName, mapping: m } = opts;
  let sep: string | undefined = m.separator === 'auto' ? undefined : m.separator === 'tab' ? '\t' : m.separator;
  let lastLine = 0;
  let startTs = opts.startTs;
  if (startTs === undefined && m.start !== undefined) {
    startTs = Date.parse(m.start);
    if (Number.isNaN(startTs)) throw new ReaderError({ fileName, line: 1, expected: 'mapping.start as an ISO-8601 date-time', value: m.start });
  }
  const elapsed = m.timeFormat !== 'datetime' && m.timeFormat !== 'epoch-s' && m.timeFormat !== 'epoch-ms';
  if (!elapsed) startTs = 0;
  const curToMa = (m.currentUnit === 'A' ? 1000 : m.currentUnit === 'mA' ? 1 : 0.001) * (m.currentSign === 'discharge-positive' ? -1 : 1);
  const voltToV = m.voltageUnit === 'mV' ? 0.001 : 1;
  let cols: { names: string[]; time: number; cur: number; volt: number; step: number; cycle: number; need: number } | undefined;

  const header = (text: string, line: number): typeof cols => {
    const s = sep ?? detectSeparator(text);
    const names = splitCsvLine(text, s).map((c) => c.trim());
    const time = columnIndex(names, m.time);
    const cur = columnIndex(names, m.current);
    if (time < 0 || cur < 0) {
      if (m.headerLine === undefined) return undefined; // still in the preamble
      const missing = [time < 0 ? `'${m.time}'` : '', cur < 0 ? `'${m.current}'` : ''].filter((x) => x !== '').join(' and ');
      throw new ReaderError({ fileName, line, expected: `the mapped column ${missing} in the header`, value: names.join(', ') });
    }
    const opt = (name: string | undefined, what: string): number => {
      if (name === undefined) return -1;
      const i = columnIndex(names, name);
      if (i < 0) throw new ReaderError({ fileName, line, expected: `the mapped ${what} column '${name}' in the header`, value: names.join(', ') });
      return i;
    };
    sep = s;
    const volt = opt(m.voltage, 'voltage');
    const step = opt(m.step, 'step');
    const cycle = opt(m.cycle, 'cycle');
    return { names, time, cur, volt, step, cycle, need: Math.max(time, cur, volt, step, cycle) + 1 };
  };

  const timeMs = (cell: string | undefined, line: number, column: string): number => {
    const ctx = { fileName, line, column };
    const factor = TIME_FACTOR_MS[m.timeFormat];
    if (factor !== undefined) return startTs! + (factor === 1 ? localeNumberCell(cell, ctx) : secondsToMs((localeNumberCell(cell, ctx) * factor) / 1000));
    switch (m.timeFormat) {
      case 'duration': {
        const s = cell === undefined ? NaN : localeDuration(cell);
        if (!Number.isFinite(s)) throw new ReaderError({ ...ctx, expected: 'an elapsed time H:MM:SS[.sss]', value: cell ?? '' });
        return startTs! + secondsToMs(s);
      }
      case 'datetime':
        return dateTimeCell(cell, ctx);
      case 'epoch-s':
        return secondsToMs(localeNumberCell(cell, ctx));
      default:
        return localeNumberCell(cell, ctx);
    }
  };

  return {
    oracle: [],
    get startTs() {
      return startTs;
    },
    get ready() {
      return cols !== undefined;
    },
    held: 0,
    line(raw, line, out) {
      lastLine = line;
      const text = cleanLine(raw, line);
      if (cols === undefined) {
        if (m.headerLine !== undefined ? line === m.headerLine : text.trim() !== '') cols = header(text, line);
        return;
      }
      if (text.trim() === '') return;
      const c = cols;
      const f = splitCsvLine(text, sep!);
      if (f.length < c.need) throw shortRowError(fileName, line, c.need, f.length, text);
      startTs ??= 0;
      const row: CyclerRow = {
        ts: timeMs(f[c.time], line, c.names[c.time]!),
        current_mA: localeNumberCell(f[c.cur], { fileName, line, column: c.names[c.cur]! }) * curToMa,
        line,
      };
      if (c.volt >= 0) {
        const v = optionalLocaleNumberCell(f[c.volt], { fileName, line, column: c.names[c.volt]! });
        if (v !== undefined) row.voltage_V = v * voltToV;
      }
      if (c.step >= 0) row.stepIndex = Math.round(localeNumberCell(f[c.step], { fileName, line, column: c.names[c.step]! }));
      if (c.cycle >= 0) row.cycleIndex = Math.round(localeNumberCell(f[c.cycle], { fileName, line, column: c.names[c.cycle]! }));
      out.push(row);
    },
    end() {
      if (cols === undefined) {
        throw new ReaderError({
          fileName,
          line: Math.max(1, lastLine),
          expected: m.headerLine !== undefined ? `a header on line ${m.headerLine}` : `a header row naming the mapped columns '${m.time}' and '${m.current}'`,
        });
      }
    },
  };
}
