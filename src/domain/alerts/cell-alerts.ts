/**
 * A cell's alerting around its core: the detectors' state, the alert book, and the rules that turn what
 * the core emits (samples, cycle records) and the processing clock (silence) into lifecycle changes.
 * Plain data and pure functions; the lab calls them, the core never does.
 */
import type { CycleRecord } from '../types.js';
import { feedCycle, newCycleDetectorState, type CycleDetectorSettings, type CycleDetectorState } from './cycle-detectors.js';
import { closeCycle, judge, newIncidentBook, type AlertEvent, type IncidentBook, type IncidentContext, type IncidentSettings } from './incidents.js';
import { newAlertBook, type AlertBook, type LifecycleSettings, type Signal } from './lifecycle.js';
import { newSampleDetectorState, type SampleDetectorState } from './sample-detectors.js';
import { silenceSignal, type SilenceSettings } from './silence.js';

/** The cell-level alerting that is not fed sample by sample (cycle detectors, silence, lifecycle). */
export interface CellAlertSetup {
  readonly lifecycle: LifecycleSettings;
  readonly incidents: IncidentSettings;
  readonly cycle: CycleDetectorSettings;
  readonly silence: SilenceSettings;
}

/** A cell's alert state. Plain data, snapshotted with the cell. */
export interface CellAlertState {
  /** Each alert kind's lifecycle state. */
  readonly alerts: AlertBook;
  /** The cell's open incidents. */
  readonly incidents: IncidentBook;
  readonly cycleDetector: CycleDetectorState;
  /** The in-step detectors (pressure drop, hard short, voltage noise), fed from the core's samples. */
  readonly sampleDetectors: SampleDetectorState;
}

export function newCellAlertState(cell: string): CellAlertState {
  return { alerts: newAlertBook(cell), incidents: newIncidentBook(), cycleDetector: newCycleDetectorState(), sampleDetectors: newSampleDetectorState() };
}

/** Where the measurements were taken: the cycle, and whether a maintenance silence covers the cell. */
export interface AlertMoment {
  readonly cycle: number;
  readonly silenced: boolean;
}

/** Applies detector measurements to the lifecycle and the incidents; the incident events come out (in order). */
export function applySignals(a: CellAlertState, signals: readonly Signal[], setup: CellAlertSetup, at: AlertMoment, out: AlertEvent[]): void {
  let ctx: IncidentContext | undefined;
  for (const s of signals) {
    // Most measurements (every charging voltage sample, offline a million of them) leave a kind at ok: skipped
    // before the lifecycle, which would return at once (also under the critical level: it may be set below warn).
    if (s.value < s.crit && changesNothing(a, s)) continue;
    ctx ??= { ...at, settings: setup.incidents };
    judge(a.alerts, a.incidents, s, setup.lifecycle, ctx, out);
  }
}

/** A complete cycle closed at `t`: incidents clear for long enough resolve. */
export function cycleClosed(a: CellAlertState, t: number, setup: CellAlertSetup, at: AlertMoment, out: AlertEvent[]): void {
  closeCycle(a.alerts, a.incidents, t, { ...at, settings: setup.incidents }, out);
}

/** The Δ(ΔP_Q) and coulombic-efficiency detectors' measurements for a closed cycle. */
export function cycleSignals(a: CellAlertState, y: CycleRecord, refCycle: number, setup: CellAlertSetup): Signal[] {
  return feedCycle(
    a.cycleDetector,
    {
      cycle: y.cycle,
      t: y.tEnd,
      complete: y.complete,
      refCycle,
      ce: y.ce,
      qCharge_mAh: y.qCharge_mAh,
      ddpQ: y.ddpQ_MPa_g_per_Ah ?? y.ddpQ_MPa_cm2_per_mAh,
      drift: y.drift_MPa_g_per_Ah ?? y.drift_MPa_cm2_per_mAh,
    },
    setup.cycle,
  );
}

/**
 * Whether judging `s` would change nothing: its kind is known and at ok with no downgrade pending, no
 * incident of it is open, and the value is under the warning threshold (the lifecycle then returns at once).
 * The silence check says "readings flowing" for every active cell every second: skipped, the cell is not
 * marked changed for the next checkpoint.
 */
export function changesNothing(a: CellAlertState, s: Signal): boolean {
  return wouldChangeNothing(a, s.kind, s.value, s.warn);
}

/** {@link changesNothing} of a measurement of `kind` with this value and warning threshold, before it is made. */
function wouldChangeNothing(a: CellAlertState, kind: Signal['kind'], value: number, warn: number): boolean {
  const st = a.alerts.kinds[kind];
  return st?.level === 'ok' && st.lowerSince === null && a.incidents.open[kind] === undefined && value < warn;
}

export interface SilenceFacts {
  /** Processing time now, epoch ms. */
  readonly now: number;
  /** Whether the cell's latest current is outside the deadband (an idle cell may be silent). */
  readonly active: boolean;
  /** Arrival (processing time) of the latest pressure and current readings; −Infinity: none since start. */
  readonly arrivals: { readonly pressure: number; readonly current: number };
}

/**
 * The silence measurement of a cell, or undefined when there is nothing to say (an idle cell that has no
 * silence alert open; with `quietToo`, also when judging it would change nothing: see {@link changesNothing}).
 * The deadman asks every active cell every second, and the measurement (an object, its text) was mostly made
 * to be dropped: a tick took 0.56 µs a cell, 0.36 without it (10,000 active cells, medians of 15 runs).
 */
export function silenceCheck(a: CellAlertState, f: SilenceFacts, setup: CellAlertSetup, quietToo = false): Signal | undefined {
  const tracked = a.alerts.kinds.silence !== undefined;
  if (!f.active && !tracked) return undefined;
  let silent = 0;
  let channel = 'pressure';
  for (const ch of ['pressure', 'current'] as const) {
    const arrival = f.arrivals[ch];
    if (arrival === -Infinity) continue; // after a restart: no arrival yet this run
    const s = (f.now - arrival) / 1000;
    if (s > silent) {
      silent = s;
      channel = ch;
    }
  }
  if (!f.active) silent = 0;
  if (quietToo && wouldChangeNothing(a, 'silence', silent, setup.silence.warn_s)) return undefined;
  return silenceSignal(f.now, silent, channel, setup.silence);
}
