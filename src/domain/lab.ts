/**
 * All cells of a lab: for each cell its aligner, its core (CellProcessor), its alerting and its counters.
 * Pure and synchronous: readings in, records, alerts and side outputs (late readings) out. The RxJS
 * pipelines drive it; the daemon snapshots it so a restart resumes each cell where it stopped.
 *
 * One cell's failure (an exception inside its aligner, core or detectors: a bug, never bad input, which
 * the edge rejects) is isolated to that cell: it is reported once as a `failure` event, the cell stops
 * processing (its later readings are counted as rejected `cell_failed`, so nothing is invented from a
 * broken state), and every other cell goes on.
 */
import type { Signal } from './alerts/lifecycle.js';
import type { CellOutput } from './cell-processor.js';
import {
  cellFromRecord,
  cellTakingRecord,
  cellFromSnapshot,
  newCellState,
  recordOfCell,
  recordViewOfCell,
  snapshotOfCell,
  type CellRecord,
  type CellSetup,
  type CellSnapshot,
  type CellState,
} from './cell-state.js';
import { GapTracker } from './gaps.js';
import { LabAlerts } from './lab-alerts.js';
import { LabChanges } from './lab-changes.js';
import { LabTaps } from './lab-taps.js';
import type { LabEvent } from './lab-events.js';
import { channelCode, ReleasedReadingColumns } from './reading-buffer.js';
import type { Channel, Reading } from './types.js';

export { CELL_RECORD_VERSION, newCounters, type CellCounters, type CellRecord, type CellSetup, type CellSnapshot, type CellState } from './cell-state.js';
export type { CellAlertSetup } from './alerts/cell-alerts.js';
export { ALL_CELLS } from './alerts/maintenance.js';
export type { LabEvent } from './lab-events.js';

/** Reason under which a failed cell's later readings are counted. */
export const CELL_FAILED = 'cell_failed';

export interface LabOptions {
  /** Count holes in each channel's event time while current flows (`gap` events; the live daemon turns it on). */
  readonly trackGaps?: boolean;
  /**
   * Told of every cell state the lab makes, puts back (a new object) or forgets (`undefined`), when it does:
   * an index of the cells kept outside the lab (the daemon's, see pipelines/admission.ts) then never holds a
   * state the lab has let go, and may hand it to {@link Lab.ingestPairs} instead of its id being looked up again.
   */
  readonly onCell?: (id: string, cell: CellState | undefined) => void;
}

export class Lab {
  readonly cells = new Map<string, CellState>();
  /** The cells changed since the last checkpoint, and the snapshot being taken of them (copy on write). */
  readonly changes = new LabChanges((id) => this.cellRecordView(id));
  /** What an aligner released, as numbers (one set of columns for every cell: a call uses it and leaves it empty). */
  private readonly released = new ReleasedReadingColumns();
  /** Where a call's records and detector measurements go (one set for the lab). */
  private readonly taps = new LabTaps();
  /** The cells' alerting, fed from what each core emits. */
  private readonly alerts: LabAlerts;
  /** Processing time of the call in progress (NaN at the end of input). */
  private now = NaN;

  /**
   * @param setupFor each cell's settings, asked once when the cell is first seen or restored.
   * @param observe hears every detector measurement before the lifecycle judges it (margins in tests and benchmarks).
   */
  constructor(
    private readonly setupFor: (cell: string) => CellSetup,
    observe?: { readonly signal: (cell: string, s: Signal) => void },
    private readonly options: LabOptions = {},
  ) {
    this.alerts = new LabAlerts((id) => {
      this.changes.changed(id);
    }, observe);
  }

  /** A cell's gap counts (undefined when gaps are not tracked or the cell has none yet). */
  gapsOf(c: CellState): Pick<GapTracker, 'counts' | 'missing'> | undefined {
    return c.gaps;
  }

  cell(id: string): CellState {
    let c = this.cells.get(id);
    if (c === undefined) {
      c = newCellState(id, this.setupFor(id));
      this.cells.set(id, c);
      this.changes.changed(id);
      this.options.onCell?.(id, c);
    }
    return c;
  }

  /** One cell's state as plain data (see {@link CellRecord}). */
  cellRecord(id: string): CellRecord | undefined {
    const c = this.cells.get(id);
    return c === undefined ? undefined : recordOfCell(c);
  }

  /** One cell's state as plain data to encode at once, sharing the live objects where it can (see `recordViewOfCell`). */
  cellRecordView(id: string): CellRecord | undefined {
    const c = this.cells.get(id);
    return c === undefined ? undefined : recordViewOfCell(c);
  }

  /** Puts a cell back from its plain-data record, with the cell's current settings (the record is copied, left as it was). */
  restoreRecord(id: string, r: CellRecord): void {
    this.changes.beforeChange(id);
    this.put(id, cellFromRecord(id, this.setupFor(id), r));
  }

  /**
   * {@link restoreRecord} of a record nothing else holds (decoded for the call): the cell takes its plain-data parts
   * over instead of copying them (`cellTakingRecord`). Never use the record after.
   */
  restoreOwnRecord(id: string, r: CellRecord): void {
    this.changes.beforeChange(id);
    this.put(id, cellTakingRecord(id, this.setupFor(id), r));
  }

