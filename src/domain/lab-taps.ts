/**
 * Where a cell call's output goes: the records its core closes and the measurements its in-step detectors
 * make. One set of arrays for the whole lab (a call fills them, the lab empties them once it has emitted
 * them: arrays of each cell's own were ~0.15 KB a cell, and records kept until a cell's next call were
 * promoted with thousands of cells); per cell with alerts only its detectors' listener (on the cell's state).
 */
import type { Signal } from './alerts/lifecycle.js';
import { sampleDetectorListener, type SampleDetectorSettings } from './alerts/sample-detectors.js';
import type { CellOutput } from './cell-processor.js';
import type { CellState } from './cell-state.js';
import { NO_SAMPLE_LISTENER, type SampleListener } from './cell/types.js';
import type { CycleRecord, StepRecord } from './types.js';

/** Where a cell's core puts its records and its detectors their measurements, for one call. */
export interface Tap {
  readonly out: CellOutput;
  readonly signals: Signal[];
}

export class LabTaps {
  private readonly steps: StepRecord[] = [];
  private readonly cycles: CycleRecord[] = [];
  private readonly signals: Signal[] = [];
  /** The one output and tap handed out, their listener set for each call (not two objects a call). */
  private readonly out: { readonly steps: StepRecord[]; readonly cycles: CycleRecord[]; samples: SampleListener } = {
    steps: this.steps,
    cycles: this.cycles,
    samples: NO_SAMPLE_LISTENER,
  };
  private readonly current: Tap = { out: this.out, signals: this.signals };
  /** See {@link detectorSettings}. */
  private readonly sharedDetectors = new WeakMap<object, Map<number, SampleDetectorSettings>>();

  /**
   * The tap for a call of cell `c`, emptied: its core's records go there, and its samples to the cell's
   * in-step detectors (if any), whose measurements go to `signals`. The detectors' listener is made once
   * per cell (a hot path: offline, a call may carry a handful of readings).
   */
  tap(c: CellState): Tap {
    const det = c.processor.settings.detectors;
    let samples = NO_SAMPLE_LISTENER;
    if (c.alertSetup !== undefined && det !== undefined) {
      samples = c.sampleListener ??= sampleDetectorListener(c.sampleDetectors, this.detectorSettings(det, c.processor.settings.refCycle), this.signals);
    }
    this.steps.length = 0;
    this.cycles.length = 0;
    this.signals.length = 0;
    this.out.samples = samples;
    return this.current;
  }

  /**
   * The in-step detectors' settings, one object for the cells that share their detector settings (the
   * daemon shares equal ones) and reference cycle: an object per cell, each of its own hidden class, was
   * ~0.3 KB a cell.
   */
  private detectorSettings(det: Omit<SampleDetectorSettings, 'refCycle'>, refCycle: number): SampleDetectorSettings {
    let byRef = this.sharedDetectors.get(det);
    if (byRef === undefined) this.sharedDetectors.set(det, (byRef = new Map<number, SampleDetectorSettings>()));
    let cfg = byRef.get(refCycle);
    if (cfg === undefined) byRef.set(refCycle, (cfg = { ...det, refCycle }));
    return cfg;
  }
}
