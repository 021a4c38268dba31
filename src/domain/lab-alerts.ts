/**
 * A lab's alerting, fed from what each cell's core emitted (never from inside the core): the in-step
 * detectors' measurements, the cycle detectors on each cycle record, the incident book when a cycle closes,
 * and the deadman check at each tick. Maintenance silences mark the events; they never stop a detector.
 */
import { applySignals, cycleClosed, cycleSignals, silenceCheck } from './alerts/cell-alerts.js';
import type { AlertEvent } from './alerts/incidents.js';
import type { Signal } from './alerts/lifecycle.js';
import { MaintenanceSilences } from './alerts/maintenance.js';
import type { CellOutput } from './cell-processor.js';
import type { CellState } from './cell-state.js';
import type { LabEvent } from './lab-events.js';

export class LabAlerts {
  /** Maintenance silences: cell id (or `ALL_CELLS`) → end, epoch ms (processing time). */
  readonly silences = new MaintenanceSilences();
  /** The silence check's facts, filled anew for each cell at each tick (not an object per cell and second). */
  private readonly facts = { now: NaN, active: false, arrivals: { pressure: -Infinity, current: -Infinity } };

  /**
   * @param changed marks a cell changed for the next checkpoint.
   * @param observe hears every detector measurement before the lifecycle judges it (margins in tests and benchmarks).
   */
  constructor(
    private readonly changed: (cell: string) => void,
    private readonly observe?: { readonly signal: (cell: string, s: Signal) => void },
  ) {}

  /** After a core's call: its in-step measurements, then each cycle's detectors and, for a complete cycle, its close. */
  afterRecords(c: CellState, out: CellOutput, signals: readonly Signal[], now: number, events: LabEvent[]): void {
    const setup = c.alertSetup;
    if (setup === undefined) return;
    this.apply(c, signals, c.processor.chargeCycle, now, events);
    for (const y of out.cycles) {
      this.apply(c, cycleSignals(c, y, c.processor.settings.refCycle, setup), y.cycle, now, events);
      if (y.complete) {
        const changes: AlertEvent[] = [];
        cycleClosed(c, y.tEnd, setup, this.moment(c, y.cycle, now), changes);
        push(c, changes, events);
      }
    }
  }

  /** The deadman at a processing-time tick: an active cell whose pressure or current stopped arriving. */
  checkSilence(c: CellState, now: number, events: LabEvent[]): void {
    const setup = c.alertSetup;
    if (setup === undefined) return;
    const f = this.facts;
    f.now = now;
    f.active = Math.abs(c.processor.lastCurrent_mA) > c.processor.settings.restCurrent_mA;
    f.arrivals.pressure = c.aligner.arrivalOf('pressure');
    f.arrivals.current = c.aligner.arrivalOf('current');
    const s = silenceCheck(c, f, setup, this.observe === undefined);
    if (s === undefined) return;
    this.apply(c, [s], c.processor.currentCycle, now, events);
  }

  private moment(c: CellState, cycle: number, now: number): { cycle: number; silenced: boolean } {
    return { cycle, silenced: this.silences.covers(c.id, now) };
  }

  private apply(c: CellState, signals: readonly Signal[], cycle: number, now: number, events: LabEvent[]): void {
    const setup = c.alertSetup;
    if (setup === undefined || signals.length === 0) return;
    this.changed(c.id);
    if (this.observe !== undefined) for (const s of signals) this.observe.signal(c.id, s);
    const changes: AlertEvent[] = [];
    applySignals(c, signals, setup, this.moment(c, cycle, now), changes);
    push(c, changes, events);
  }
}

function push(c: CellState, changes: readonly AlertEvent[], events: LabEvent[]): void {
  c.counters.alerts += changes.length;
  for (const alert of changes) events.push({ type: 'alert', alert });
}
