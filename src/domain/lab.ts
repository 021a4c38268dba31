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
import { EventTimeAligner, type AlignerSettings, type AlignerSnapshot } from './align.js';
import { applySignals, cycleClosed, cycleSignals, newCellAlertState, silenceCheck, type CellAlertSetup, type CellAlertState } from './alerts/cell-alerts.js';
import { newIncidentBook, type AlertEvent } from './alerts/incidents.js';
import type { Signal } from './alerts/lifecycle.js';
import { newSampleDetectorState, sampleDetectorListener } from './alerts/sample-detectors.js';
import { CellProcessor, newOutput, type CellOutput, type CellProcessorSettings } from './cell-processor.js';
import type { ProcessorState } from './cell/state.js';
import { GapTracker, type Gap } from './gaps.js';
import type { CycleRecord, Reading, StepRecord } from './types.js';

export type { CellAlertSetup } from './alerts/cell-alerts.js';

/** Per-cell counters (the daemon's health, and the `oep_ingest` measurement). */
export interface CellCounters {
  accepted: number;
  duplicate: number;
  late: number;
  bare: number;
  rejected: Record<string, number>;
  steps: number;
  cycles: number;
  alerts: number;
}

export type LabEvent =
  | { readonly type: 'step'; readonly record: StepRecord }
  | { readonly type: 'cycle'; readonly record: CycleRecord }
  | { readonly type: 'late'; readonly reading: Reading; readonly watermark: number }
  | { readonly type: 'alert'; readonly alert: AlertEvent }
  /** A hole in a channel's event time while current flowed (live only: see {@link LabOptions.trackGaps}). */
  | { readonly type: 'gap'; readonly gap: Gap }
  /** A cell stopped processing after an internal error (reported once per cell). */
  | { readonly type: 'failure'; readonly cell: string; readonly message: string; readonly t: number };

/** The silence target that covers every cell. */
export const ALL_CELLS = '*';

/** Reason under which a failed cell's later readings are counted. */
export const CELL_FAILED = 'cell_failed';

export interface CellSetup {
  readonly aligner: AlignerSettings;
  readonly processor: CellProcessorSettings;
  /** Absent: no alerts for this cell. */
  readonly alerts?: CellAlertSetup | undefined;
}

export interface CellState extends CellAlertState {
  readonly id: string;
  /** The cell's alert settings (resolved once, when the cell is first seen or restored). */
  readonly alertSetup: CellAlertSetup | undefined;
  readonly aligner: EventTimeAligner;
  readonly processor: CellProcessor;
  readonly counters: CellCounters;
  /** Set when the cell failed: why. The cell processes nothing more. */
  failure?: string;
}

/**
 * What a snapshot keeps of a cell: its parts' state. The aligner and processor are structured-clone
 * copies of their objects (revived with their classes on restore); the rest is plain data.
 */
export interface CellSnapshot extends Omit<CellAlertState, 'sampleDetectors' | 'incidents'> {
  readonly aligner: object;
  readonly processor: object;
  readonly counters: CellCounters;
  /** Absent in snapshots from before the in-step detectors left the processor: they start afresh. */
  readonly sampleDetectors?: CellAlertState['sampleDetectors'];
  /** Absent in snapshots from before incidents: none open. */
  readonly incidents?: CellAlertState['incidents'];
  readonly failure?: string;
}

/** The version of {@link CellRecord}'s shape (its parts carry their own where they have one). */
export const CELL_RECORD_VERSION = 1;

/**
 * What a checkpoint keeps of a cell: every part's state as plain data (copies, independent of the
 * classes' private fields): the aligner's snapshot, the core's state (cell/state.ts), the counters and
 * the alert state (plain data already).
 */
export interface CellRecord extends CellAlertState {
  readonly version: typeof CELL_RECORD_VERSION;
  readonly aligner: AlignerSnapshot;
  readonly processor: ProcessorState;
  readonly counters: CellCounters;
  readonly failure?: string;
}

export function newCounters(): CellCounters {
  return { accepted: 0, duplicate: 0, late: 0, bare: 0, rejected: {}, steps: 0, cycles: 0, alerts: 0 };
}

/** Where a cell's core puts its records and its detectors their measurements; reused call after call. */
interface Tap {
  readonly out: CellOutput;
  readonly signals: Signal[];
}

export interface LabOptions {
  /** Count holes in each channel's event time while current flows (`gap` events; the live daemon turns it on). */
  readonly trackGaps?: boolean;
}

const NONE: ReadonlySet<string> = new Set();

/** A consistent snapshot being taken (see {@link Lab.beginCapture}). */
interface Capture {
  /** Cells still to hand over, as they stood when the capture began. */
  readonly pending: Set<string>;
  readonly take: (id: string, record: CellRecord | undefined) => void;
}

