/**
 * Reading recorded files: the encoding, the format (from the content), and the lines in batches, so a
 * file of millions of rows streams in bounded memory. `recorded.ts` merges them into one event-time
 * stream (`oep process`, `oep replay`); `tail.ts` follows a file still being written (`oep follow`).
 */
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { detectFormat } from '../readers/detect.js';
import { createParser, type AnyParser, type FormatName, type ReaderOptions } from '../readers/formats.js';
import type { PressureRow } from '../readers/stream.js';
import type { CyclerRow } from '../readers/types.js';

/** Bytes looked at for the encoding and the format. */
export const HEAD_BYTES = 64 * 1024;
/**
 * Bytes read per batch. Small, so that what one batch makes (its lines, rows, readings) is still young
 * garbage when the next is read: with 1 MB batches `oep process` spent ~25 % more CPU (10-column EC-Lab
 * export, 1 M rows) and peaked at 210 MB RSS instead of 120 MB.
 */
export const CHUNK_BYTES = 64 * 1024;

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

/**
 * The lines of a file from `start` (a line start) in batches of about `CHUNK_BYTES`; the final line
 * counts even without a newline. Lines keep a trailing `\r` (the parsers drop it).
 */
export async function* fileLines(path: string, encoding: TextEncoding, start = 0, firstLine = 1, signal?: AbortSignal): AsyncGenerator<LineBatch> {
  const fh = await open(path, 'r');
  // Two buffers: the next chunk is being read while the caller works on the lines of this one.
  const bufs: readonly [Buffer, Buffer] = [Buffer.alloc(CHUNK_BYTES), Buffer.alloc(CHUNK_BYTES)];
  let which: 0 | 1 = 0;
  let pos = start;
  const readNext = (): Promise<{ bytesRead: number; buffer: Buffer }> => {
    const p = fh.read(bufs[which], 0, CHUNK_BYTES, pos);
    which = which === 0 ? 1 : 0;
    return p;
  };
  let pending: Promise<{ bytesRead: number; buffer: Buffer }> | undefined;
  try {
    let line = firstLine;
    let carry: Buffer = Buffer.alloc(0);
    pending = readNext();
    for (;;) {
      if (signal?.aborted) return;
      const { bytesRead, buffer } = await pending;
      pending = undefined;
      if (bytesRead === 0) break;
      pos += bytesRead;
      const data = carry.length === 0 ? buffer.subarray(0, bytesRead) : Buffer.concat([carry, buffer.subarray(0, bytesRead)]);
      const nl = data.lastIndexOf(10);
      if (nl < 0) {
        carry = Buffer.from(data);
        pending = readNext();
        continue;
      }
      const lines = data.toString(encoding, 0, nl).split('\n');
      carry = Buffer.from(data.subarray(nl + 1));
      // `data` is decoded and the carry copied: the buffer can be refilled while the lines are used.
      pending = readNext();
      yield { lines, firstLine: line, offset: pos - carry.length };
      line += lines.length;
    }
    if (carry.length > 0) yield { lines: [carry.toString(encoding)], firstLine: line, offset: pos };
  } finally {
    if (pending !== undefined) await pending.catch(() => undefined);
    await fh.close();
  }
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

/** The rows of a source, in batches (file order), then whatever the parser held to the end. */
export async function* parsedBatches(src: Source, signal?: AbortSignal): AsyncGenerator<RowBatch> {
  const r = src.reader;
  let offset = src.bom;
  for await (const b of fileLines(src.path, src.encoding, src.bom, 1, signal)) {
    offset = b.offset;
    if (r.kind === 'cycler') {
      const rows: CyclerRow[] = [];
      b.lines.forEach((line, i) => {
        r.parser.line(line, b.firstLine + i, rows);
      });
      yield { kind: 'cycler', rows, offset };
    } else {
      const rows: PressureRow[] = [];
      b.lines.forEach((line, i) => {
        r.parser.line(line, b.firstLine + i, rows);
      });
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
