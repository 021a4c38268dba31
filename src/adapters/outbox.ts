/**
 * Where InfluxDB lines wait until the database has acknowledged them. Two kinds behind one interface:
 *
 * - {@link DiskOutbox} (the daemon, with a state folder): segment files of line protocol under
 *   `<state>/outbox/`, appended synchronously (made durable by the checkpoint's `sync()`, before the
 *   state that produced them is saved), read from a cursor that moves (and is saved) once a batch is
 *   acknowledged. The lines survive a stop, a crash and a restart, and are sent when the database is back.
 *   At-least-once: a crash between a write and the saved cursor sends a batch again, which InfluxDB
 *   overwrites (same series, same time, same values).
 * - {@link MemoryOutbox} (`oep process`, or no state folder): the same in memory.
 *
 * Bounded: past `maxBytes` (disk) or `maxLines` (memory), the OLDEST waiting lines are dropped, counted
 * (`dropped`, `oep_influx_points_dropped_total`) and reported by the caller; the newest are kept, so the
 * dashboards stay current. The daemon's `points.lp` (output.dir) keeps every line for a backfill.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { syncFile } from './durable.js';

/** A batch taken from the outbox: its lines, and what {@link Outbox.ack} needs to let them go. */
export interface OutboxBatch {
  readonly lines: readonly string[];
  readonly bytes: number;
}

export interface Outbox {
  append(lines: readonly string[]): void;
  /** Up to `maxLines` of the oldest waiting lines (empty when none wait). */
  peek(maxLines: number): OutboxBatch;
  /** The batch of the latest peek was acknowledged by the database: it goes. */
  ack(batch: OutboxBatch): void;
  /** Lines waiting. */
  readonly pending: number;
  /** Lines dropped by the size bound, so far. */
  readonly dropped: number;
  /** Makes the lines appended so far durable: resolves once they are (at once in memory). */
  sync(): Promise<void>;
  close(): void;
}

export class MemoryOutbox implements Outbox {
  private lines: string[] = [];
  private head = 0;
  dropped = 0;

  constructor(private readonly maxLines: number) {}

  get pending(): number {
    return this.lines.length - this.head;
  }

  append(lines: readonly string[]): void {
    for (const l of lines) this.lines.push(l);
    const over = this.pending - this.maxLines;
    if (over > 0) {
      this.head += over;
      this.dropped += over;
    }
    if (this.head > 65_536 && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
  }

  peek(maxLines: number): OutboxBatch {
    const lines = this.lines.slice(this.head, this.head + maxLines);
    return { lines, bytes: lines.length };
  }

  ack(batch: OutboxBatch): void {
    this.head = Math.min(this.lines.length, this.head + batch.lines.length);
  }

  sync(): Promise<void> {
    return Promise.resolve(); // nothing to make durable
  }

  close(): void {
    // nothing to release
  }
}

const cursorSchema = z.strictObject({ segment: z.number().int().nonnegative(), offset: z.number().int().nonnegative() });
const SEGMENT = /^(\d{10})\.lp$/;
const CURSOR = 'cursor.json';
/** Most bytes read from a segment for one batch. */
const READ_CHUNK = 8 * 1024 * 1024;
/**
 * Bytes read for a batch at first, doubled while they hold fewer than its lines. A batch used to read
 * READ_CHUNK whenever the segment held that much, decode it all and split every line to keep 5,000 of them:
 * an 8 MB buffer, an 8 MB string and 40,000 strings for a 1 MB batch once InfluxDB fell behind.
 */
const FIRST_READ = 256 * 1024;
/** The read buffer is kept from one batch to the next up to this size. */
const KEEP_READ_BYTES = 2 * 1024 * 1024;

interface Segment {
  readonly n: number;
  bytes: number;
  lines: number;
}

export interface DiskOutboxOptions {
  /** Most bytes waiting on disk; past it the oldest segments are dropped (counted). */
  readonly maxBytes: number;
  /** A new segment file starts past this size. */
  readonly segmentBytes: number;
}

export class DiskOutbox implements Outbox {
  /** Segments oldest first; the last one is appended to. */
  private readonly segments: Segment[] = [];
  private cursor = { segment: 0, offset: 0 };
  /** Lines of the first segment before the cursor (already sent). */
  private sentInFirst = 0;
  private fd: number | undefined;
  /** The fdatasyncs of the segments filled since the last {@link sync}. */
  private syncing: Promise<void>[] = [];
  /** Where a batch is read (kept up to {@link KEEP_READ_BYTES}). */
  private readBuf = Buffer.alloc(0);
  dropped = 0;

