/**
 * Incremental readers: a file is fed one line at a time, so that an export of millions of rows streams
 * through `oep process` / `oep follow` without ever being held whole. Each format's `parse…(text)`
 * function is the same parser fed every line of a string.
 */
import { splitLines } from './common.js';
import type { CyclerRow, CyclerStepOracle } from './types.js';

/** One format's parser state: header, column positions, the conventions it has settled on. */
export interface RowParser<R> {
  /**
   * Feeds source line `lineNo` (1-based) without its `\n` (a trailing `\r` is ignored). Rows the line
   * completes are appended to `out`.
   */
  line(text: string, lineNo: number, out: R[]): void;
  /**
   * Feeds source line `lineNo` as bytes buf[start, end) (without its `\n`), when the format can read it so
   * (faster: no string): true when it did, false when the line must be fed as text to `line` instead
   * (nothing was changed then). The bytes are only valid during the call.
   */
  readonly bytes?: (buf: Uint8Array, start: number, end: number, lineNo: number, out: R[]) => boolean;
  /** End of input: appends rows still held back; throws a ReaderError when the file ended before its header. */
  end(out: R[]): void;
  /**
   * Rows parsed but not yet appended to an `out` (a parser may hold rows until it can tell a convention,
   * e.g. a Maccor export's sign). A follower may only persist its position where this is 0.
   */
  readonly held: number;
  /** True once the header has been read (the data rows have started). */
  readonly ready: boolean;
}

/** A cycler export's parser: rows plus what the cycler itself says about each step. */
export interface CyclerRowParser extends RowParser<CyclerRow> {
  /** The cycler's per-step capacities seen so far (complete after `end`). Empty when the export carries none. */
  readonly oracle: CyclerStepOracle[];
  /** Epoch ms of the export's time zero, once known (from the header, the first row, or the caller). */
  readonly startTs: number | undefined;
  /**
   * What the current column holds, once the header is read: the current at the row's instant, or its mean
   * over the interval that ends at the row (EC-Lab's `<I>/mA`). Undefined: instantaneous.
   */
  readonly currentSampling?: 'instantaneous' | 'interval-average' | undefined;
}

/** A pressure sample of a load-cell log, in the log's own unit. */
export interface PressureRow {
  /** Epoch ms, with the log's clock offset applied. */
  ts: number;
  value: number;
  line: number;
}

/** The units a pressure log's values can be in once read (what the wire contract accepts). */
export type PressureLogUnit = 'MPa' | 'kPa' | 'N' | 'kgf';

export interface PressureRowParser extends RowParser<PressureRow> {
  /** The log's unit, once the header has been read. */
  readonly unit: PressureLogUnit | undefined;
}

/** Feeds every line of `text` to `parser` (BOM and CRLF handled) and returns the rows. */
export function parseAll<R>(parser: RowParser<R>, text: string): R[] {
  const lines = splitLines(text);
  const out: R[] = [];
  // A final newline leaves one empty string behind: it is not a line.
  const n = lines.length > 0 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  for (let i = 0; i < n; i++) parser.line(lines[i] ?? '', i + 1, out);
  parser.end(out);
  return out;
}

/** Strips a trailing `\r` and, on line 1, a byte-order mark. */
export function cleanLine(text: string, lineNo: number): string {
  let t = text;
  if (t.charCodeAt(t.length - 1) === 13) t = t.slice(0, -1);
  if (lineNo === 1 && t.charCodeAt(0) === 0xfeff) t = t.slice(1);
  return t;
}
