/**
 * All cells of a lab: for each cell its aligner, its processor and its counters. Pure and synchronous:
 * readings in, records and side outputs (late, duplicate) out. The RxJS pipelines drive it; the
 * daemon snapshots it so a restart resumes each cell where it stopped.
 */
import { EventTimeAligner, type AlignerSettings, type AlignerSnapshot } from './align.js';
import { CellProcessor, newOutput, type CellProcessorSettings } from './cell-processor.js';
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
}

export type LabEvent =
  | { readonly type: 'step'; readonly record: StepRecord }
  | { readonly type: 'cycle'; readonly record: CycleRecord }
  | { readonly type: 'late'; readonly reading: Reading; readonly watermark: number };

export interface CellSetup {
  readonly aligner: AlignerSettings;
  readonly processor: CellProcessorSettings;
}

export interface CellState {
  readonly id: string;
  readonly aligner: EventTimeAligner;
  processor: CellProcessor;
  readonly counters: CellCounters;
  /** Aligned readings of the cell, for snapshots: replayed into a fresh processor on restore. */
}

export function newCounters(): CellCounters {
  return { accepted: 0, duplicate: 0, late: 0, bare: 0, rejected: {}, steps: 0, cycles: 0 };
}

export class Lab {
  readonly cells = new Map<string, CellState>();
  private readonly released: Reading[] = [];

  constructor(private readonly setupFor: (cell: string) => CellSetup) {}

  cell(id: string): CellState {
    let c = this.cells.get(id);
    if (c === undefined) {
      const s = this.setupFor(id);
      c = { id, aligner: new EventTimeAligner(s.aligner), processor: new CellProcessor(s.processor), counters: newCounters() };
      this.cells.set(id, c);
    }
    return c;
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
    for (const r of readings) {
      const o = c.aligner.push(r, now, released);
      if (o === 'accepted') c.counters.accepted++;
      else if (o === 'duplicate') c.counters.duplicate++;
      else {
        c.counters.late++;
        events.push({ type: 'late', reading: r, watermark: c.aligner.watermark });
      }
    }
    this.run(c, released, events);
  }

  /** Processing-time tick: releases the buffers of cells that have been silent for their idle timeout. */
  tick(now: number, events: LabEvent[]): void {
    for (const c of this.cells.values()) {
      const released = this.released;
      released.length = 0;
      c.aligner.tick(now, released);
      if (released.length > 0) this.run(c, released, events);
    }
  }

  /** End of input (offline processing): releases every buffer and closes every open step and cycle. */
  finish(events: LabEvent[]): void {
    for (const c of this.cells.values()) {
      const released = this.released;
      released.length = 0;
      c.aligner.flush(released);
      this.run(c, released, events);
      const out = newOutput();
      c.processor.finish(out);
      this.emit(c, out, events);
    }
  }

  private run(c: CellState, released: readonly Reading[], events: LabEvent[]): void {
    if (released.length === 0) return;
    const out = newOutput();
    for (const r of released) c.processor.process(r, out);
    this.emit(c, out, events);
  }

  private emit(c: CellState, out: ReturnType<typeof newOutput>, events: LabEvent[]): void {
    for (const s of out.steps) events.push({ type: 'step', record: s });
    for (const y of out.cycles) events.push({ type: 'cycle', record: y });
    c.counters.steps += out.steps.length;
    c.counters.cycles += out.cycles.length;
  }

  /** Sum of buffered readings over all cells (bounded by each aligner's maxBuffered). */
  get buffered(): number {
    let n = 0;
    for (const c of this.cells.values()) n += c.aligner.buffered;
    return n;
  }
}

export type { AlignerSnapshot };
