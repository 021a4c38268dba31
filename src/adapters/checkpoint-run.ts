/**
 * One checkpoint being written: the cells the lab hands over (changed since the previous checkpoint, or
 * about to change again) encoded into log records, the unchanged cells' records copied byte for byte when
 * the log is written afresh, all gathered and written a slice of work at a time, and the commit record
 * last. The file it writes to, and what becomes of it once durable, is the {@link StateStore}'s business.
 */
import { readSync, writeSync, writev } from 'node:fs';
import { serialize } from 'node:v8';
import type { CellRecord, Lab } from '../domain/lab.js';
import { RecordEncoder } from './record-codec.js';
import { cellBytesOffset, cellRecordParts, commitRecordBytes, goneRecordBytes, type CheckpointMeta, type Extent } from './state-log.js';
import { STATE_FORMAT_VERSION } from './state-restore.js';

/** Encoded records gathered before one write. */
export const WRITE_BYTES = 4 << 20;
/** Size of the buffers records are gathered in. */
export const CHUNK_BYTES = 256 << 10;
/** Free chunks a pool keeps (a write's worth and a little more). */
const POOL_CHUNKS = WRITE_BYTES / CHUNK_BYTES + 4;
/**
 * The encoder of every checkpoint's cell records: its buffer is reused from one record to the next (and
 * from one checkpoint to the next), each record copied into a chunk at once.
 */
const encoder = new RecordEncoder();

/**
 * The buffers checkpoints gather their records in, kept from one checkpoint to the next. Each record used
 * to wait for its write as the buffer v8.serialize returned (malloc'd, 3.9 KB a cell, 37 MB a checkpoint at
 * 10,000 cells), promoted to the old space by then and freed only by the next full collection: the malloc
 * heap grew by 35-40 MB and kept it (the 10,000-cell stress sweep). Copied into a chunk, the serializer's
 * buffer died young; the record codec (format 5) writes each record into one buffer it reuses, copied into a
 * chunk at once, and the chunks are written and reused.
 */
export class ChunkPool {
  private readonly free: Buffer[] = [];
  /** Chunks allocated so far (tests: a second checkpoint allocates none). */
  allocated = 0;

  constructor(readonly size = CHUNK_BYTES) {}

  take(): Buffer {
    const b = this.free.pop();
    if (b !== undefined) return b;
    this.allocated++;
    return Buffer.allocUnsafeSlow(this.size);
  }

  give(chunks: readonly Buffer[]): void {
    for (const c of chunks) if (this.free.length < POOL_CHUNKS) this.free.push(c);
  }
}

/** How a checkpoint went. */
export interface CheckpointReport {
  /** Cells encoded (changed since the previous checkpoint). */
  readonly encoded: number;
  /** Unchanged cells copied into a fresh log (0 when appending). */
  readonly copied: number;
  /** Bytes written. */
  readonly bytes: number;
  /** True when the log was written afresh (first checkpoint, or compaction). */
  readonly fresh: boolean;
  /** The longest slice of work between two turns of the event loop, ms. */
  readonly longestSlice_ms: number;
}

/** The log as the store holds it when a checkpoint begins. */
export interface LogNow {
  /** The open log (undefined before the first checkpoint of this process). */
  readonly fd: number | undefined;
  /** Where each cell's latest committed record lies in the log. */
  readonly live: ReadonlyMap<string, Extent>;
}

/** Where a checkpoint writes: a fresh log (a new file, from 0), or the end of the open one. */
export interface RunTarget {
  readonly fresh: boolean;
  readonly fd: number;
  readonly start: number;
}

export class CheckpointRun {
  readonly fresh: boolean;
  readonly fd: number;
  /** Where the next write goes in the target file. */
  pos: number;
  readonly start: number;
  /** What is gathered, in order: filled parts of chunks, and records larger than a chunk. */
  private out: Uint8Array[] = [];
  /** The chunks `out` lies in (given back to the pool once written). */
  private chunks: Buffer[] = [];
  /** The chunk being filled, and how far. */
  private chunk: Buffer | undefined;
  private used = 0;
  private chunkStart = 0;
  outBytes = 0;
  /** The live map's changes (null: the cell is gone). */
  readonly next = new Map<string, Extent | null>();
  /** Unchanged cells to copy (fresh log only). */
  readonly copies: [string, Extent][] = [];
  /**
   * The lab's pending cells, walked once across the slices (a Set iterator goes on past deletions; a
   * new one per slice would step over every cell handed over so far again).
   */
  private readonly pending: Iterator<string>;
  encoded = 0;
  bytes = 0;
  private longest_ms = 0;

  /** Starts the lab's capture: from here on a changed cell is handed over before it changes again. */
  constructor(
    private readonly lab: Lab,
    private readonly log: LogNow,
    target: RunTarget,
    private readonly pool: ChunkPool = new ChunkPool(),
  ) {
    this.fresh = target.fresh;
    this.fd = target.fd;
    this.pos = target.start;
    this.start = target.start;
    const pending = lab.changes.beginCapture((id, r) => {
      this.take(id, r);
    });
    this.pending = pending.values();
    for (const [id, e] of log.live) {
      if (!lab.cells.has(id)) {
        if (!this.fresh) this.put(goneRecordBytes(id));
        this.next.set(id, null);
      } else if (this.fresh && !pending.has(id)) this.copies.push([id, e]);
    }
  }

