/**
 * What a format is to the rest of oep: a name (and the other spellings `--format` accepts), how its
 * content is recognised, and how reader options become its parser. Each format folder exports one
 * `ReaderFormat`; `formats.ts` lists them.
 */
import type { GenericCsvMapping } from './generic/mapping.js';
import type { MaccorCurrentSign } from './maccor/parser.js';
import type { PressureLogOptions } from './pressure-log/parser.js';
import type { CyclerRowParser, PressureRowParser } from './stream.js';

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

/** The separators a header line may use (see `detectSeparator`). */
export type Separator = '\t' | ';' | ',';

/**
 * How a format is recognised from a file's first lines. Detection asks every format's `head` first (in
 * list order), then goes line by line and asks every format's `header` about each line: the first
 * line any format claims decides.
 */
export interface FormatDetector {
  /** The whole head decides (a magic first line, a marker on any line). `first`: index of the first non-blank line. */
  readonly head?: (lines: readonly string[], first: number) => boolean;
  /** One non-blank line, split on its own separator and unquoted, is this format's header. */
  readonly header?: (cells: readonly string[], sep: Separator) => boolean;
  /** What the format looks like, for the error that lists what was expected (`a Neware CSV (…)`). */
  readonly expected: string;
}

/** One format oep reads: `N` its name, `K` what its parser yields (cycler rows or pressure samples). */
export interface ReaderFormat<N extends string = string, K extends AnyParser['kind'] = AnyParser['kind']> {
  readonly name: N;
  readonly kind: K;
  /** Other spellings accepted by `--format` (lower case). */
  readonly aliases: readonly string[];
  /** Absent: the format is only read when named (it needs options, e.g. a column mapping). */
  readonly detect?: FormatDetector;
  create(o: ReaderOptions): Extract<AnyParser, { readonly kind: K }>;
}

/** A format's entry, its name and kind kept as literal types (so that `FormatName` lists them). */
export function defineFormat<N extends string, K extends AnyParser['kind']>(format: ReaderFormat<N, K>): ReaderFormat<N, K> {
  return format;
}

/** The options every cycler parser takes: the file name and, when given, the time zero. */
export function cyclerBase(o: ReaderOptions): { fileName: string; startTs?: number } {
  return { fileName: o.fileName, ...(o.startTs !== undefined ? { startTs: o.startTs } : {}) };
}