  /** Every cell's state, for a snapshot (the objects themselves: serialize them before the lab moves on). */
  snapshot(): [string, CellSnapshot][] {
    return [...this.cells].map(([id, c]) => [id, snapshotOfCell(c)]);
  }

  /** Puts a cell back from its snapshot (deserialized), with the cell's current settings. */
  restoreCell(id: string, saved: CellSnapshot): void {
    this.changes.beforeChange(id);
    this.put(id, cellFromSnapshot(id, this.setupFor(id), saved));
  }

  /** A restored cell in place of what the lab held of it. */
  private put(id: string, c: CellState): void {
    this.cells.set(id, c);
    this.changes.changed(id);
    this.options.onCell?.(id, c);
  }

  /** After a restart: see `EventTimeAligner.resumeAt`. */
  resumeAt(now: number): void {
    this.changes.endCapture();
    // Not a change to checkpoint: a restore sets the arrival times afresh with this same call.
    for (const c of this.cells.values()) c.aligner.resumeAt(now);
  }

  /**
   * Rejections of cells that hold no state, by reason: a rejected message never creates a cell (a flood
   * of made-up ids, or of invalid JSON, must not allocate one per id).
   */
  readonly unattributed: Record<string, number> = {};

  /**
   * Silences a cell's alerts (or every cell's, with {@link ALL_CELLS}) until `until_ms` (processing time):
   * the detectors and incidents go on, the incident events are marked silenced. A past `until_ms` ends it.
   */
  silence(target: string, until_ms: number): void {
    this.alerts.silences.set(target, until_ms);
  }

  /** Until when (epoch ms) a cell is silenced at processing time `now`, or undefined. */
  silencedUntil(cell: string, now: number): number | undefined {
    return this.alerts.silences.of(cell, now);
  }

  /** Counts a rejected message for a cell (the edge parsed it; the lab only keeps the tally), or in {@link unattributed}. */
  reject(cell: string, reason: string, count = 1): void {
    this.changes.beforeChange(cell);
    const r = this.cells.get(cell)?.counters.rejected ?? this.unattributed;
    r[reason] = (r[reason] ?? 0) + count;
    this.changes.changed(cell);
  }

  /** Forgets a cell, its state and its counters (the daemon evicts idle cells its config does not name). */
  evict(id: string): boolean {
    this.changes.beforeChange(id);
    if (!this.cells.delete(id)) return false;
    this.options.onCell?.(id, undefined);
    return true;
  }

  /**
   * Offers readings of one cell (arrival order) at processing time `now`; appends what results to `events`.
   * `known`, when given, is the cell's state as the lab holds it now (see {@link LabOptions.onCell}): its id is
   * then not looked up.
   */
  ingest(cellId: string, readings: readonly Reading[], now: number, events: LabEvent[], bare = 0, known?: CellState): void {
    const c = this.enter(cellId, now, bare, readings.length, known);
    if (c === undefined) return;
    try {
      this.offerAll(c, readings, now, events);
    } catch (e) {
      this.fail(c, e, now, events);
    }
  }

  /**
   * {@link ingest} of one channel's readings given as numbers (from the MQTT edge: no Reading object per
   * reading): `pairs` holds each reading's time at 2k and its canonical value at 2k + 1.
   */
  ingestPairs(cellId: string, channel: Channel, pairs: readonly number[], now: number, events: LabEvent[], bare = 0, known?: CellState): void {
    const c = this.enter(cellId, now, bare, pairs.length >> 1, known);
    if (c === undefined) return;
    try {
      const a = c.aligner;
      const counters = c.counters;
      const code = channelCode(channel);
      // One channel's batch arrives at once: its arrival noted once, then each reading placed (as offerPair does each).
      if (pairs.length > 1) a.arrive(code, now);
      for (let k = 0; k + 1 < pairs.length; k += 2) {
        const o = a.placePair(cellId, code, pairs, k, NaN);
        if (o === 'accepted') counters.accepted++;
        else if (o === 'duplicate') counters.duplicate++;
        else {
          counters.late++;
          events.push({ type: 'late', reading: { cell: cellId, channel, ts: pairs[k] ?? NaN, value: pairs[k + 1] ?? NaN }, watermark: a.watermark });
        }
      }
      this.releaseAndRun(c, now, events);
    } catch (e) {
      this.fail(c, e, now, events);
    }
  }

  /**
   * The start of an ingest call: the cell (`known`, or looked up and made if new), marked changed, its bare
   * readings counted; undefined for a failed cell, whose `count` readings are counted rejected instead. A cell
   * is marked changed once per checkpoint round (the mark on the cell saves a set insertion by id per message).
   */
  private enter(cellId: string, now: number, bare: number, count: number, known: CellState | undefined): CellState | undefined {
    this.now = now;
    const changes = this.changes;
    changes.beforeChange(cellId);
    const c = known ?? this.cell(cellId);
    if (c.changedIn !== changes.round) {
      changes.changed(cellId);
      c.changedIn = changes.round;
    }
    c.counters.bare += bare;
    if (c.failure === undefined) return c;
    this.reject(cellId, CELL_FAILED, count);
    return undefined;
  }

