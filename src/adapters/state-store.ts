/**
 * The checkpoint: the lab (every cell's aligner buffer, open step, open cycle, reference Δ(ΔP_Q),
 * counters), where the journal stood (the sequence number of the last message the lab holds, and the
 * digests that recognise a redelivery), and each output file's size.
 *
 * Format 5 (state-log.ts): an append-only log of per-cell records and commits. A checkpoint writes only
 * the cells changed since the previous one, then its commit, then fdatasync (off the event loop); a crash
 * before the commit is durable leaves the previous checkpoint. It is taken a slice at a time (the event
 * loop is given back between slices) while readings go on: the lab hands a changed cell over before it
 * changes again (`LabChanges.beginCapture`, copy on write), so the checkpoint is the lab as it stood when the
 * checkpoint began, which is where its journal position stands. When the log holds more than twice its
 * live records, a checkpoint writes a fresh log (the unchanged cells' records copied as they are) and
 * renames it over the old one (fsync of the file, then of the folder).
 *
 * Each cell record is plain data (`Lab.cellRecord`, checked on restore by the zod schema of
 * state-schema.ts) encoded by record-codec.ts (format 5; numbers may be NaN or ±Infinity). Format 4 (the same
 * log, its records v8-serialized) restores, and the first checkpoint after writes a fresh format-5 log over
 * it; formats 1–3 (one file holding the whole lab) restore through state-legacy.ts, and the first checkpoint
 * after writes the log and removes the old file. Any other version is an error, never a silent fresh start.
 *
 * This file keeps the log (open, its size, where each cell's record lies) and makes a checkpoint durable;
 * checkpoint-run.ts writes one checkpoint's records a slice at a time; state-restore.ts reads a saved lab back.
 */
import { closeSync, fdatasync, fdatasyncSync, fsync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../domain/lab.js';
import { callback } from './durable.js';
import { CheckpointRun, ChunkPool, WRITE_BYTES, type CheckpointReport } from './checkpoint-run.js';
import { LEGACY_FILE } from './state-legacy.js';
import { LOG_FILE, type CheckpointMeta, type Extent, type Restored } from './state-log.js';
import { restoreState } from './state-restore.js';

export type { CheckpointMeta, JournalMark, Restored } from './state-log.js';
export type { CheckpointReport } from './checkpoint-run.js';
export { STATE_FORMAT_VERSION, STATE_FORMATS_READ } from './state-restore.js';

/** Permissions of the state folder and of the files in it (the daemon's user alone). */
export const STATE_DIR_MODE = 0o700;
export const STATE_FILE_MODE = 0o600;
/** Work per event-loop turn of a checkpoint, ms (the loop's longest block is about this plus one cell). */
export const DEFAULT_CHECKPOINT_SLICE_MS = 15;
/** A log past this many times its live records' bytes (and past {@link COMPACT_MIN_BYTES}) is written afresh. */
const COMPACT_FACTOR = 2;
const COMPACT_MIN_BYTES = 1 << 20;

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

  /** `chunks`: the buffers its checkpoints gather their records in (see {@link ChunkPool}). */
  constructor(
    readonly dir: string,
    readonly chunks = new ChunkPool(),
  ) {}

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
      run.slice(Infinity, true);
      run.seal(meta, true);
      fdatasyncSync(run.fd);
      if (run.fresh) {
        renameSync(this.path + '.tmp', this.path);
        syncDir(this.dir);
      }
    } catch (e) {
      this.abort(run);
      throw e;
    }
    this.commit(run);
    return run.bytes;
  }

  /**
   * Takes a checkpoint a slice of `slice_ms` at a time, giving the event loop back between slices; the
   * lab goes on meanwhile. Resolves once it is durable. Rejects if one is already in progress.
   * `outputs`: resolves once what `meta` refers to outside the state (the output files up to their
   * recorded sizes) is durable; the commit is written only after it, and a rejection fails the checkpoint.
   */
  checkpoint(lab: Lab, meta: CheckpointMeta, slice_ms = DEFAULT_CHECKPOINT_SLICE_MS, outputs?: Promise<unknown>): Promise<CheckpointReport> {
    if (this.running !== undefined) return Promise.reject(new Error('a checkpoint is in progress'));
    const p = this.runSliced(lab, meta, slice_ms, outputs).finally(() => {
      this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async runSliced(lab: Lab, meta: CheckpointMeta, slice_ms: number, outputs: Promise<unknown> | undefined): Promise<CheckpointReport> {
    const run = this.begin(lab);
    try {
      for (;;) {
        // The capture began in the caller's turn of the event loop; its work starts in the next one.
        await new Promise<void>((r) => setImmediate(r));
        const done = run.slice(slice_ms, false);
        // Written off the event loop: writing hundreds of MB at once, a synchronous write waits for the disk.
        if (done || run.outBytes >= WRITE_BYTES) await run.flushAsync();
        if (done) break;
      }
      await outputs;
      run.seal(meta, false);
      await run.flushAsync();
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
      this.abort(run);
      throw e;
    }
    this.commit(run);
    return run.report();
  }

  /** Starts a checkpoint: into a fresh log (the first of this process, or compaction), or appended to the open one. */
  private begin(lab: Lab): CheckpointRun {
    mkdirSync(this.dir, { recursive: true, mode: STATE_DIR_MODE });
    const fresh = this.fd === undefined || (this.size > COMPACT_MIN_BYTES && this.size > COMPACT_FACTOR * this.liveBytes);
    const fd = fresh ? openSync(this.path + '.tmp', 'w', STATE_FILE_MODE) : (this.fd ?? -1);
    return new CheckpointRun(lab, { fd: this.fd, live: this.live }, { fresh, fd, start: fresh ? 0 : this.size }, this.chunks);
  }

  /** The checkpoint is durable: the log, and what it holds, become the store's. */
  private commit(run: CheckpointRun): void {
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
  private abort(run: CheckpointRun): void {
    run.abortCapture();
    if (run.fresh) {
      closeSync(run.fd);
      rmSync(this.path + '.tmp', { force: true });
    } else ftruncateSync(run.fd, run.start);
  }

  /**
   * Restores the saved cells into `lab`; undefined when there is no checkpoint yet. A file of an unknown
   * format, or one that does not match its format's schema, throws (see state-restore.ts).
   */
  restore(lab: Lab): Restored | undefined {
    const r = restoreState(this.dir, lab);
    if (r?.log !== undefined) {
      this.fd = r.log.fd;
      this.size = r.log.size;
      this.live = r.log.live;
      for (const e of this.live.values()) this.liveBytes += e.len;
    }
    return r?.restored;
  }

  /** Closes the log (after the last checkpoint). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** fsync of a folder (a rename is durable once its folder is synced). */
function syncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
