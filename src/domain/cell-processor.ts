/**
 * One cell's core, from aligned readings (event-time order) to per-step and per-cycle records. A thin
 * composition of small parts, each in its own file under `cell/`:
 *
 *   current ─▶ segmentation (cell/segmentation.ts: deadband crossings, runs, glitch merging)
 *                 └▶ charge accounting (cell/run.ts: charge per direction, extremes, dP/dQ curve)
 *   pressure, voltage ─▶ pending samples (cell/pending-samples.ts: attributed to the run that covers them)
 *   step boundaries ─▶ boundary pressures (cell/boundaries.ts, pressure-track.ts)
 *   closed steps ─▶ cycle assembly (cell/cycles.ts: a reducer over step records) ─▶ metrics/cycle.ts
 *
 * Segmentation: the current is piecewise linear between samples that are at most `currentMaxGap_ms`
 * apart (across a longer gap it is held at the earlier sample's value, the right reading of an
 * on-change publisher). A run of a new kind shorter than `minStepDuration_ms` does not start a step: it
 * is folded into the step it interrupted. A CV hold after CC charge stays charge while the current is
 * above the deadband. When the cycler publishes its own step index (`step` channel), its changes are the
 * step boundaries instead.
 *
 * A record waits until the pressure just after its end has arrived, or is known not to be coming. The
 * detectors are not part of the core: they listen to the samples it releases (`SampleListener`) and to
 * the records it emits.
 */
import { lerp } from './capacity.js';
import { DEFAULT_PRESSURE_RING, PressureTrack } from './pressure-track.js';
import type { Channel, Reading, StepKind } from './types.js';
import { expireBoundaries, resolveBoundaries } from './cell/boundaries.js';
import type { CellProcessorSettings } from './cell/settings.js';
import { reviveClone, restoreState, stateOf, type Closed, type CoreFields, type CyclerCut, type ProcessorState } from './cell/state.js';
import { emitReady } from './cell/emission.js';
import { cycleOfOpenStep, finishCycles, newCycleAssembly, type CycleAssembly } from './cell/cycles.js';
import { attributeSamples, hasSamplesUpTo, newPendingSamples, pushSample, type PendingSamples } from './cell/pending-samples.js';
import { addCharge, mergeGlitch, newRun, type Run } from './cell/run.js';
import { confirmedCandidate, kindOf, runFor, splitAtDeadband, type CyclerIndex, type Runs, type SegmentVisitor } from './cell/segmentation.js';
import { NO_SAMPLE_LISTENER, newBoundary, type Boundary, type CellOutput, type CurrentLine, type SampleListener } from './cell/types.js';

export { MAX_STEPS_PER_CYCLE } from './cell/cycles.js';
export { newOutput, type CellOutput } from './cell/types.js';

export {
  DEFAULT_CURRENT_MAX_GAP_MS,
  DEFAULT_DPDQ_GRID_MAH,
  DEFAULT_MAX_CURVE_POINTS,
  DEFAULT_MIN_STEP_DURATION_MS,
  DEFAULT_PRESSURE_MAX_GAP_MS,
  DEFAULT_REF_CYCLE,
  type CellProcessorSettings,
} from './cell/settings.js';

/**
 * The current's line between two samples in the common case (no cycler step change between them), filled
 * anew for each sample: a line is read during its cut only, nothing keeps it, and one object for every cell
 * spares an object and four numbers per current sample (~6 % of the daemon's allocations at 1,000 cells).
 */
const SAMPLED_LINE: { t0: number; i0: number; t1: number; i1: number } = { t0: NaN, i0: NaN, t1: NaN, i1: NaN };

export class CellProcessor implements SegmentVisitor, CoreFields {
  // The fields below are the core's state (CoreFields): public for cell/state.ts and cell/emission.ts, which
  // read and fill them; nothing else should touch them.
  track: PressureTrack;
  readonly runs: Runs = { step: null, cand: null };
  /** The latest current sample (NaN before the first). */
  prevT = NaN;
  prevI = NaN;
  readonly pending: PendingSamples = newPendingSamples();
  readonly pendingBoundaries: Boundary[] = [];
  readonly closed: Closed[] = [];
  eventTs = -Infinity;
  stepSeq = 0;
  /** Cycler step mode: the cycler's step index is authoritative from its first `step` reading on. */
  cyclerMode = false;
  readonly cycler: CyclerIndex = { step: undefined, cycle: undefined };
  /** Who hears the samples while a line is being cut (null between calls: functions do not go into a snapshot). */
  private listener: SampleListener | null = null;
  cyclerCut: CyclerCut | null = null;
  readonly cycles: CycleAssembly = newCycleAssembly();
  /** Counters for the daemon's health. */
  readonly stats = { gaps: 0, glitches: 0, pressureMissing: 0 };

