/**
 * What survives a restart of the daemon, and when it is written: the lab state restored at start, the
 * write-ahead journal (each message appended before the pipeline sees it, the ones after the last checkpoint
 * replayed at start), and the checkpoints: one at start, one every `state.interval_s`, an early one when the
 * journal outgrows its bound (`state.maxJournalBytes`, else by the cells: config/defaults.ts), the last one at stop. Without a `state` section it does nothing.
 */
import type { FileSink } from '../src/adapters/file-sink.js';
import type { InfluxSink } from '../src/adapters/influx-sink.js';
import { Journal } from '../src/adapters/journal.js';
import { ingestLine } from '../src/adapters/line-protocol.js';
import type { Logger } from '../src/adapters/log.js';
import { errorMessage } from '../src/adapters/log-text.js';
import type { RawMessage } from '../src/adapters/mqtt.js';
import { StateStore, type CheckpointReport, type Restored } from '../src/adapters/state-store.js';
import { journalBound } from '../src/config/defaults.js';
import type { CheckpointHealth } from '../src/adapters/health-source.js';
import type { OepConfig } from '../src/config/schema.js';
import type { Lab } from '../src/domain/lab.js';

/** Cells whose counters are written in one turn of the event loop (~2-5 ms). */
const COUNTER_SLICE = 500;

export interface CheckpointOptions {
  readonly state: OepConfig['state'];
  readonly lab: Lab;
  readonly log: Logger;
  readonly now: () => number;
  /** The outputs a checkpoint makes durable and writes the per-cell counters to (once the sinks exist). */
  readonly outputs: () => { readonly influx: InfluxSink | undefined; readonly files: FileSink | undefined };
  /** True once the daemon is stopping: an early checkpoint asked for then is not taken (the last one is). */
  readonly stopping: () => boolean;
}

export class Checkpoints {
  private readonly store: StateStore | undefined;
  /** The write-ahead journal of incoming messages (with the state folder, unless `state.journal: false`). */
  readonly journal: Journal | undefined;
  private soon = false;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** How the latest checkpoint went (cells encoded, bytes, the longest slice of work). */
  lastReport: CheckpointReport | undefined;
  /** How long the last checkpoint took, its longest piece of work in one turn of the event loop, and when it ended (for /metrics). */
  last: CheckpointHealth | undefined;
  /** The checkpoint being taken: its longest piece of work in one turn of the event loop, by part, ms. */
  private pieces = { counters: 0, start: 0, state: 0, end: 0 };

  constructor(private readonly opts: CheckpointOptions) {
    const state = opts.state;
    this.store = state !== undefined ? new StateStore(state.dir) : undefined;
    this.journal =
      state?.journal === true
        ? new Journal(state.dir, {
            onError: (m) => {
              opts.log.error(m);
            },
            commitInterval_ms: state.journalCommit_ms,
          })
        : undefined;
  }

  /** Where the lab state is kept (undefined without a state folder). */
  get path(): string | undefined {
    return this.store?.path;
  }

  /** Puts the saved cells back into the lab; undefined when there is no checkpoint yet (or no state folder). */
  restore(): Restored | undefined {
    return this.store?.restore(this.opts.lab);
  }

  /**
   * Feeds the lab the journaled messages after the checkpoint, with their arrival times (the lab then
   * stands where it stood before the stop or the crash), and restarts the cells' clocks.
   */
  replayJournal(mark: { readonly seq: number; readonly recent: readonly string[] }, into: (m: RawMessage) => void): void {
    if (this.journal === undefined) return;
    const n = this.journal.openEach(mark.seq, mark.recent, into);
    if (n > 0) this.opts.log.info(`journal: replayed ${n} messages received after the last checkpoint`);
    this.opts.lab.resumeAt(this.opts.now());
  }

  /** The first checkpoint now, then one every `state.interval_s`. */
  startTimer(): void {
    const state = this.opts.state;
    if (this.store === undefined || state === undefined) return;
    void this.checkpoint();
    this.timer = setInterval(() => {
      void this.checkpoint();
    }, state.interval_s * 1000);
    this.timer.unref();
  }

  /** Journals a message before the pipeline sees it (and before its PUBACK); a journal past its bound asks for an early checkpoint. */
  journaled(m: RawMessage): boolean {
    const j = this.journal;
    if (j === undefined) return true;
    const fresh = j.append(m);
    if (j.bytes > journalBound(this.opts.state?.maxJournalBytes, this.opts.lab.cells.size) && !this.soon) {
      this.soon = true;
      // After this message has gone through the (synchronous) pipeline: the journal and the lab agree.
      setImmediate(() => {
        this.soon = false;
        if (!this.opts.stopping()) void this.checkpoint();
      });
    }
    return fresh;
  }

