/**
 * Reading recorded files: the encoding, the format (from the content), and the lines in batches, so a
 * file of millions of rows streams in bounded memory. `recorded.ts` merges them into one event-time
 * stream (`oep process`, `oep replay`); `tail.ts` follows a file still being written (`oep follow`).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { detectFormat } from '../readers/detect.js';
import { createParser, type AnyParser, type FormatName, type ReaderOptions } from '../readers/formats.js';
import type { PressureRow, RowParser } from '../readers/stream.js';
import type { CyclerRow } from '../readers/types.js';

/** Bytes looked at for the encoding and the format. */
export const HEAD_BYTES = 64 * 1024;
/**
 * Bytes read per batch. Small, so that what one batch makes (its lines, rows, readings) is still young
 * garbage when the next is read: with 1 MB batches `oep process` spent ~25 % more CPU (10-column EC-Lab
 * export, 1 M rows) and peaked at 210 MB RSS instead of 120 MB.
 */
export const CHUNK_BYTES = 64 * 1024;

/** Batches read between two turns of the event loop (512 KB). */
const YIELD_EVERY = 8;

export type TextEncoding = 'latin1' | 'utf8';

/**
 * UTF-8 when the file says so (a byte-order mark) or when its non-ASCII bytes are valid UTF-8; otherwise
 * ISO-8859-1 (EC-Lab and Maccor write Windows code pages: `µ` is the single byte 0xB5). UTF-16 is refused.
 */
export function sniffEncoding(head: Buffer, fileName: string): { encoding: TextEncoding; bom: number } {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf8', bom: 3 };
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    throw new Error(`${fileName}: UTF-16 text is not supported; save the export as UTF-8 or ANSI`);
  }
  if (!head.some((b) => b >= 0x80)) return { encoding: 'latin1', bom: 0 };
  // A multi-byte sequence cut at the end of the head is fine: only judge complete text.
  let end = head.length;
  const byteAt = (i: number): number => head[i] ?? 0;
  while (end > 0 && end > head.length - 4 && (byteAt(end - 1) & 0xc0) === 0x80) end--;
  if (end > 0 && byteAt(end - 1) >= 0xc0) end--;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, end));
    return { encoding: 'utf8', bom: 0 };
  } catch {
    return { encoding: 'latin1', bom: 0 };
  }
}

export async function readHead(path: string, bytes = HEAD_BYTES): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Complete lines of a file region, in batches. */
export interface LineBatch {
  readonly lines: string[];
  /** Source line number of `lines[0]`. */
  readonly firstLine: number;
  /** File offset just after the last line of the batch. */
  readonly offset: number;
}

/** Complete lines of a file region as bytes: `data` ends just after a `\n` (or at the end of the file). */
export interface ByteBatch {
  /** Valid until the next batch is asked for (the read buffer is reused). */
  readonly data: Buffer;
  /** Source line number of the first line in `data`. */
  readonly firstLine: number;
  /** File offset just after `data`. */
  readonly offset: number;
}

/** How many lines data[0, end) holds (`\n`s, plus a last line without one). */
function lineCount(data: Buffer, end: number): number {
  let n = 0;
  for (let i = data.indexOf(10); i >= 0 && i < end; i = data.indexOf(10, i + 1)) n++;
  return end > 0 && data[end - 1] !== 10 ? n + 1 : n;
}

/**
 * The bytes of a file from `start` (a line start) in batches of complete lines of about `CHUNK_BYTES`;
 * the final line counts even without a newline.
 */
