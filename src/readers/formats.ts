/**
 * The formats oep reads, by name, and the one place that turns a name and options into a parser.
 * Content-based detection is in `detect.ts`.
 */
import { createArbinParser } from './arbin.js';
import { createBiologicParser } from './biologic.js';
import { createGenericCsvParser, type GenericCsvMapping } from './generic-csv.js';
import { createMaccorParser, type MaccorCurrentSign } from './maccor.js';
import { createNewareParser } from './neware.js';
import { createPressureLogParser, type PressureLogOptions } from './pressure-log.js';
import type { CyclerRowParser, PressureRowParser } from './stream.js';
import { ReaderError } from './types.js';

export const CYCLER_FORMATS = ['biologic', 'neware', 'maccor', 'arbin', 'generic'] as const;
export type CyclerFormat = (typeof CYCLER_FORMATS)[number];
export type FormatName = CyclerFormat | 'pressure';
export const FORMATS: readonly FormatName[] = [...CYCLER_FORMATS, 'pressure'];

/** Other spellings accepted by `--format`. */
const ALIASES: Record<string, FormatName> = { mpt: 'biologic', eclab: 'biologic', 'ec-lab': 'biologic', csv: 'generic', 'load-cell': 'pressure', loadcell: 'pressure' };

/** A `--format` value → the format, or undefined. */
export function formatByName(name: string): FormatName | undefined {
  const n = name.trim().toLowerCase();
  return (FORMATS as readonly string[]).includes(n) ? (n as FormatName) : ALIASES[n];
}

export interface ReaderOptions {
  /** Used in error messages. */
  readonly fileName: string;
  /** Epoch ms of a cycler file's time zero, overriding what the file says (a pressure log's is `pressure.startTs`). */
  readonly startTs?: number | undefined;
  readonly maccorCurrentSign?: MaccorCurrentSign | undefined;
  /** Required for `generic`. */
  readonly mapping?: GenericCsvMapping | undefined;
  /** Build the cycler's per-step oracle where it costs extra work (default true). */
  readonly oracle?: boolean | undefined;
  /** Pressure logs: unit, clock offset, time zero, column names. */
  readonly pressure?: Omit<PressureLogOptions, 'fileName'> | undefined;
}

export type AnyParser = { readonly kind: 'cycler'; readonly parser: CyclerRowParser } | { readonly kind: 'pressure'; readonly parser: PressureRowParser };

export function createParser(format: FormatName, o: ReaderOptions): AnyParser {
  const base = { fileName: o.fileName, ...(o.startTs !== undefined ? { startTs: o.startTs } : {}) };
  switch (format) {
    case 'biologic':
      return { kind: 'cycler', parser: createBiologicParser({ ...base, ...(o.oracle === false ? { oracle: false } : {}) }) };
    case 'neware':
      return { kind: 'cycler', parser: createNewareParser(base) };
    case 'maccor':
      return { kind: 'cycler', parser: createMaccorParser({ ...base, ...(o.maccorCurrentSign !== undefined ? { currentSign: o.maccorCurrentSign } : {}) }) };
    case 'arbin':
      return { kind: 'cycler', parser: createArbinParser(base) };
    case 'generic':
      if (o.mapping === undefined) {
        throw new ReaderError({ fileName: o.fileName, line: 1, expected: 'a column mapping for the generic format (--time-col and --current-col, or --mapping <file>)' });
      }
      return { kind: 'cycler', parser: createGenericCsvParser({ ...base, mapping: o.mapping }) };
    case 'pressure':
      return { kind: 'pressure', parser: createPressureLogParser({ ...(o.pressure ?? {}), fileName: o.fileName }) };
  }
}