export class Lab {
  readonly cells = new Map<string, CellState>();
  /** Cells changed since {@link takeDirty} was last called (a checkpoint re-encodes only those). */
  private dirty = new Set<string>();
  private capture: Capture | undefined;
  private readonly released: Reading[] = [];
  /** Per cell, kept beside the state (it holds functions, which a snapshot must not). */
  private readonly taps = new WeakMap<CellState, Tap>();
  /** Maintenance silences: cell id (or {@link ALL_CELLS}) → end, epoch ms (processing time). */
  private readonly silences = new Map<string, number>();
  /** Processing time of the call in progress (NaN at the end of input). */
  private now = NaN;
  /** Per cell, when gaps are tracked (kept beside the state: counts since start, not snapshotted). */
  private readonly gapTrackers = new WeakMap<CellState, GapTracker>();

  /**
   * @param setupFor each cell's settings, asked once when the cell is first seen or restored.
   * @param observe hears every detector measurement before the lifecycle judges it (margins in tests and benchmarks).
   */
  constructor(
    private readonly setupFor: (cell: string) => CellSetup,
    private readonly observe?: { readonly signal: (cell: string, s: Signal) => void },
    private readonly options: LabOptions = {},
  ) {}

  /** A cell's gap counts (undefined when gaps are not tracked or the cell has none yet). */
  gapsOf(c: CellState): Pick<GapTracker, 'counts' | 'missing'> | undefined {
    return this.gapTrackers.get(c);
  }

  cell(id: string): CellState {
    let c = this.cells.get(id);
    if (c === undefined) {
      const s = this.setupFor(id);
      c = {
        id,
        alertSetup: s.alerts,
        aligner: new EventTimeAligner(s.aligner),
        processor: new CellProcessor(s.processor),
        counters: newCounters(),
        ...newCellAlertState(id),
      };
      this.cells.set(id, c);
      this.dirty.add(id);
    }
    return c;
  }

  /** The ids of the cells changed since the previous call (every cell, the first time). */
  takeDirty(): Set<string> {
    const d = this.dirty;
    this.dirty = new Set();
    return d;
  }

  /**
   * Begins a snapshot of the lab as it stands now, taken a few cells at a time while readings go on
   * (copy on write): the cells changed since the previous snapshot are pending; {@link captureNext} hands
   * one over to `take`, and a pending cell about to change (a reading, a rejection, an eviction) is handed
   * over first, as it stood. Until {@link endCapture}, the processing-time tick skips pending cells (their
   * idle release and deadman wait for the next tick, a second later) so that it never hands over the
   * whole lab at once. Returns the pending set (it empties as cells are handed over).
   */
  beginCapture(take: (id: string, record: CellRecord | undefined) => void): ReadonlySet<string> {
    if (this.capture !== undefined) throw new Error('a capture is already in progress');
    const pending = this.takeDirty();
    this.capture = { pending, take };
    return pending;
  }

  /** Hands over one pending cell (see {@link beginCapture}); nothing if it was handed over already. */
  captureNext(id: string): void {
    const cap = this.capture;
    if (cap?.pending.delete(id) === true) cap.take(id, this.cellRecord(id));
  }

  /** The cells the capture in progress has still to hand over (empty without one). */
  get capturePending(): ReadonlySet<string> {
    return this.capture?.pending ?? NONE;
  }

  /** Ends a capture that failed: its cells (pending, and `taken`, handed over already) count as changed again. */
  abortCapture(taken: Iterable<string>): void {
    const cap = this.capture;
    if (cap === undefined) return;
    for (const id of cap.pending) this.dirty.add(id);
    for (const id of taken) this.dirty.add(id);
    this.capture = undefined;
  }

  /** Ends the capture, handing over what is still pending. */
  endCapture(): void {
    const cap = this.capture;
    if (cap === undefined) return;
    for (const id of cap.pending) this.captureNext(id);
    this.capture = undefined;
  }

  /** A pending cell of the capture in progress is handed over before it changes. */
  private beforeChange(id: string): void {
    if (this.capture !== undefined) this.captureNext(id);
  }

  /** One cell's state as plain data (see {@link CellRecord}). */
  cellRecord(id: string): CellRecord | undefined {
    const c = this.cells.get(id);
    if (c === undefined) return undefined;
    return {
      version: CELL_RECORD_VERSION,
      aligner: c.aligner.snapshot(),
      processor: c.processor.toState(),
      counters: structuredClone(c.counters),
      alerts: structuredClone(c.alerts),
      incidents: structuredClone(c.incidents),
      cycleDetector: structuredClone(c.cycleDetector),
      sampleDetectors: structuredClone(c.sampleDetectors),
      ...(c.failure !== undefined ? { failure: c.failure } : {}),
    };
  }