  /** A cell handed over by the lab: encoded now (the lab moves on right after). */
  private take(id: string, r: CellRecord | undefined): void {
    if (r === undefined) {
      if (this.log.live.has(id)) {
        if (!this.fresh) this.put(goneRecordBytes(id));
        this.next.set(id, null);
      }
      return;
    }
    // The record codec (format 5): keys as table indexes, numbers and typed arrays as bytes; 4-5 times cheaper than
    // Node's v8.serialize and half its size. Tried in session 21 and dropped, both with no CPU gain in the
    // 10,000-cell sweep: v8's plain Serializer, and a JavaScript encoder of v8's format (same keys as strings).
    const view = encoder.encode(r);
    // the encoder's buffer is reused: a record too large for a chunk (put as it is) is copied first
    const [head, bytes] = cellRecordParts(id, view.length > this.pool.size ? Buffer.from(view) : view);
    this.next.set(id, { off: this.pos + this.outBytes + head.length, len: bytes.length });
    this.put(head);
    this.put(bytes);
    this.encoded++;
  }

  /** Gathers `b`, copied into a chunk (a record larger than a chunk as it is). */
  private put(b: Uint8Array): void {
    this.outBytes += b.length;
    if (b.length > this.pool.size) {
      this.closeChunk();
      this.out.push(b);
      return;
    }
    let c = this.chunk;
    if (c === undefined || this.used + b.length > c.length) {
      this.closeChunk();
      c = this.chunk = this.pool.take();
      this.chunks.push(c);
      this.used = this.chunkStart = 0;
    }
    c.set(b, this.used);
    this.used += b.length;
  }

  /** The chunk's filled part goes to `out`; the rest of it is filled after (a write may be on its way meanwhile). */
  private closeChunk(): void {
    if (this.chunk !== undefined && this.used > this.chunkStart) this.out.push(this.chunk.subarray(this.chunkStart, this.used));
    this.chunkStart = this.used;
  }

  /** What is gathered, handed over for a write, and the chunks it lies in (full ones; the current one stays). */
  private drain(): { bufs: Uint8Array[]; n: number; written: Buffer[] } {
    this.closeChunk();
    const bufs = this.out;
    const n = this.outBytes;
    const written = this.chunks.filter((c) => c !== this.chunk);
    this.out = [];
    this.outBytes = 0;
    this.chunks = this.chunk !== undefined ? [this.chunk] : [];
    return { bufs, n, written };
  }

  /**
   * One slice of work: until `budget_ms` has passed, or (without `writeNow`) until {@link WRITE_BYTES}
   * are gathered for the caller to write. True when every cell is in.
   */
  slice(budget_ms: number, writeNow: boolean): boolean {
    const t0 = performance.now();
    const stop = (): boolean => {
      if (this.outBytes >= WRITE_BYTES) {
        if (!writeNow) return true;
        this.flush();
      }
      return performance.now() - t0 >= budget_ms;
    };
    let done = true;
    for (let it = this.pending.next(); it.done !== true; it = this.pending.next()) {
      this.lab.changes.captureNext(it.value);
      if (stop()) {
        done = false;
        break;
      }
    }
    while (done && this.copies.length > 0) {
      const [id, e] = this.copies.pop() ?? ['', { off: 0, len: 0 }];
      const bytes = Buffer.allocUnsafe(e.len);
      if (readSync(this.log.fd ?? -1, bytes, 0, e.len, e.off) !== e.len) throw new Error(`state log: cell ${id}'s record is cut short`);
      this.next.set(id, { off: this.pos + this.outBytes + cellBytesOffset(id), len: e.len });
      for (const part of cellRecordParts(id, bytes)) this.put(part);
      if (stop()) done = false;
    }
    if (done && writeNow) this.flush();
    this.longest_ms = Math.max(this.longest_ms, performance.now() - t0);
    return done;
  }

  /** Writes what is gathered, off the event loop. */
  async flushAsync(): Promise<void> {
    if (this.outBytes === 0) return;
    const { bufs, n, written } = this.drain();
    const pos = this.pos;
    // Positions are reserved now: records the lab hands over meanwhile go after these.
    this.pos += n;
    this.bytes += n;
    let done = 0;
    while (done < n) {
      const rest = done === 0 ? bufs : [Buffer.concat(bufs, n).subarray(done)];
      const wrote = await new Promise<number>((resolve, reject) => {
        writev(this.fd, rest, pos + done, (e, w) => {
          if (e === null) resolve(w);
          else reject(e);
        });
      });
      done += wrote;
    }
    this.pool.give(written);
  }

  /** Writes what is gathered, at once. */
  private flush(): void {
    const { bufs, n, written } = this.drain();
    const buf = bufs.length === 1 && bufs[0] !== undefined ? bufs[0] : Buffer.concat(bufs, n);
    let done = 0;
    while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done, this.pos + done);
    this.pos += buf.length;
    this.bytes += buf.length;
    this.pool.give(written);
  }

  /** Ends the capture and puts the commit after the cells (written at once with `writeNow`; not synced). */
  seal(meta: CheckpointMeta, writeNow: boolean): void {
    this.lab.changes.endCapture();
    const m = {
      version: STATE_FORMAT_VERSION,
      savedAt: meta.savedAt,
      journal: { seq: meta.journal.seq, recent: [...meta.journal.recent] },
      ...(meta.files !== undefined ? { files: { ...meta.files } } : {}),
    };
    this.put(commitRecordBytes(serialize(m)));
    // Nothing is gathered after the commit: the last chunk goes back to the pool with the last write.
    this.closeChunk();
    this.chunk = undefined;
    if (writeNow) this.flush();
  }

  /** A failed checkpoint: the cells it took count as changed again. */
  abortCapture(): void {
    this.lab.changes.abortCapture([...this.next.keys()]);
  }

  report(): CheckpointReport {
    return { encoded: this.encoded, copied: this.copies.length, bytes: this.bytes, fresh: this.fresh, longestSlice_ms: this.longest_ms };
  }
}