  constructor(readonly settings: CellProcessorSettings) {
    this.track = new PressureTrack(settings.pressureMaxGap_ms, DEFAULT_PRESSURE_RING);
  }

  /** A processor from a structured clone of one (checkpoint format 2), with the current settings (cell/state.ts). */
  static revive(o: object, settings: CellProcessorSettings): CellProcessor {
    return reviveClone(o, CellProcessor.prototype, settings);
  }

  /** The core's state as plain data, for a checkpoint (see cell/state.ts): copies, never the live objects. */
  toState(): ProcessorState {
    return stateOf(this);
  }

  /** A core from its plain-data state, with the current settings. */
  static fromState(settings: CellProcessorSettings, s: ProcessorState): CellProcessor {
    const p = new CellProcessor(settings);
    restoreState(p, settings, s);
    return p;
  }

  /** Current cycle number (0 before cycling starts). */
  get currentCycle(): number {
    return this.cycles.cycle;
  }

  /** The cycle a charge step in progress belongs to (where the in-step detectors' incidents are counted). */
  get chargeCycle(): number {
    return cycleOfOpenStep(this.cycles, 'charge', this.settings);
  }

  /** The latest current sample, mA (NaN before the first). */
  get lastCurrent_mA(): number {
    return this.prevI;
  }

  /** Kind of the step in progress, if any. */
  get currentKind(): StepKind | undefined {
    return this.runs.cand?.kind ?? this.runs.step?.kind;
  }

  /** Feeds one reading; readings must come in event-time order (the aligner's output). */
  process(r: Reading, out: CellOutput): void {
    this.processValue(r.channel, r.ts, r.value, r.cycleIndex, out);
  }

  /** {@link process} of a reading's fields (the lab hands released readings over as numbers). */
  processValue(channel: Channel, ts: number, value: number, cycleIndex: number | undefined, out: CellOutput): void {
    if (ts > this.eventTs) this.eventTs = ts;
    switch (channel) {
      case 'pressure':
        if (this.track.full) this.track.dropBefore(this.oldestBoundary());
        this.track.add(ts, value);
        this.stats.pressureMissing += resolveBoundaries(this.pendingBoundaries, this.track, false);
        this.onSample(ts, 'pressure', value, out.samples);
        break;
      case 'voltage':
        this.onSample(ts, 'voltage', value, out.samples);
        break;
      case 'current':
        this.onCurrent(ts, value, out.samples);
        break;
      case 'step':
        this.onCyclerStep(ts, value, cycleIndex, out.samples);
        break;
    }
    this.stats.pressureMissing += expireBoundaries(this.pendingBoundaries, this.eventTs - this.settings.pressureMaxGap_ms);
    emitReady(this, this.settings, out);
  }

  /**
   * End of data (a file's end): closes the step in progress at the last current sample, resolves
   * boundary pressures with what there is, and emits the open cycle marked incomplete.
   */
  finish(out: CellOutput): void {
    const step = this.runs.step;
    if (step !== null) {
      this.dropCandidate(step);
      this.attribute(Infinity, out.samples);
      const end = newBoundary(this.prevT);
      this.pendingBoundaries.push(end);
      this.closed.push({ run: step, end, nextKind: undefined });
      this.runs.step = null;
    }
    this.stats.pressureMissing += resolveBoundaries(this.pendingBoundaries, this.track, true);
    emitReady(this, this.settings, out);
    finishCycles(this.cycles, this.settings, out);
  }

  /**
   * The earliest instant a boundary still to be resolved can have (what the pressure track must cover): the
   * pending boundaries', the candidate step's start; new ones come at or after the latest current sample
   * (readings arrive in event-time order), or the newest reading before the first current.
   */
  private oldestBoundary(): number {
    let t = Number.isNaN(this.prevT) ? this.eventTs : this.prevT;
    const cand = this.runs.cand;
    if (cand !== null && !cand.start.resolved && cand.start.t < t) t = cand.start.t;
    for (const b of this.pendingBoundaries) if (!b.resolved && b.t < t) t = b.t;
    return t;
  }

  // --- samples between current readings -------------------------------------------------------