  /** Puts a cell back from its plain-data record, with the cell's current settings. */
  restoreRecord(id: string, r: CellRecord): void {
    this.beforeChange(id);
    const s = this.setupFor(id);
    this.cells.set(id, {
      id,
      alertSetup: s.alerts,
      aligner: EventTimeAligner.restore(s.aligner, r.aligner),
      processor: CellProcessor.fromState(s.processor, r.processor),
      counters: structuredClone(r.counters),
      alerts: structuredClone(r.alerts),
      incidents: structuredClone(r.incidents),
      cycleDetector: structuredClone(r.cycleDetector),
      sampleDetectors: structuredClone(r.sampleDetectors),
      ...(r.failure !== undefined ? { failure: r.failure } : {}),
    });
    this.dirty.add(id);
  }

  /** Every cell's state, for a snapshot (the objects themselves: serialize them before the lab moves on). */
  snapshot(): [string, CellSnapshot][] {
    return [...this.cells].map(([id, c]) => [
      id,
      {
        aligner: c.aligner,
        processor: c.processor,
        counters: c.counters,
        alerts: c.alerts,
        incidents: c.incidents,
        cycleDetector: c.cycleDetector,
        sampleDetectors: c.sampleDetectors,
        ...(c.failure !== undefined ? { failure: c.failure } : {}),
      },
    ]);
  }

  /** Puts a cell back from its snapshot (deserialized), with the cell's current settings. */
  restoreCell(id: string, saved: CellSnapshot): void {
    this.beforeChange(id);
    const s = this.setupFor(id);
    this.cells.set(id, {
      id,
      alertSetup: s.alerts,
      aligner: EventTimeAligner.revive(saved.aligner, s.aligner),
      processor: CellProcessor.revive(saved.processor, s.processor),
      counters: saved.counters,
      alerts: saved.alerts,
      incidents: saved.incidents ?? newIncidentBook(),
      cycleDetector: saved.cycleDetector,
      sampleDetectors: saved.sampleDetectors ?? newSampleDetectorState(),
      ...(saved.failure !== undefined ? { failure: saved.failure } : {}),
    });
    this.dirty.add(id);
  }

  /** After a restart: see {@link EventTimeAligner.resumeAt}. */
  resumeAt(now: number): void {
    this.endCapture();
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
    if (until_ms > 0) this.silences.set(target, until_ms);
    else this.silences.delete(target);
  }

  /** Until when (epoch ms) a cell is silenced at processing time `now`, or undefined. */
  silencedUntil(cell: string, now: number): number | undefined {
    const until = Math.max(this.silences.get(cell) ?? -Infinity, this.silences.get(ALL_CELLS) ?? -Infinity);
    return until > now ? until : undefined;
  }

  /** Counts a rejected message for a cell (the edge parsed it; the lab only keeps the tally), or in {@link unattributed}. */
  reject(cell: string, reason: string, count = 1): void {
    this.beforeChange(cell);
    const r = this.cells.get(cell)?.counters.rejected ?? this.unattributed;
    r[reason] = (r[reason] ?? 0) + count;
    this.dirty.add(cell);
  }

  /** Forgets a cell, its state and its counters (the daemon evicts idle cells its config does not name). */
  evict(id: string): boolean {
    this.beforeChange(id);
    return this.cells.delete(id);
  }

  /** Offers readings of one cell (arrival order) at processing time `now`; appends what results to `events`. */
  ingest(cellId: string, readings: readonly Reading[], now: number, events: LabEvent[], bare = 0): void {
    this.now = now;
    this.beforeChange(cellId);
    const c = this.cell(cellId);
    this.dirty.add(cellId);
    c.counters.bare += bare;
    if (c.failure !== undefined) {
      this.reject(cellId, CELL_FAILED, readings.length);
      return;
    }
    try {
      this.offerAll(c, readings, now, events);
    } catch (e) {
      this.fail(c, e, now, events);
    }
  }

  private offerAll(c: CellState, readings: readonly Reading[], now: number, events: LabEvent[]): void {
    const released = this.released;
    released.length = 0;
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
    a.release(now, released);
    this.run(c, released, events);
  }

  /**
   * Processing-time tick: releases the buffers of channels that have gone silent, and checks that
   * active cells are still publishing (the deadman).
   */
  tick(now: number, events: LabEvent[]): void {
    this.now = now;
    const pending = this.capture?.pending;
    for (const c of this.cells.values()) {
      if (c.failure !== undefined || pending?.has(c.id) === true) continue;
      try {
        this.tickCell(c, now, events);
      } catch (e) {
        this.fail(c, e, now, events);
      }
    }
  }

