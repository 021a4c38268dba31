/**
 * The checkpoint: the lab (every cell's aligner buffer, open step, open cycle, reference Δ(ΔP_Q),
 * counters), where the journal stood (the sequence number of the last message the lab holds, and the
 * digests that recognise a redelivery), and each output file's size.
 *
 * Format 4 (state-log.ts): an append-only log of per-cell records and commits. A checkpoint writes only
 * the cells changed since the previous one, then its commit, then fdatasync (off the event loop); a crash
 * before the commit is durable leaves the previous checkpoint. It is taken a slice at a time (the event
 * loop is given back between slices) while readings go on: the lab hands a changed cell over before it
 * changes again (`LabChanges.beginCapture`, copy on write), so the checkpoint is the lab as it stood when the
 * checkpoint began, which is where its journal position stands. When the log holds more than twice its
 * live records, a checkpoint writes a fresh log (the unchanged cells' records copied as they are) and
 * renames it over the old one (fsync of the file, then of the folder).
 *
 * Each cell record is plain data (`Lab.cellRecord`, checked on restore by the zod schema of
 * state-schema.ts) encoded with v8's serializer (numbers may be NaN or ±Infinity). Formats 1–3 (one file
 * holding the whole lab) restore through state-legacy.ts; the first checkpoint after writes format 4 and
 * removes the old file. Any other version is an error, never a silent fresh start.
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
  writev,
} from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { z } from 'zod';
import type { CellRecord, Lab } from '../domain/lab.js';
import { LEGACY_FILE, restoreLegacy } from './state-legacy.js';
import {
  cellBytesOffset,
  cellRecordParts,
  cellRecordBytes,
  commitRecordBytes,
  goneRecordBytes,
  LOG_FILE,
  scanLog,
  type CheckpointMeta,
  type Extent,
  type Restored,
} from './state-log.js';
import { parseCellRecord } from './state-schema.js';

export type { CheckpointMeta, JournalMark, Restored } from './state-log.js';

export const STATE_FORMAT_VERSION = 4;
/** The formats this release restores. */
export const STATE_FORMATS_READ = [1, 2, 3, 4] as const;
/** Permissions of the state folder and of the files in it (the daemon's user alone). */
export const STATE_DIR_MODE = 0o700;
export const STATE_FILE_MODE = 0o600;
/** Work per event-loop turn of a checkpoint, ms (the loop's longest block is about this plus one cell). */
export const DEFAULT_CHECKPOINT_SLICE_MS = 15;
/** A log past this many times its live records' bytes (and past {@link COMPACT_MIN_BYTES}) is written afresh. */
const COMPACT_FACTOR = 2;
const COMPACT_MIN_BYTES = 1 << 20;
/** Encoded records gathered before one write. */
const WRITE_BYTES = 4 << 20;

const meta4 = z.strictObject({
  version: z.literal(4),
  savedAt: z.number(),
  journal: z.strictObject({ seq: z.number().int().nonnegative(), recent: z.array(z.string()) }),
  files: z.record(z.string(), z.number().int().nonnegative()).optional(),
});

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

/** One checkpoint in progress. */
interface Run {
  readonly fresh: boolean;
  readonly fd: number;
  /** Where the next write goes in the target file. */
  pos: number;
  readonly start: number;
  out: Uint8Array[];
  outBytes: number;
  /** The live map's changes (null: the cell is gone). */
  readonly next: Map<string, Extent | null>;
  /** Unchanged cells to copy (fresh log only). */
  readonly copies: [string, Extent][];
  /**
   * The lab's pending cells, walked once across the slices (a Set iterator goes on past deletions; a
   * new one per slice would step over every cell handed over so far again).
   */
  pending: Iterator<string>;
  encoded: number;
  bytes: number;
  longest_ms: number;
}

export class StateStore {
  /** The log, open (undefined before the first checkpoint of this process). */
  private fd: number | undefined;
  private size = 0;
  /** Where each cell's latest committed record lies in the log. */
  private live = new Map<string, Extent>();
  private liveBytes = 0;
  private running: Promise<CheckpointReport> | undefined;
  /** Cells encoded by the latest checkpoint. */
  lastEncoded = 0;

  constructor(readonly dir: string) {}

  get path(): string {
    return join(this.dir, LOG_FILE);
  }

  /** True while a checkpoint is being taken. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Takes a checkpoint at once, on the event loop (tests, benchmarks); returns its size in bytes. */
  save(lab: Lab, meta: CheckpointMeta): number {
    if (this.running !== undefined) throw new Error('a checkpoint is in progress');
    const run = this.begin(lab);
    try {
      this.slice(lab, run, Infinity, true);
      this.seal(lab, run, meta, true);
      fdatasyncSync(run.fd);
      if (run.fresh) {
        renameSync(this.path + '.tmp', this.path);
        syncDir(this.dir);
      }
    } catch (e) {
      this.abort(lab, run);
      throw e;
    }
    this.commit(run);
    return run.bytes;
  }

