/**
 * The formats oep reads, in one list: detection asks them in this order, `--format` accepts their names
 * and aliases, and `createParser` turns a name and options into the format's parser. A new format is
 * one folder (`<format>/parser.ts` and `<format>/format.ts`) and one entry here.
 */
import { arbinFormat } from './arbin/format.js';
import { biologicFormat } from './biologic/format.js';
import type { AnyParser, ReaderOptions } from './format.js';
import { genericFormat } from './generic/format.js';
import { maccorFormat } from './maccor/format.js';
import { newareFormat } from './neware/format.js';
import { newareRegularFormat } from './neware-regular/format.js';
import { pecFormat } from './pec/format.js';
import { pressureLogFormat } from './pressure-log/format.js';

export type { AnyParser, ReaderOptions } from './format.js';

/** Every format, in detection order (whole-head tests first, then header lines; see `detect.ts`). */
export const READER_FORMATS = [
  biologicFormat,
  newareRegularFormat,
  newareFormat,
  maccorFormat,
  pecFormat,
  arbinFormat,
  genericFormat,
  pressureLogFormat,
] as const;

type AnyFormat = (typeof READER_FORMATS)[number];
export type FormatName = AnyFormat['name'];
/** The formats that give cycler rows (all but the pressure logs). */
export type CyclerFormat = Extract<AnyFormat, { readonly kind: 'cycler' }>['name'];
export const FORMATS: readonly FormatName[] = READER_FORMATS.map((f) => f.name);
export const CYCLER_FORMATS: readonly CyclerFormat[] = READER_FORMATS.flatMap((f) => (f.kind === 'cycler' ? [f.name] : []));

/** Other spellings accepted by `--format` (a plain object, as it always was). */
const ALIASES: Record<string, FormatName> = Object.fromEntries(READER_FORMATS.flatMap((f) => f.aliases.map((a) => [a, f.name])));

/** A `--format` value → the format, or undefined. */
export function formatByName(name: string): FormatName | undefined {
  const n = name.trim().toLowerCase();
  return READER_FORMATS.find((f) => f.name === n)?.name ?? ALIASES[n];
}

/** The parser of `format` with options `o` (a ReaderError when the format needs an option that is missing). */
export function createParser(format: FormatName, o: ReaderOptions): AnyParser {
  const entry = READER_FORMATS.find((f) => f.name === format);
  if (entry === undefined) throw new Error(`unknown format ${format}`);
  return entry.create(o);
}
