/**
 * One cell of a lab as data: its parts (aligner, core, alert state, counters), and the two forms a
 * checkpoint keeps of it: the plain-data {@link CellRecord} (format 3 and later) and the older structured-clone
 * {@link CellSnapshot} (restored only). Pure: the conversions between them, with the cell's current settings.
 */
import { EventTimeAligner, type AlignerSettings, type AlignerSnapshot } from './align.js';
import { newCellAlertState, type CellAlertSetup, type CellAlertState } from './alerts/cell-alerts.js';
import { newIncidentBook } from './alerts/incidents.js';
import { newSampleDetectorState } from './alerts/sample-detectors.js';
import { CellProcessor, type CellProcessorSettings } from './cell-processor.js';
import type { ProcessorState } from './cell/state.js';
import type { SampleListener } from './cell/types.js';
import { GapTracker, type GapState } from './gaps.js';

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
  /** Holes in the channels' event time, when the lab tracks them (made at the cell's first released reading). */
  gaps?: GapTracker;
  /** Set when the cell failed: why. The cell processes nothing more. */
  failure?: string;
  /**
   * The ear of the cell's in-step detectors (lab-taps.ts), made at its first call with alerts: functions,
   * never in a record (records take the state's parts by name). A field, not a WeakMap keyed by the cell:
   * that lookup was ~3 % of a message's CPU with 10,000 cells.
   */
  sampleListener?: SampleListener;
  /** The lab's checkpoint round (LabChanges.round) in which the cell was last marked changed by an ingest call. */
  changedIn?: number;
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
  /** The gap tracker's counts and windows (absent when gaps are not tracked, and in records written before). */
  readonly gaps?: GapState;
  readonly failure?: string;
}

export function newCounters(): CellCounters {
  return { accepted: 0, duplicate: 0, late: 0, bare: 0, rejected: {}, steps: 0, cycles: 0, alerts: 0 };
}

/** A cell seen for the first time. */
export function newCellState(id: string, s: CellSetup): CellState {
  return {
    id,
    alertSetup: s.alerts,
    aligner: new EventTimeAligner(s.aligner),
    processor: new CellProcessor(s.processor),
    counters: newCounters(),
    ...newCellAlertState(id),
  };
}

/** One cell's state as plain data: copies, independent of the live objects. */
export function recordOfCell(c: CellState): CellRecord {
  return {
    version: CELL_RECORD_VERSION,
    aligner: c.aligner.snapshot(),
    processor: c.processor.toState(),
    counters: structuredClone(c.counters),
    alerts: structuredClone(c.alerts),
    incidents: structuredClone(c.incidents),
    cycleDetector: structuredClone(c.cycleDetector),
    sampleDetectors: structuredClone(c.sampleDetectors),
    ...(c.gaps !== undefined ? { gaps: c.gaps.toState() } : {}),
    ...(c.failure !== undefined ? { failure: c.failure } : {}),
  };
}

/**
 * One cell's state as plain data for encoding at once (a checkpoint serialises it before the lab moves on):
 * the same record as {@link recordOfCell}, field for field, but its plain-data parts (counters, alert state)
 * are the live objects rather than copies (five structured clones a cell, ~1/3 of a checkpoint's time).
 * Never keep it: the next reading changes it.
 */
export function recordViewOfCell(c: CellState): CellRecord {
  return {
    version: CELL_RECORD_VERSION,
    aligner: c.aligner.snapshot(),
    processor: c.processor.toState(),
    counters: c.counters,
    alerts: c.alerts,
    incidents: c.incidents,
    cycleDetector: c.cycleDetector,
    sampleDetectors: c.sampleDetectors,
    ...(c.gaps !== undefined ? { gaps: c.gaps.toState() } : {}),
    ...(c.failure !== undefined ? { failure: c.failure } : {}),
  };
}

/** A cell from its plain-data record, with the cell's current settings; the record is left as it was (its plain-data parts are copied). */
export function cellFromRecord(id: string, s: CellSetup, r: CellRecord): CellState {
  return cellTakingRecord(id, s, {
    ...r,
    counters: structuredClone(r.counters),
    alerts: structuredClone(r.alerts),
    incidents: structuredClone(r.incidents),
    cycleDetector: structuredClone(r.cycleDetector),
    sampleDetectors: structuredClone(r.sampleDetectors),
  });
}

/**
 * {@link cellFromRecord} of a record nothing else holds (decoded for the call, as a restore's are): its plain-data
 * parts (counters, alert state) become the cell's own rather than copies (five structured clones a cell, ~12 % of a
 * 10,000-cell restore's CPU time). Never use the record after.
 */
export function cellTakingRecord(id: string, s: CellSetup, r: CellRecord): CellState {
  return {
    id,
    alertSetup: s.alerts,
    aligner: EventTimeAligner.restore(s.aligner, r.aligner),
    processor: CellProcessor.fromState(s.processor, r.processor),
    counters: r.counters,
    alerts: r.alerts,
    incidents: r.incidents,
    cycleDetector: r.cycleDetector,
    sampleDetectors: r.sampleDetectors,
    ...(r.gaps !== undefined ? { gaps: GapTracker.fromState(id, r.gaps) } : {}),
    ...(r.failure !== undefined ? { failure: r.failure } : {}),
  };
}

/** A cell's parts for a snapshot (the objects themselves: serialize them before the lab moves on). */
export function snapshotOfCell(c: CellState): CellSnapshot {
  return {
    aligner: c.aligner,
    processor: c.processor,
    counters: c.counters,
    alerts: c.alerts,
    incidents: c.incidents,
    cycleDetector: c.cycleDetector,
    sampleDetectors: c.sampleDetectors,
    ...(c.failure !== undefined ? { failure: c.failure } : {}),
  };
}

/** A cell from its (deserialized) snapshot, with the cell's current settings. */
export function cellFromSnapshot(id: string, s: CellSetup, saved: CellSnapshot): CellState {
  return {
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
  };
}
