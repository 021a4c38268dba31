/**
 * Command-line options that say how to read recorded files, shared by `oep process`, `oep replay` and
 * `oep follow`: the format, the time zero, the Maccor sign rule, a generic CSV's column mapping (options
 * or a YAML/JSON mapping file), and a pressure log's unit, clock offset and columns.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, DEFAULT_MQTT_URL, DEFAULT_TOPIC_PREFIX } from '../config/defaults.js';
import { formatByName, FORMATS, type FormatName, type ReaderOptions } from '../readers/formats.js';
import { ReaderError } from '../readers/types.js';
import { errorMessage } from '../adapters/log-text.js';
import { DEFAULT_WINDOW_MS, TimeRangeError } from '../adapters/mqtt-publisher.js';
import { finiteOption, numberOption } from './shared.js';

/** `parseArgs` option definitions. */
export const READER_OPTIONS = {
  format: { type: 'string' },
  start: { type: 'string' },
  'maccor-sign': { type: 'string' },
  mapping: { type: 'string' },
  'time-col': { type: 'string' },
  'time-format': { type: 'string' },
  'current-col': { type: 'string' },
  'current-unit': { type: 'string' },
  'current-sign-in-file': { type: 'string' },
  'voltage-col': { type: 'string' },
  'voltage-unit': { type: 'string' },
  'step-col': { type: 'string' },
  'cycle-col': { type: 'string' },
  sep: { type: 'string' },
  'header-line': { type: 'string' },
  'pressure-unit': { type: 'string' },
  'pressure-offset': { type: 'string' },
  'pressure-start': { type: 'string' },
  'pressure-time-col': { type: 'string' },
  'pressure-col': { type: 'string' },
} as const;

export const READER_USAGE = `  reading the files (the format is detected from the content):
      --format <name>            ${FORMATS.join('|')} (also mpt, csv)
      --start <ISO-8601>         time zero of a file without a clock (plain EC-Lab export, generic CSV), or to override it
      --maccor-sign auto|signed|state   Maccor Amps: signed, or a magnitude signed by State (default auto)
  generic CSV (--format generic; or a YAML/JSON file with the same keys: --mapping <file>):
      --time-col <name> --time-format seconds|minutes|hours|ms|duration|datetime|epoch-s|epoch-ms
      --current-col <name> --current-unit A|mA|uA --current-sign-in-file charge-positive|discharge-positive
      --voltage-col <name> --voltage-unit V|mV --step-col <name> --cycle-col <name>
      --sep ','|';'|tab --header-line <n>
  pressure log (load-cell software):
      --pressure-unit <u>        MPa, kPa, N, kN, kgf, kg, lbf, bar, psi (default: from the column name)
      --pressure-offset <s>      seconds added to the log's clock to line it up with the cycler's
      --pressure-start <ISO>     time zero of a log with elapsed times and no 'Start:' line
      --pressure-time-col <name> --pressure-col <name>   when the header names are not recognised`;

export type ReaderArgs = { readonly [K in keyof typeof READER_OPTIONS]?: string | undefined };

/** The options that make a generic CSV's column mapping (mapping-options.ts reads them). */
const MAPPING_KEYS = [
  'mapping',
  'time-col',
  'time-format',
  'current-col',
  'current-unit',
  'current-sign-in-file',
  'voltage-col',
  'voltage-unit',
  'step-col',
  'cycle-col',
  'sep',
  'header-line',
] as const satisfies readonly (keyof ReaderArgs)[];

/** An ISO-8601 date-time option → epoch ms. */
export function isoOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new ConfigError(`--${name} must be an ISO-8601 date-time (e.g. 2024-03-14T09:40:00Z), got ${v}`);
  return t;
}

export interface ParsedReaderArgs {
  /** Explicit format (or `generic` when only a mapping was given); undefined = detect. */
  readonly format: FormatName | undefined;
  readonly reader: Omit<ReaderOptions, 'fileName' | 'pressure'>;
  readonly pressure: NonNullable<ReaderOptions['pressure']>;
}