  constructor(
    readonly dir: string,
    private readonly opts: DiskOutboxOptions,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const cursorPath = join(dir, CURSOR);
    if (existsSync(cursorPath)) this.cursor = cursorSchema.parse(JSON.parse(readFileSync(cursorPath, 'utf8')));
    const found = readdirSync(dir)
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const n of found) {
      if (n < this.cursor.segment) {
        unlinkSync(this.segmentPath(n));
        continue;
      }
      // A line cut by a crash mid-append is not sent: only whole lines count (the tail is cut off).
      const { bytes, lines, linesBefore } = scanLines(this.segmentPath(n), n === this.cursor.segment ? this.cursor.offset : 0);
      if (n === this.cursor.segment) this.sentInFirst = linesBefore;
      this.segments.push({ n, bytes, lines });
    }
    if (this.segments[0]?.n !== this.cursor.segment) this.cursor = { segment: this.segments[0]?.n ?? this.cursor.segment, offset: 0 };
    const last = this.segments[this.segments.length - 1];
    if (last === undefined) this.segments.push({ n: this.cursor.segment, bytes: 0, lines: 0 });
    this.openLast();
  }

  get pending(): number {
    let n = -this.sentInFirst;
    for (const s of this.segments) n += s.lines;
    return n;
  }

  /** Bytes waiting. */
  get bytes(): number {
    let n = -this.cursor.offset;
    for (const s of this.segments) n += s.bytes;
    return n;
  }