export async function* fileChunks(path: string, start = 0, firstLine = 1, signal?: AbortSignal): AsyncGenerator<ByteBatch> {
  // Synchronous reads of the page cache: a 64 KB read costs ~15 µs, a third of its CPU through the
  // thread pool's promise (measured on the 10-column 1 M-row export: 25 ms instead of 60-80 ms).
  const fd = openSync(path, 'r');
  // One buffer: the incomplete last line of a read is moved to its front and the next read lands after it,
  // so no byte is copied but that line (the buffer doubles for a line longer than itself).
  let buf = Buffer.alloc(CHUNK_BYTES);
  let carry = 0;
  let pos = start;
  try {
    let line = firstLine;
    for (let n = 0; ; n++) {
      // Reads that never wait would never let the event loop run: a signal (Ctrl-C) is seen between batches.
      if (n % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
      if (signal?.aborted) return;
      if (carry === buf.length) {
        const bigger = Buffer.alloc(buf.length * 2);
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      const bytesRead = readSync(fd, buf, carry, buf.length - carry, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const len = carry + bytesRead;
      const nl = buf.lastIndexOf(10, len - 1);
      if (nl < 0) {
        carry = len;
        continue;
      }
      const lines = buf.subarray(0, nl + 1);
      yield { data: lines, firstLine: line, offset: pos - (len - nl - 1) };
      line += lineCount(lines, lines.length);
      // The caller is done with the batch: the rest of the read goes to the front.
      buf.copyWithin(0, nl + 1, len);
      carry = len - nl - 1;
    }
    if (carry > 0) yield { data: buf.subarray(0, carry), firstLine: line, offset: pos };
  } finally {
    closeSync(fd);
  }
}

/** The text lines of a batch (without their `\n`; a trailing `\r` is kept: the parsers drop it). */
function linesOf(b: ByteBatch, encoding: TextEncoding): string[] {
  const d = b.data;
  const end = d.length > 0 && d[d.length - 1] === 10 ? d.length - 1 : d.length;
  return d.toString(encoding, 0, end).split('\n');
}

/**
 * The lines of a file from `start` (a line start) in batches of about `CHUNK_BYTES`; the final line
 * counts even without a newline. Lines keep a trailing `\r` (the parsers drop it).
 */
export async function* fileLines(path: string, encoding: TextEncoding, start = 0, firstLine = 1, signal?: AbortSignal): AsyncGenerator<LineBatch> {
  for await (const b of fileChunks(path, start, firstLine, signal)) yield { lines: linesOf(b, encoding), firstLine: b.firstLine, offset: b.offset };
}

/** A recorded file, opened: its format, encoding and parser. */
export interface Source {
  readonly path: string;
  readonly fileName: string;
  readonly format: FormatName;
  readonly encoding: TextEncoding;
  readonly bom: number;
  readonly size: number;
  readonly reader: AnyParser;
}

/** Detects (unless given) the format and the encoding and makes the parser. Throws ReaderError on an unknown layout. */
export async function openSource(path: string, options: Omit<ReaderOptions, 'fileName'>, format?: FormatName): Promise<Source> {
  const fileName = basename(path);
  const [head, st] = await Promise.all([readHead(path), stat(path)]);
  const { encoding, bom } = sniffEncoding(head, fileName);
  // Complete lines only, unless the whole file fits in the head.
  const end = head.length < HEAD_BYTES ? head.length : head.lastIndexOf(10) + 1;
  const f = format ?? detectFormat(head.toString(encoding, bom, Math.max(bom, end)), fileName);
  return { path, fileName, format: f, encoding, bom, size: st.size, reader: createParser(f, { ...options, fileName }) };
}

/** A batch of parsed rows, with the file offset just after them. */
export type RowBatch =
  | { readonly kind: 'cycler'; readonly rows: CyclerRow[]; readonly offset: number }
  | { readonly kind: 'pressure'; readonly rows: PressureRow[]; readonly offset: number };

/**
 * The rows of one batch into `out`. A parser that reads bytes (`RowParser.bytes`: no string per line) gets
 * each line so once its header is read; a line it leaves, and every line before that, is fed as text.
 */
function parseBatch<R>(parser: RowParser<R>, b: ByteBatch, encoding: TextEncoding, out: R[]): void {
  const bytes = parser.bytes;
  if (bytes === undefined || !parser.ready) {
    linesOf(b, encoding).forEach((text, i) => {
      parser.line(text, b.firstLine + i, out);
    });
    return;
  }
  const d = b.data;
  let line = b.firstLine;
  for (let s = 0; s < d.length; line++) {
    let e = d.indexOf(10, s);
    if (e < 0) e = d.length;
    if (!bytes(d, s, e, line, out)) parser.line(d.toString(encoding, s, e), line, out);
    s = e + 1;
  }
}

/** The rows of a source, in batches (file order), then whatever the parser held to the end. */
export async function* parsedBatches(src: Source, signal?: AbortSignal): AsyncGenerator<RowBatch> {
  const r = src.reader;
  let offset = src.bom;
  for await (const b of fileChunks(src.path, src.bom, 1, signal)) {
    offset = b.offset;
    if (r.kind === 'cycler') {
      const rows: CyclerRow[] = [];
      parseBatch(r.parser, b, src.encoding, rows);
      yield { kind: 'cycler', rows, offset };
    } else {
      const rows: PressureRow[] = [];
      parseBatch(r.parser, b, src.encoding, rows);
      yield { kind: 'pressure', rows, offset };
    }
  }
  if (r.kind === 'cycler') {
    const rows: CyclerRow[] = [];
    r.parser.end(rows);
    yield { kind: 'cycler', rows, offset };
  } else {
    const rows: PressureRow[] = [];
    r.parser.end(rows);
    yield { kind: 'pressure', rows, offset };
  }
}