/** The reader options checked and parsed; the mapping's module (zod) is loaded only when a mapping is given. */
export async function readerArgs(a: ReaderArgs): Promise<ParsedReaderArgs> {
  let format: FormatName | undefined;
  if (a.format !== undefined) {
    format = formatByName(a.format);
    if (format === undefined) throw new ConfigError(`--format must be one of ${FORMATS.join(', ')}, got ${a.format}`);
  }
  const mapping = MAPPING_KEYS.some((k) => a[k] !== undefined) ? (await import('./mapping-options.js')).mappingFrom(a) : undefined;
  if (format === undefined && mapping !== undefined) format = 'generic';
  const sign = a['maccor-sign'];
  if (sign !== undefined && sign !== 'auto' && sign !== 'signed' && sign !== 'state')
    throw new ConfigError(`--maccor-sign must be auto, signed or state, got ${sign}`);
  const offset_s = finiteOption(a['pressure-offset'], 'pressure-offset');
  const startTs = isoOption(a.start, 'start');
  const pStart = isoOption(a['pressure-start'], 'pressure-start');
  return {
    format,
    reader: {
      ...(startTs !== undefined ? { startTs } : {}),
      ...(sign !== undefined ? { maccorCurrentSign: sign } : {}),
      ...(mapping !== undefined ? { mapping } : {}),
    },
    pressure: {
      ...(a['pressure-unit'] !== undefined ? { unit: a['pressure-unit'] } : {}),
      ...(offset_s !== undefined ? { offset_ms: offset_s * 1000 } : {}),
      ...(pStart !== undefined ? { startTs: pStart } : {}),
      ...(a['pressure-time-col'] !== undefined ? { timeColumn: a['pressure-time-col'] } : {}),
      ...(a['pressure-col'] !== undefined ? { valueColumn: a['pressure-col'] } : {}),
    },
  };
}

/**
 * Runs a command's work with problems of its input files (unknown layout, malformed row, missing or
 * unreadable file, no clock) turned into `ConfigError`, which the CLI prints as one line (exit code 2)
 * instead of a stack trace.
 */
export async function withInputErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? e.code : undefined;
    if (e instanceof ReaderError || e instanceof TimeRangeError || code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR')
      throw new ConfigError(errorMessage(e));
    throw e;
  }
}

/**
 * The command line of a command that reads recorded files (`oep process`, `oep replay`, `oep follow`):
 * the reader options and the command's own `options`, the files as positionals, and the reader options
 * already checked and parsed (`reader`).
 */
export async function parseFileCommand<const O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  const parsed = parseArgs({ args, allowPositionals: true, options: { ...READER_OPTIONS, ...options } });
  return { ...parsed, reader: await readerArgs(parsed.values) };
}

/** `--steps`: one of `allowed` (the first is the default). */
export function stepsOption<const A extends readonly [string, string]>(v: string | undefined, allowed: A): A[number] {
  if (v === undefined) return allowed[0];
  if (!allowed.includes(v)) throw new ConfigError(`--steps must be ${allowed.join(' or ')}, got ${v}`);
  return v;
}

/** Options of the commands that publish recorded files to MQTT (`oep replay`, `oep follow`). */
export const PUBLISH_OPTIONS = {
  url: { type: 'string' },
  prefix: { type: 'string' },
  cell: { type: 'string' },
  window: { type: 'string' },
  steps: { type: 'string' },
} as const;

/** Usage lines of {@link PUBLISH_OPTIONS}; `cell` describes the command's `--cell`. */
export function publishUsage(cell: string): string {
  return `      --url <mqtt url>       (default ${DEFAULT_MQTT_URL})
      --prefix <p>           topic prefix (default ${DEFAULT_TOPIC_PREFIX})
      --cell <id>            ${cell}
      --window <ms>          event-time span of one publish window (default ${DEFAULT_WINDOW_MS}); keep it ≤ the daemon's alignment.lateness_ms
      --steps cycler|none    publish the cycler's step/cycle index on the step topic (default cycler)`;
}

/** What {@link PUBLISH_OPTIONS} say, checked. */
export function publishArgs(values: { readonly [K in keyof typeof PUBLISH_OPTIONS]?: string | undefined }): {
  readonly url: string;
  readonly topicPrefix: string;
  readonly window_ms: number;
  readonly cyclerSteps: boolean;
} {
  const window_ms = numberOption(values.window, DEFAULT_WINDOW_MS, 'window');
  if (!(window_ms > 0) || !Number.isFinite(window_ms)) throw new ConfigError('--window must be a positive number of ms');
  return {
    url: values.url ?? DEFAULT_MQTT_URL,
    topicPrefix: values.prefix ?? DEFAULT_TOPIC_PREFIX,
    window_ms,
    cyclerSteps: stepsOption(values.steps, ['cycler', 'none']) === 'cycler',
  };
}
