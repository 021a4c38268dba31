/**
 * All cells of a lab: for each cell its aligner, its processor, its detectors, its alert book and its
 * counters. Pure and synchronous: readings in, records, alerts and side outputs (late readings) out.
 * The RxJS pipelines drive it; the daemon snapshots it so a restart resumes each cell where it stopped.
 */
import { EventTimeAligner, type AlignerSettings } from './align.js';
import { CellProcessor, newOutput, type CellOutput, type CellProcessorSettings } from './cell-processor.js';
import {
  feedCycle,
  newCycleDetectorState,
  silenceSignal,
  type CycleDetectorSettings,
  type CycleDetectorState,
  type SilenceSettings,
} from './alerts/detectors.js';
import { applySignal, newAlertBook, type AlertBook, type AlertEvent, type LifecycleSettings, type Signal } from './alerts/lifecycle.js';
import { newSampleDetectorState, sampleDetectorListener, type SampleDetectorState } from './alerts/sample-detectors.js';
import type { CycleRecord, Reading, StepRecord } from './types.js';

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
  | { readonly type: 'alert'; readonly alert: AlertEvent };

/** The cell-level alerting that is not inside the processor (cycle detectors, silence, lifecycle). */
export interface CellAlertSetup {
  readonly lifecycle: LifecycleSettings;
  readonly cycle: CycleDetectorSettings;
  readonly silence: SilenceSettings;
}

export interface CellSetup {
  readonly aligner: AlignerSettings;
  readonly processor: CellProcessorSettings;
  /** Absent: no alerts for this cell. */
  readonly alerts?: CellAlertSetup | undefined;
}

export interface CellState {
  readonly id: string;
  /** The cell's alert settings (resolved once, when the cell is first seen or restored). */
  readonly alertSetup: CellAlertSetup | undefined;
  readonly aligner: EventTimeAligner;
  processor: CellProcessor;
  readonly counters: CellCounters;
  readonly alerts: AlertBook;
  readonly cycleDetector: CycleDetectorState;
  /** The in-step detectors (pressure drop, hard short, voltage noise), fed from the processor's samples. */
  readonly sampleDetectors: SampleDetectorState;
}

/**
 * What a snapshot keeps of a cell: its parts' state. The aligner and processor are structured-clone
 * copies of their objects (revived with their classes on restore); the rest is plain data.
 */
export interface CellSnapshot {
  readonly aligner: object;
  readonly processor: object;
  readonly counters: CellCounters;
  readonly alerts: AlertBook;
  readonly cycleDetector: CycleDetectorState;
  /** Absent in snapshots from before the in-step detectors left the processor: they start afresh. */
  readonly sampleDetectors?: SampleDetectorState;
}

export function newCounters(): CellCounters {
  return { accepted: 0, duplicate: 0, late: 0, bare: 0, rejected: {}, steps: 0, cycles: 0, alerts: 0 };
}

export class Lab {
  readonly cells = new Map<string, CellState>();
  private readonly released: Reading[] = [];