  private onSample(t: number, kind: 'pressure' | 'voltage', v: number, listener: SampleListener): void {
    if (this.runs.step === null) return; // before the first current sample: no step to belong to
    // The detectors hear a sample as soon as it is released (the latency of an alert is the aligner's
    // lateness, not the current's sampling period): charging = the latest current. A voltage sample
    // between two current samples waits for the next one, so the relaxation right after a charge ends
    // is never mistaken for a voltage drop under charge.
    const charging = this.prevI > this.settings.restCurrent_mA;
    let pendingKind: 'pressure' | 'voltage' | 'voltage-seen' = kind;
    if (kind === 'pressure') listener.pressure(t, v, charging);
    else if (t === this.prevT) {
      listener.voltage(t, v, charging, this.cycles.cycle, this.prevI);
      pendingKind = 'voltage-seen';
    }
    pushSample(this.pending, t, pendingKind, v);
    // Past the interpolation gap the current is held: everything pending belongs to the active run.
    if (t - this.prevT > this.settings.currentMaxGap_ms && this.cyclerCut === null) this.attribute(Infinity, listener);
  }

  /** Attributes pending samples with ts ≤ tb to the active run, the current held at the latest sample. */
  private attribute(tb: number, listener: SampleListener): void {
    const run = this.runs.cand ?? this.runs.step;
    if (run === null) return;
    const line: CurrentLine = { t0: this.prevT, i0: this.prevI, t1: this.prevT, i1: this.prevI };
    attributeSamples(this.pending, tb, run, this.prevT, line, this.settings.restCurrent_mA, this.cycles.cycle, listener);
  }

  // --- current ---------------------------------------------------------------------------------

  private onCurrent(t1: number, i1: number, listener: SampleListener): void {
    const s = this.settings;
    if (this.runs.step === null) {
      const start = newBoundary(t1);
      this.pendingBoundaries.push(start);
      this.stats.pressureMissing += resolveBoundaries(this.pendingBoundaries, this.track, false);
      this.runs.step = newRun(this.cyclerMode ? 'rest' : kindOf(i1, s.restCurrent_mA), start, s, this.cycler.step, this.cycler.cycle);
      this.prevT = t1;
      this.prevI = i1;
      return;
    }
    const t0 = this.prevT;
    const i0 = this.prevI;
    if (s.currentSampling === 'interval-average') this.onAveragedCurrent(t0, t1, i1, listener);
    else this.onSampledCurrent(t0, i0, t1, i1, listener);
    this.prevT = t1;
    this.prevI = i1;
  }

  /**
   * A sampled current: a line from the previous sample, held across a gap longer than `currentMaxGap_ms`.
   * Instantaneous samples (a cycler's record): across a cycler step change each step keeps its own current
   * (the old one its last sample's up to the change, the new one this sample's after it: a ramp between two
   * steps' currents belongs to neither); a gap that ends at a step change or at rest carried nothing (the
   * step ended at its last sample, as the cycler records it). On-change samples: the value is held across
   * every gap, and a step change between samples cuts the line where it happened.
   */
  private onSampledCurrent(t0: number, i0: number, t1: number, i1: number, listener: SampleListener): void {
    const s = this.settings;
    const held = t1 - t0 > s.currentMaxGap_ms;
    const cut = this.cyclerCut;
    const cutHere = cut !== null && cut.t <= t1;
    if (s.currentSampling === 'instantaneous' && (cutHere || (held && kindOf(i1, s.restCurrent_mA) === 'rest'))) {
      if (held) {
        if (cutHere) this.cutCyclerStep({ ...cut, t: t0 }, listener);
        this.cut({ t0, i0: 0, t1, i1: 0 }, false, listener);
      } else if (cutHere) {
        this.cut({ t0, i0, t1: cut.t, i1: i0 }, false, listener);
        this.cutCyclerStep(cut, listener);
        this.cut({ t0: cut.t, i0: i1, t1, i1 }, false, listener);
      }
      this.cyclerCut = null;
      this.jumpTo(t1, i1, listener);
    } else if (cutHere) {
      // The cycler changed step at cut.t, between the previous current sample and this one.
      this.cyclerCut = null;
      const ic = held ? i0 : lerp(t0, i0, t1, i1, cut.t);
      this.cut({ t0, i0, t1: cut.t, i1: ic }, held, listener);
      this.cutCyclerStep(cut, listener);
      this.prevT = cut.t;
      this.prevI = ic;
      this.cut({ t0: cut.t, i0: ic, t1, i1 }, held, listener);
    } else {
      // Its line in the one object kept for it (nothing holds a line past its cut): not an object per sample.
      const line = SAMPLED_LINE;
      line.t0 = t0;
      line.i0 = i0;
      line.t1 = t1;
      line.i1 = i1;
      this.cut(line, held, listener);
    }
  }