  private tickCell(c: CellState, now: number, events: LabEvent[]): void {
    const released = this.released;
    released.length = 0;
    const wm = c.aligner.watermark;
    c.aligner.tick(now, released);
    if (released.length > 0 || c.aligner.watermark !== wm) this.dirty.add(c.id);
    if (released.length > 0) this.run(c, released, events);
    this.checkSilence(c, now, events);
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
    this.beforeChange(c.id);
    this.dirty.add(c.id);
    const released = this.released;
    released.length = 0;
    c.aligner.flush(released);
    this.run(c, released, events);
    const { out, signals } = this.tap(c);
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
    this.dirty.add(c.id);
    events.push({ type: 'failure', cell: c.id, message, t: now });
  }

  private checkSilence(c: CellState, now: number, events: LabEvent[]): void {
    const setup = c.alertSetup;
    if (setup === undefined) return;
    const active = Math.abs(c.processor.lastCurrent_mA) > c.processor.settings.restCurrent_mA;
    const arrivals = { pressure: c.aligner.arrivalOf('pressure'), current: c.aligner.arrivalOf('current') };
    const s = silenceCheck(c, { now, active, arrivals }, setup);
    if (s !== undefined) this.apply(c, [s], c.processor.currentCycle, events);
  }

  private run(c: CellState, released: readonly Reading[], events: LabEvent[]): void {
    if (released.length === 0) return;
    const { out, signals } = this.tap(c);
    const gaps = this.options.trackGaps === true ? this.gapTracker(c) : undefined;
    const p = c.processor;
    for (const r of released) {
      if (gaps !== undefined) {
        const gap = gaps.observe(r, Math.abs(p.lastCurrent_mA) > p.settings.restCurrent_mA);
        if (gap !== undefined) events.push({ type: 'gap', gap });
      }
      p.process(r, out);
    }
    this.emit(c, out, signals, events);
  }

  private gapTracker(c: CellState): GapTracker {
    let g = this.gapTrackers.get(c);
    if (g === undefined) this.gapTrackers.set(c, (g = new GapTracker(c.id)));
    return g;
  }

  /**
   * The cell's tap, emptied: its core's records go there, and its samples to the cell's in-step detectors
   * (if any), whose measurements go to `signals`. Made once per cell (a hot path: offline, a call may
   * carry a handful of readings).
   */
  private tap(c: CellState): Tap {
    let t = this.taps.get(c);
    if (t === undefined) {
      const signals: Signal[] = [];
      const det = c.processor.settings.detectors;
      const out =
        c.alertSetup === undefined || det === undefined
          ? newOutput()
          : newOutput(sampleDetectorListener(c.sampleDetectors, { ...det, refCycle: c.processor.settings.refCycle }, signals));
      t = { out, signals };
      this.taps.set(c, t);
    }
    t.out.steps.length = 0;
    t.out.cycles.length = 0;
    t.signals.length = 0;
    return t;
  }

  private emit(c: CellState, out: CellOutput, signals: readonly Signal[], events: LabEvent[]): void {
    for (const s of out.steps) events.push({ type: 'step', record: s });
    for (const y of out.cycles) events.push({ type: 'cycle', record: y });
    c.counters.steps += out.steps.length;
    c.counters.cycles += out.cycles.length;
    const setup = c.alertSetup;
    if (setup === undefined) return;
    this.apply(c, signals, c.processor.chargeCycle, events);
    for (const y of out.cycles) {
      this.apply(c, cycleSignals(c, y, c.processor.settings.refCycle, setup), y.cycle, events);
      if (y.complete) {
        const changes: AlertEvent[] = [];
        cycleClosed(c, y.tEnd, setup, this.moment(c, y.cycle), changes);
        this.push(c, changes, events);
      }
    }
  }

  private moment(c: CellState, cycle: number): { cycle: number; silenced: boolean } {
    return { cycle, silenced: this.silences.size > 0 && this.silencedUntil(c.id, this.now) !== undefined };
  }

  private apply(c: CellState, signals: readonly Signal[], cycle: number, events: LabEvent[]): void {
    const setup = c.alertSetup;
    if (setup === undefined || signals.length === 0) return;
    this.dirty.add(c.id);
    if (this.observe !== undefined) for (const s of signals) this.observe.signal(c.id, s);
    const changes: AlertEvent[] = [];
    applySignals(c, signals, setup, this.moment(c, cycle), changes);
    this.push(c, changes, events);
  }

  private push(c: CellState, changes: readonly AlertEvent[], events: LabEvent[]): void {
    c.counters.alerts += changes.length;
    for (const alert of changes) events.push({ type: 'alert', alert });
  }
}