  constructor(private readonly setupFor: (cell: string) => CellSetup) {}

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
        alerts: newAlertBook(id),
        cycleDetector: newCycleDetectorState(),
        sampleDetectors: newSampleDetectorState(),
      };
      this.cells.set(id, c);
    }
    return c;
  }

  /** Every cell's state, for a snapshot (the objects themselves: serialize them before the lab moves on). */
  snapshot(): [string, CellSnapshot][] {
    return [...this.cells].map(([id, c]) => [
      id,
      { aligner: c.aligner, processor: c.processor, counters: c.counters, alerts: c.alerts, cycleDetector: c.cycleDetector, sampleDetectors: c.sampleDetectors },
    ]);
  }

  /** Puts a cell back from its snapshot (deserialized), with the cell's current settings. */
  restoreCell(id: string, saved: CellSnapshot): void {
    const s = this.setupFor(id);
    this.cells.set(id, {
      id,
      alertSetup: s.alerts,
      aligner: EventTimeAligner.revive(saved.aligner, s.aligner),
      processor: CellProcessor.revive(saved.processor, s.processor),
      counters: { ...saved.counters, alerts: saved.counters.alerts },
      alerts: saved.alerts,
      cycleDetector: saved.cycleDetector,
      sampleDetectors: saved.sampleDetectors ?? newSampleDetectorState(),
    });
  }

  /** Counts a rejected message for a cell (the edge parsed it; the lab only keeps the tally). */
  reject(cell: string, reason: string): void {
    const r = this.cell(cell).counters.rejected;
    r[reason] = (r[reason] ?? 0) + 1;
  }

  /** Offers readings of one cell (arrival order) at processing time `now`; appends what results to `events`. */
  ingest(cellId: string, readings: readonly Reading[], now: number, events: LabEvent[], bare = 0): void {
    const c = this.cell(cellId);
    c.counters.bare += bare;
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
    for (const c of this.cells.values()) {
      const released = this.released;
      released.length = 0;
      c.aligner.tick(now, released);
      if (released.length > 0) this.run(c, released, events);
      this.checkSilence(c, now, events);
    }
  }

  private checkSilence(c: CellState, now: number, events: LabEvent[]): void {
    const setup = c.alertSetup;
    if (setup === undefined) return;
    const i = c.processor.lastCurrent_mA;
    const active = Math.abs(i) > c.processor.settings.restCurrent_mA;
    const tracked = c.alerts.kinds.silence !== undefined;
    if (!active && !tracked) return;
    let silent = 0;
    let channel = 'pressure';
    for (const ch of ['pressure', 'current'] as const) {
      const a = c.aligner.arrivalOf(ch);
      if (a === -Infinity) continue; // after a restart: no arrival yet this run
      const s = (now - a) / 1000;
      if (s > silent) {
        silent = s;
        channel = ch;
      }
    }
    if (!active) silent = 0;
    this.apply(c, silenceSignal(now, silent, channel, setup.silence), events);
  }

  /** End of input (offline processing): releases every buffer and closes every open step and cycle. */
  finish(events: LabEvent[]): void {
    for (const c of this.cells.values()) {
      const released = this.released;
      released.length = 0;
      c.aligner.flush(released);
      this.run(c, released, events);
      const signals: Signal[] = [];
      const out = this.outputFor(c, signals);
      c.processor.finish(out);
      this.emit(c, out, signals, events);
    }
  }

  private run(c: CellState, released: readonly Reading[], events: LabEvent[]): void {
    if (released.length === 0) return;
    const signals: Signal[] = [];
    const out = this.outputFor(c, signals);
    for (const r of released) c.processor.process(r, out);
    this.emit(c, out, signals, events);
  }

  /** Where a cell's processor puts its records; its samples go to the cell's in-step detectors, if any. */
  private outputFor(c: CellState, signals: Signal[]): CellOutput {
    const det = c.processor.settings.detectors;
    if (c.alertSetup === undefined || det === undefined) return newOutput();
    return newOutput(sampleDetectorListener(c.sampleDetectors, { ...det, refCycle: c.processor.settings.refCycle }, signals));
  }

  private emit(c: CellState, out: CellOutput, signals: readonly Signal[], events: LabEvent[]): void {
    for (const s of out.steps) events.push({ type: 'step', record: s });
    for (const y of out.cycles) events.push({ type: 'cycle', record: y });
    c.counters.steps += out.steps.length;
    c.counters.cycles += out.cycles.length;
    const setup = c.alertSetup;
    if (setup === undefined) return;
    for (const s of signals) this.apply(c, s, events);
    for (const y of out.cycles) {
      const signals = feedCycle(
        c.cycleDetector,
        {
          cycle: y.cycle,
          t: y.tEnd,
          complete: y.complete,
          refCycle: c.processor.settings.refCycle,
          ce: y.ce,
          qCharge_mAh: y.qCharge_mAh,
          ddpQ: y.ddpQ_MPa_g_per_Ah ?? y.ddpQ_MPa_cm2_per_mAh,
          drift: y.drift_MPa_g_per_Ah ?? y.drift_MPa_cm2_per_mAh,
        },
        setup.cycle,
      );
      for (const s of signals) this.apply(c, s, events);
    }
  }

  private apply(c: CellState, s: Signal, events: LabEvent[]): void {
    const setup = c.alertSetup;
    if (setup === undefined) return;
    const e = applySignal(c.alerts, s, setup.lifecycle);
    if (e !== undefined) {
      c.counters.alerts++;
      events.push({ type: 'alert', alert: e });
    }
  }

  /** Sum of buffered readings over all cells (bounded by each aligner's maxBuffered). */
  get buffered(): number {
    let n = 0;
    for (const c of this.cells.values()) n += c.aligner.buffered;
    return n;
  }
}