  /** After a stretch that carried nothing: the current jumps to i1 at t1 (a zero-length segment of its kind). */
  private jumpTo(t1: number, i1: number, listener: SampleListener): void {
    this.prevT = t1;
    this.prevI = 0;
    this.cut({ t0: t1, i0: i1, t1, i1 }, false, listener);
  }

  /**
   * A current averaged over the interval that ends at its sample (EC-Lab's `<I>/mA`): flat at that value
   * since the previous sample (a right rectangle, what the cycler itself integrates). A cycler step change
   * seen at this sample happened at the previous one: the interval belongs to the new step.
   */
  private onAveragedCurrent(t0: number, t1: number, i1: number, listener: SampleListener): void {
    const cut = this.cyclerCut;
    if (cut !== null && cut.t <= t1) {
      this.cyclerCut = null;
      this.cutCyclerStep({ ...cut, t: t0 }, listener);
    }
    this.cut({ t0, i0: i1, t1, i1 }, false, listener);
  }

  private cut(line: CurrentLine, held: boolean, listener: SampleListener): void {
    if (held) this.stats.gaps++;
    this.listener = listener;
    try {
      splitAtDeadband(line, this.settings.restCurrent_mA, held, this);
    } finally {
      this.listener = null;
    }
  }

  /**
   * One segment of the current (SegmentVisitor; called by splitAtDeadband): adds it to the run of its kind,
   * with the samples it covers, and confirms a candidate that lasted.
   */
  segment(kind: StepKind, ta: number, ia: number, tb: number, ib: number, line: CurrentLine): void {
    const step = this.runs.step;
    if (step === null) return;
    const run = this.cyclerMode ? step : runFor(this.runs, step, kind, ta, this.settings, this.cycler, this.stats);
    if (hasSamplesUpTo(this.pending, tb)) {
      attributeSamples(this.pending, tb, run, ta, line, this.settings.restCurrent_mA, this.cycles.cycle, this.listener ?? NO_SAMPLE_LISTENER);
    }
    addCharge(run, ta, ia, tb, ib);
    const cand = confirmedCandidate(this.runs, tb, this.settings);
    if (cand !== undefined) {
      this.closeStep(step, cand.start, cand.kind);
      this.runs.step = cand;
      this.runs.cand = null;
    }
  }

  /** A candidate still open when the step must end is a glitch of that step. */
  private dropCandidate(step: Run): void {
    if (this.runs.cand === null) return;
    mergeGlitch(step, this.runs.cand);
    this.stats.glitches++;
    this.runs.cand = null;
  }

  private closeStep(run: Run, end: Boundary, nextKind: StepKind | undefined): void {
    if (!end.resolved && !this.pendingBoundaries.includes(end)) this.pendingBoundaries.push(end);
    this.closed.push({ run, end, nextKind });
    this.stats.pressureMissing += resolveBoundaries(this.pendingBoundaries, this.track, false);
  }

  // --- cycler step index -------------------------------------------------------------------------

  private onCyclerStep(t: number, step: number, cycle: number | undefined, listener: SampleListener): void {
    if (this.cycler.step === step && (cycle === undefined || cycle === this.cycler.cycle)) return;
    const current = this.runs.step;
    if (!this.cyclerMode) {
      // From now on the cycler's index is authoritative. Close the deadband step at this instant.
      if (current !== null) this.dropCandidate(current);
      this.cyclerMode = true;
    }
    if (current === null) {
      this.cycler.step = step;
      this.cycler.cycle = cycle;
      return;
    }
    if (t <= this.prevT) this.cutCyclerStep({ t, step, cycle }, listener);
    else this.cyclerCut = { t, step, cycle };
  }

  private cutCyclerStep(cut: CyclerCut, listener: SampleListener): void {
    const old = this.runs.step;
    if (old === null) return;
    this.attribute(cut.t, listener);
    const b = newBoundary(Math.max(cut.t, old.tStart));
    this.pendingBoundaries.push(b);
    this.closeStep(old, b, undefined);
    this.cycler.step = cut.step;
    this.cycler.cycle = cut.cycle;
    this.runs.step = newRun('rest', b, this.settings, cut.step, cut.cycle);
  }
}