  /**
   * Writes the per-cell counters and saves the lab state; errors are logged, never thrown. In order: the
   * counters written (a slice of cells per turn of the event loop); then in one turn, the capture's start:
   * the output files' sizes recorded and their fdatasync started (off the event loop), the journal's
   * position noted and its file set aside, the lab's changed cells marked; the state saved a slice at a
   * time while messages go on (the lab as it stood at that position: see StateStore), its commit written
   * once the outputs are durable up to the recorded sizes; the set-aside journal dropped once the state is
   * durable. A crash anywhere in between leaves a checkpoint, outputs and a journal that agree. One at a
   * time: a call while one is being taken returns it.
   */
  checkpoint(): Promise<void> {
    this.running ??= this.take().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async take(): Promise<void> {
    const { lab, log } = this.opts;
    const started = performance.now();
    this.pieces = { counters: 0, start: 0, state: 0, end: 0 };
    try {
      const { influx, files } = this.opts.outputs();
      const lines = await this.writeCounters(influx, files);
      const captured = performance.now();
      const t = this.opts.now();
      const offsets = files?.offsets;
      const outputs = Promise.all([files?.sync(), influx?.sync()]);
      // Awaited by the store before its commit; a rejection meanwhile is not an unhandled one.
      outputs.catch(() => undefined);
      if (this.store === undefined) {
        await outputs;
        return;
      }
      const j = this.journal;
      const journal = { seq: j?.seq ?? 0, recent: j?.recentDigests ?? [] };
      j?.rotate();
      const saved = this.store.checkpoint(lab, { savedAt: t, journal, files: offsets }, undefined, outputs);
      // The capture's start: the outputs' sizes, the syncs started, the journal set aside, the store's first slice.
      this.block('start', captured);
      const r = await saved;
      const end = performance.now();
      j?.dropThrough(journal.seq);
      this.block('end', end);
      this.pieces.state = r.longestSlice_ms;
      this.lastReport = r;
      if (log.enabled('debug'))
        log.debug(
          `checkpoint: ${lab.cells.size} cells, ${r.encoded} written, ${r.bytes} bytes, ${lines} counter lines, ` +
            `${(performance.now() - started).toFixed(1)} ms; longest piece in one turn of the event loop ${this.longestBlock().toFixed(1)} ms ` +
            `(${Object.entries(this.pieces)
              .map(([k, v]) => `${k} ${v.toFixed(1)}`)
              .join(', ')})`,
        );
    } catch (e) {
      log.error(`checkpoint failed: ${errorMessage(e)}`);
    } finally {
      const longestBlock_ms = this.longestBlock();
      const longestEver_ms = Math.max(this.last?.longestEver_ms ?? 0, longestBlock_ms);
      this.last = { duration_ms: performance.now() - started, longestBlock_ms, longestEver_ms, at: this.opts.now() };
    }
  }

  /**
   * The per-cell counters as `oep_ingest` lines, {@link COUNTER_SLICE} cells per turn of the event loop
   * (10,000 lines take 35-100 ms to build), each slice stamped with its time; returns how many were written.
   */
  private async writeCounters(influx: InfluxSink | undefined, files: FileSink | undefined): Promise<number> {
    const cells = this.opts.lab.cells;
    const ids = [...cells.keys()];
    let written = 0;
    for (let i = 0; i < ids.length; i += COUNTER_SLICE) {
      if (i > 0) await new Promise<void>((r) => setImmediate(r));
      const t0 = performance.now();
      const t = this.opts.now();
      const lines: string[] = [];
      for (let k = i; k < Math.min(ids.length, i + COUNTER_SLICE); k++) {
        const id = ids[k] ?? '';
        const c = cells.get(id);
        const l = c === undefined ? undefined : ingestLine(id, c.counters, t);
        if (l !== undefined) lines.push(l);
      }
      influx?.writeLines(lines);
      files?.writeLines(lines);
      written += lines.length;
      this.block('counters', t0);
    }
    return written;
  }

  /** A piece of the checkpoint's work (its `part`) that began at `t0` (performance.now()) ends now, in the same turn of the event loop. */
  private block(part: 'counters' | 'start' | 'end', t0: number): void {
    this.pieces[part] = Math.max(this.pieces[part], performance.now() - t0);
  }

  private longestBlock(): number {
    return Math.max(...Object.values(this.pieces));
  }

  /** No more timed checkpoints (the daemon is stopping). */
  stopTimer(): void {
    clearInterval(this.timer);
  }

  /** The last checkpoint, once the one in progress (if any) is done; true when the state was saved. */
  async final(): Promise<boolean> {
    if (this.store === undefined) return false;
    await this.running;
    await this.checkpoint();
    this.store.close();
    return true;
  }
}