  private offerAll(c: CellState, readings: readonly Reading[], now: number, events: LabEvent[]): void {
    const a = c.aligner;
    const counters = c.counters;
    for (const r of readings) {
      const o = a.offer(r, now);
      if (o === 'accepted') counters.accepted++;
      else if (o === 'duplicate') counters.duplicate++;
      else {
        counters.late++;
        events.push({ type: 'late', reading: r, watermark: a.watermark });
      }
    }
    this.releaseAndRun(c, now, events);
  }

  /** Moves the cell's watermark (processing time `now`) and runs what it releases through the core. */
  private releaseAndRun(c: CellState, now: number, events: LabEvent[]): void {
    const released = this.released;
    released.n = 0;
    c.aligner.releaseValues(now, released);
    this.run(c, released, events);
    released.n = 0;
  }

  /**
   * Processing-time tick: releases the buffers of channels that have gone silent, and checks that
   * active cells are still publishing (the deadman).
   */
  tick(now: number, events: LabEvent[]): void {
    this.now = now;
    const pending = this.changes.capturePending;
    for (const c of this.cells.values()) {
      if (c.failure !== undefined || pending.has(c.id)) continue;
      try {
        this.tickCell(c, now, events);
      } catch (e) {
        this.fail(c, e, now, events);
      }
    }
  }

  private tickCell(c: CellState, now: number, events: LabEvent[]): void {
    const released = this.released;
    released.n = 0;
    const wm = c.aligner.watermark;
    c.aligner.tickValues(now, released);
    if (released.n > 0 || c.aligner.watermark !== wm) this.changes.changed(c.id);
    if (released.n > 0) this.run(c, released, events);
    released.n = 0;
    this.alerts.checkSilence(c, now, events);
  }

  /** End of input (offline processing): releases every buffer and closes every open step and cycle. */
  finish(events: LabEvent[]): void {
    for (const c of this.cells.values()) {
      if (c.failure !== undefined) continue;
      try {
        this.finishCell(c, events);
      } catch (e) {
        this.fail(c, e, NaN, events);
      }
    }
  }

  private finishCell(c: CellState, events: LabEvent[]): void {
    this.changes.beforeChange(c.id);
    this.changes.changed(c.id);
    const released = this.released;
    released.n = 0;
    c.aligner.flushValues(released);
    this.run(c, released, events);
    released.n = 0;
    const { out, signals } = this.taps.tap(c);
    c.processor.finish(out);
    this.emit(c, out, signals, events);
  }

  /** Cells that failed, with why. */
  get failedCells(): [string, string][] {
    const out: [string, string][] = [];
    for (const [id, c] of this.cells) if (c.failure !== undefined) out.push([id, c.failure]);
    return out;
  }

  /** Sum of buffered readings over all cells (bounded by each aligner's maxBuffered). */
  get buffered(): number {
    let n = 0;
    for (const c of this.cells.values()) n += c.aligner.buffered;
    return n;
  }

  /** An exception in one cell's work fails that cell alone (ingest, tick and finish each catch around one cell). */
  private fail(c: CellState, e: unknown, now: number, events: LabEvent[]): void {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    c.failure = message;
    this.changes.changed(c.id);
    events.push({ type: 'failure', cell: c.id, message, t: now });
  }

  private run(c: CellState, released: ReleasedReadingColumns, events: LabEvent[]): void {
    if (released.n === 0) return;
    const { out, signals } = this.taps.tap(c);
    const gaps = this.options.trackGaps === true ? this.gapTracker(c) : undefined;
    const p = c.processor;
    const { ts, value, cycle } = released;
    for (let k = 0; k < released.n; k++) {
      const channel = released.channel(k);
      const t = ts[k] ?? NaN;
      if (gaps !== undefined) {
        const gap = gaps.observeAt(channel, t, Math.abs(p.lastCurrent_mA) > p.settings.restCurrent_mA);
        if (gap !== undefined) events.push({ type: 'gap', gap });
      }
      const cyc = cycle[k] ?? NaN;
      p.processValue(channel, t, value[k] ?? NaN, Number.isNaN(cyc) ? undefined : cyc, out);
    }
    this.emit(c, out, signals, events);
  }

  private gapTracker(c: CellState): GapTracker {
    return (c.gaps ??= new GapTracker(c.id));
  }

  private emit(c: CellState, out: CellOutput, signals: Signal[], events: LabEvent[]): void {
    for (const s of out.steps) events.push({ type: 'step', record: s });
    for (const y of out.cycles) events.push({ type: 'cycle', record: y });
    c.counters.steps += out.steps.length;
    c.counters.cycles += out.cycles.length;
    this.alerts.afterRecords(c, out, signals, this.now, events);
    // Emptied now: records and measurements kept until a cell's next call (when each cell had arrays of its
    // own) were found live by scavenges and promoted with thousands of cells (a pressure-drop measurement
    // every 10 s of charge was ~11 B a reading).
    out.steps.length = 0;
    out.cycles.length = 0;
    signals.length = 0;
  }
}