  append(lines: readonly string[]): void {
    if (lines.length === 0) return;
    const buf = Buffer.from(lines.join('\n') + '\n');
    let last = this.last;
    if (last.bytes > 0 && last.bytes + buf.length > this.opts.segmentBytes) {
      this.rotate();
      last = this.last;
    }
    const fd = this.fd;
    if (fd === undefined) throw new Error('the outbox is closed');
    let done = 0;
    while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, last.bytes + done);
    last.bytes += buf.length;
    last.lines += lines.length;
    while (this.bytes > this.opts.maxBytes && this.segments.length > 1) this.dropOldest();
  }

  peek(maxLines: number): OutboxBatch {
    for (;;) {
      const first = this.segments[0];
      if (first === undefined) return { lines: [], bytes: 0 };
      if (this.cursor.offset < first.bytes) break;
      if (this.segments.length === 1) return { lines: [], bytes: 0 };
      this.nextSegment();
    }
    const first = this.segments[0];
    if (first === undefined) return { lines: [], bytes: 0 };
    const fd = openSync(this.segmentPath(first.n), 'r');
    try {
      const most = Math.min(READ_CHUNK, first.bytes - this.cursor.offset);
      for (let want = Math.min(FIRST_READ, most); ; want = Math.min(2 * want, most)) {
        if (this.readBuf.length < want) this.readBuf = Buffer.allocUnsafeSlow(want);
        const buf = this.readBuf.subarray(0, readSync(fd, this.readBuf, 0, want, this.cursor.offset));
        // the batch ends after its maxLines-th line, or after the last whole line read
        let end = 0;
        let n = 0;
        for (let i = buf.indexOf(0x0a); i !== -1 && n < maxLines; i = buf.indexOf(0x0a, i + 1), n++) end = i + 1;
        if (n < maxLines && buf.length === want && want < most) continue;
        const lines = buf.toString('utf8', 0, end).split('\n');
        lines.pop();
        return { lines, bytes: end };
      }
    } finally {
      if (this.readBuf.length > KEEP_READ_BYTES) this.readBuf = Buffer.alloc(0);
      closeSync(fd);
    }
  }

  ack(batch: OutboxBatch): void {
    if (batch.lines.length === 0) return;
    this.cursor = { segment: this.cursor.segment, offset: this.cursor.offset + batch.bytes };
    this.sentInFirst += batch.lines.length;
    const first = this.segments[0];
    if (first !== undefined && this.cursor.offset >= first.bytes && this.segments.length > 1) this.nextSegment();
    this.saveCursor();
  }

  /** An fdatasync of the segment appended to, off the event loop, and the end of those of the segments filled since the last call. */
  sync(): Promise<void> {
    const waits = this.syncing;
    this.syncing = [];
    if (this.fd !== undefined) waits.push(syncFile(this.segmentPath(this.last.n)));
    return Promise.all(waits).then(() => undefined);
  }

  close(): void {
    if (this.fd === undefined) return;
    fdatasyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
    this.saveCursor();
  }

  private get last(): Segment {
    const last = this.segments[this.segments.length - 1];
    if (last === undefined) throw new Error('the outbox has no segment');
    return last;
  }

  private segmentPath(n: number): string {
    return join(this.dir, `${String(n).padStart(10, '0')}.lp`);
  }

  private openLast(): void {
    const fd = openSync(this.segmentPath(this.last.n), 'a', 0o600);
    if (fstatSync(fd).size > this.last.bytes) ftruncateSync(fd, this.last.bytes);
    this.fd = fd;
  }

  /** The next segment; the full one's fdatasync runs off the event loop (16 MiB of lines: 20-100 ms on this machine), awaited by the next {@link sync}. */
  private rotate(): void {
    if (this.fd !== undefined) {
      const full = syncFile(this.segmentPath(this.last.n));
      full.catch(() => undefined); // awaited by the next sync
      this.syncing.push(full);
      closeSync(this.fd);
    }
    this.segments.push({ n: this.last.n + 1, bytes: 0, lines: 0 });
    this.openLast();
  }

  /** The first segment is sent (or dropped): delete it, the cursor goes to the next one. */
  private nextSegment(): void {
    const first = this.segments.shift();
    const next = this.segments[0];
    if (first === undefined || next === undefined) return;
    this.cursor = { segment: next.n, offset: 0 };
    this.sentInFirst = 0;
    this.saveCursor();
    unlinkSync(this.segmentPath(first.n));
  }

  /** The size bound: the oldest segment's unsent lines are dropped (counted). */
  private dropOldest(): void {
    const first = this.segments[0];
    if (first === undefined) return;
    this.dropped += first.lines - this.sentInFirst;
    this.nextSegment();
  }

  private saveCursor(): void {
    const path = join(this.dir, CURSOR);
    writeFileSync(path + '.tmp', JSON.stringify(this.cursor), { mode: 0o600 });
    renameSync(path + '.tmp', path);
  }
}

/** Whole lines of a file (bytes up to the last newline, their count) and the lines before byte `mark`. */
function scanLines(path: string, mark: number): { bytes: number; lines: number; linesBefore: number } {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  let pos = 0;
  let bytes = 0;
  let lines = 0;
  let linesBefore = 0;
  try {
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, pos);
      if (got === 0) break;
      for (let i = buf.indexOf(0x0a, 0); i !== -1 && i < got; i = buf.indexOf(0x0a, i + 1)) {
        lines++;
        bytes = pos + i + 1;
        if (bytes <= mark) linesBefore++;
      }
      pos += got;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes, lines, linesBefore };
}