  /**
   * Takes a checkpoint a slice of `slice_ms` at a time, giving the event loop back between slices; the
   * lab goes on meanwhile. Resolves once it is durable. Rejects if one is already in progress.
   */
  checkpoint(lab: Lab, meta: CheckpointMeta, slice_ms = DEFAULT_CHECKPOINT_SLICE_MS): Promise<CheckpointReport> {
    if (this.running !== undefined) return Promise.reject(new Error('a checkpoint is in progress'));
    const p = this.runSliced(lab, meta, slice_ms).finally(() => {
      this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async runSliced(lab: Lab, meta: CheckpointMeta, slice_ms: number): Promise<CheckpointReport> {
    const run = this.begin(lab);
    try {
      for (;;) {
        const done = this.slice(lab, run, slice_ms, false);
        // Written off the event loop: writing hundreds of MB at once, a synchronous write waits for the disk.
        if (done || run.outBytes >= WRITE_BYTES) await this.flushAsync(run);
        if (done) break;
        await new Promise<void>((r) => setImmediate(r));
      }
      this.seal(lab, run, meta, false);
      await this.flushAsync(run);
      await callback((cb) => {
        fdatasync(run.fd, cb);
      });
      if (run.fresh) {
        renameSync(this.path + '.tmp', this.path);
        const dirFd = openSync(this.dir, 'r');
        await callback((cb) => {
          fsync(dirFd, cb);
        }).finally(() => {
          closeSync(dirFd);
        });
      }
    } catch (e) {
      this.abort(lab, run);
      throw e;
    }
    this.commit(run);
    return { encoded: run.encoded, copied: run.copies.length, bytes: run.bytes, fresh: run.fresh, longestSlice_ms: run.longest_ms };
  }

  private begin(lab: Lab): Run {
    mkdirSync(this.dir, { recursive: true, mode: STATE_DIR_MODE });
    const fresh = this.fd === undefined || (this.size > COMPACT_MIN_BYTES && this.size > COMPACT_FACTOR * this.liveBytes);
    const fd = fresh ? openSync(this.path + '.tmp', 'w', STATE_FILE_MODE) : (this.fd ?? -1);
    const start = fresh ? 0 : this.size;
    const run: Run = {
      fresh,
      fd,
      pos: start,
      start,
      out: [],
      outBytes: 0,
      next: new Map(),
      copies: [],
      pending: [].values(),
      encoded: 0,
      bytes: 0,
      longest_ms: 0,
    };
    const pending = lab.changes.beginCapture((id, r) => {
      this.take(run, id, r);
    });
    run.pending = pending.values();
    for (const [id, e] of this.live) {
      if (!lab.cells.has(id)) {
        if (!fresh) this.put(run, goneRecordBytes(id));
        run.next.set(id, null);
      } else if (fresh && !pending.has(id)) run.copies.push([id, e]);
    }
    return run;
  }

  /** A cell handed over by the lab: encoded now (the lab moves on right after). */
  private take(run: Run, id: string, r: CellRecord | undefined): void {
    if (r === undefined) {
      if (this.live.has(id)) {
        if (!run.fresh) this.put(run, goneRecordBytes(id));
        run.next.set(id, null);
      }
      return;
    }
    const [head, bytes] = cellRecordParts(id, serialize(r));
    run.next.set(id, { off: run.pos + run.outBytes + head.length, len: bytes.length });
    this.put(run, head);
    this.put(run, bytes);
    run.encoded++;
  }

  private put(run: Run, b: Uint8Array): void {
    run.out.push(b);
    run.outBytes += b.length;
  }

  /**
   * One slice of work: until `budget_ms` has passed, or (without `writeNow`) until {@link WRITE_BYTES}
   * are gathered for the caller to write. True when every cell is in.
   */
  private slice(lab: Lab, run: Run, budget_ms: number, writeNow: boolean): boolean {
    const t0 = performance.now();
    const stop = (): boolean => {
      if (run.outBytes >= WRITE_BYTES) {
        if (!writeNow) return true;
        this.flush(run);
      }
      return performance.now() - t0 >= budget_ms;
    };
    let done = true;
    for (let it = run.pending.next(); it.done !== true; it = run.pending.next()) {
      lab.changes.captureNext(it.value);
      if (stop()) {
        done = false;
        break;
      }
    }
    while (done && run.copies.length > 0) {
      const [id, e] = run.copies.pop() ?? ['', { off: 0, len: 0 }];
      const bytes = Buffer.allocUnsafe(e.len);
      if (readSync(this.fd ?? -1, bytes, 0, e.len, e.off) !== e.len) throw new Error(`state log: cell ${id}'s record is cut short`);
      run.next.set(id, { off: run.pos + run.outBytes + cellBytesOffset(id), len: e.len });
      this.put(run, cellRecordBytes(id, bytes));
      if (stop()) done = false;
    }
    if (done && writeNow) this.flush(run);
    run.longest_ms = Math.max(run.longest_ms, performance.now() - t0);
    return done;
  }

  private async flushAsync(run: Run): Promise<void> {
    if (run.out.length === 0) return;
    const bufs = run.out;
    const n = run.outBytes;
    const pos = run.pos;
    run.out = [];
    run.outBytes = 0;
    // Positions are reserved now: records the lab hands over meanwhile go after these.
    run.pos += n;
    run.bytes += n;
    let done = 0;
    while (done < n) {
      const rest = done === 0 ? bufs : [Buffer.concat(bufs, n).subarray(done)];
      const wrote = await new Promise<number>((resolve, reject) => {
        writev(run.fd, rest, pos + done, (e, w) => {
          if (e === null) resolve(w);
          else reject(e);
        });
      });
      done += wrote;
    }
  }

  private flush(run: Run): void {
    const buf = run.out.length === 1 && run.out[0] !== undefined ? run.out[0] : Buffer.concat(run.out, run.outBytes);
    run.out = [];
    run.outBytes = 0;
    let done = 0;
    while (done < buf.length) done += writeSync(run.fd, buf, done, buf.length - done, run.pos + done);
    run.pos += buf.length;
    run.bytes += buf.length;
  }

  /** Ends the capture and puts the commit after the cells (written at once with `writeNow`; not synced). */
  private seal(lab: Lab, run: Run, meta: CheckpointMeta, writeNow: boolean): void {
    lab.changes.endCapture();
    const m = {
      version: STATE_FORMAT_VERSION,
      savedAt: meta.savedAt,
      journal: { seq: meta.journal.seq, recent: [...meta.journal.recent] },
      ...(meta.files !== undefined ? { files: { ...meta.files } } : {}),
    };
    this.put(run, commitRecordBytes(serialize(m)));
    if (writeNow) this.flush(run);
  }

  /** The checkpoint is durable: the log, and what it holds, become the store's. */
  private commit(run: Run): void {
    if (run.fresh) {
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = run.fd;
      this.live = new Map();
      rmSync(join(this.dir, LEGACY_FILE), { force: true });
    }
    this.size = run.pos;
    for (const [id, e] of run.next) {
      if (e === null) this.live.delete(id);
      else this.live.set(id, e);
    }
    this.liveBytes = 0;
    for (const e of this.live.values()) this.liveBytes += e.len;
    this.lastEncoded = run.encoded;
  }

  /** A failed checkpoint: its cells count as changed again, the log is as it was. */
  private abort(lab: Lab, run: Run): void {
    lab.changes.abortCapture([...run.next.keys()]);
    if (run.fresh) {
      closeSync(run.fd);
      rmSync(this.path + '.tmp', { force: true });
    } else ftruncateSync(run.fd, run.start);
  }

  /**
   * Restores the saved cells into `lab`; undefined when there is no checkpoint yet. A file of an unknown
   * format, or one that does not match its format's schema, throws: the daemon does not start afresh
   * over a lab's history.
   */
  restore(lab: Lab): Restored | undefined {
    if (!existsSync(this.path)) {
      const legacy = join(this.dir, LEGACY_FILE);
      return existsSync(legacy) ? restoreLegacy(legacy, lab, STATE_FORMATS_READ) : undefined;
    }
    const buf = readFileSync(this.path);
    const scanned = scanLog(buf);
    if (scanned.commit === undefined) throw new Error(`state file ${this.path} holds no complete checkpoint`);
    const raw: unknown = deserialize(scanned.commit);
    const head = z.looseObject({ version: z.number() }).safeParse(raw);
    if (head.success && head.data.version !== STATE_FORMAT_VERSION)
      throw new Error(
        `state file ${this.path} has format ${head.data.version}; this release reads formats ${STATE_FORMATS_READ.join(', ')} (a newer oep wrote it?)`,
      );
    const m = meta4.safeParse(raw);
    if (!m.success) throw new Error(`state file ${this.path} (format 4) does not match its schema: ${m.error.message}`);
    for (const [id, e] of scanned.cells) lab.restoreRecord(id, parseCellRecord(id, deserialize(buf.subarray(e.off, e.off + e.len))));
    // The restored cells are what the log holds: only what changes from here on is written again.
    lab.changes.takeDirty();
    this.fd = openSync(this.path, 'r+');
    if (scanned.end < buf.length) ftruncateSync(this.fd, scanned.end);
    this.size = scanned.end;
    this.live = scanned.cells;
    for (const e of this.live.values()) this.liveBytes += e.len;
    return { version: STATE_FORMAT_VERSION, cells: scanned.cells.size, savedAt: m.data.savedAt, journal: m.data.journal, files: m.data.files };
  }

  /** Closes the log (after the last checkpoint). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** fsync of a folder (a rename is durable once its folder is synced). */
/** Runs an fs call taking a callback as a promise. */
function callback(f: (cb: (e: NodeJS.ErrnoException | null) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    f((e) => {
      if (e === null) resolve();
      else reject(e);
    });
  });
}

function syncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
