/**
 * One cell's processing, from aligned readings (event-time order) to per-step and per-cycle records.
 *
 * Segmentation: the current is piecewise linear between samples that are at most `currentMaxGap_ms`
 * apart (across a longer gap it is held at the earlier sample's value, the right reading of an
 * on-change publisher). Each instant is charge (I > +I_rest), discharge (I < −I_rest) or rest; the
 * boundary between kinds is the exact instant the line crosses ±I_rest. A run of a new kind shorter
 * than `minStepDuration_ms` does not start a step: it is folded into the step it interrupted. A CV hold
 * after CC charge stays charge while the current is above the deadband. When the cycler publishes its
 * own step index (`step` channel), its changes are the step boundaries instead.
 *
 * Cycles: cycle n starts with the first step of the configured first half (full cells: charge) that
 * follows a step of the other half; rests belong to the cycle they sit in; steps before the first
 * cycle carry cycle 0. With `cycleSource: 'cycler'` the cycler's cycle index decides instead.
 *
 * Pressure at a boundary is interpolated between the samples either side (see PressureTrack), so a
 * record waits until the pressure just after its end has arrived, or is known not to be coming.
 */
import { absChargeLinear_mAh, lerp, signedChargeLinear_mAh } from './capacity.js';
import { computeCycle, ddpQOf, type Normalization } from './metrics/cycle.js';
import { CapacityGridResampler, meanDpdq_kPa_per_mAh, stepDp_MPa } from './metrics/step.js';
import { DEFAULT_PRESSURE_RING, PressureTrack } from './pressure-track.js';
import type { CycleRecord, Reading, StepKind, StepRecord } from './types.js';
import {
  feedHardShort,
  feedPressureDrop,
  feedVoltageNoise,
  newHardShortState,
  newPressureDropState,
  newVoltageNoiseState,
  type HardShortSettings,
  type PressureDropSettings,
  type VoltageNoiseSettings,
} from './alerts/detectors.js';
import type { Signal } from './alerts/lifecycle.js';

export interface CellProcessorSettings {
  readonly cell: string;
  /** Deadband: |I| at or below this is rest, mA. */
  readonly restCurrent_mA: number;
  /** A run of a new kind shorter than this does not start a step, ms. */
  readonly minStepDuration_ms: number;
  /** Current samples further apart than this are not interpolated (held), ms. */
  readonly currentMaxGap_ms: number;
  /** Pressure samples further apart than this are not interpolated (metric left empty), ms. */
  readonly pressureMaxGap_ms: number;
  /** Which half starts a cycle. */
  readonly firstHalf: 'charge' | 'discharge';
  /** Derive cycles from the step sequence, or take the cycler's cycle index from `step` readings. */
  readonly cycleSource: 'derived' | 'cycler';
  readonly normalization: Normalization;
  /** Reference cycle for drift (the first cycle after formation). */
  readonly refCycle: number;
  /** Capacity grid of the dP/dQ curve, mAh; 0 disables the curve. */
  readonly dpdqGrid_mAh: number;
  /** Most grid points kept per step. */
  readonly maxCurvePoints: number;
  /** In-step detectors (pressure drop during plating, voltage drop during charge); absent = off. */
  readonly detectors?:
    | { readonly pressureDrop: PressureDropSettings; readonly hardShort: HardShortSettings; readonly voltageNoise: VoltageNoiseSettings }
    | undefined;
}

export const DEFAULT_MIN_STEP_DURATION_MS = 10_000;
export const DEFAULT_CURRENT_MAX_GAP_MS = 120_000;
export const DEFAULT_PRESSURE_MAX_GAP_MS = 30_000;
export const DEFAULT_REF_CYCLE = 4;
export const DEFAULT_DPDQ_GRID_MAH = 0.05;
export const DEFAULT_MAX_CURVE_POINTS = 400;
/** Steps kept for an open cycle; a cycle with more is closed early as incomplete (a runaway guard). */
export const MAX_STEPS_PER_CYCLE = 10_000;

interface Boundary {
  readonly t: number;
  p: number | undefined;
  resolved: boolean;
}

interface Run {
  kind: StepKind;
  readonly tStart: number;
  tEnd: number;
  q: number;
  qPos: number;
  qNeg: number;
  qSigned: number;
  pMin: number;
  pMax: number;
  vMin: number;
  vMax: number;
  readonly start: Boundary;
  readonly curve: CapacityGridResampler | null;
  cyclerStep: number | undefined;
  cyclerCycle: number | undefined;
}

interface Closed {
  readonly run: Run;
  readonly end: Boundary;
  /** Kind of the step that follows, when the deadband segmenter knows it at the boundary. */
  readonly nextKind: StepKind | undefined;
}

/** Records produced by one call. */
export interface CellOutput {
  readonly steps: StepRecord[];
  readonly cycles: CycleRecord[];
  /** Detector measurements, for the alert lifecycle. */
  readonly signals: Signal[];
}

export function newOutput(): CellOutput {
  return { steps: [], cycles: [], signals: [] };
}

function kindOf(i: number, rest: number): StepKind {
  return i > rest ? 'charge' : i < -rest ? 'discharge' : 'rest';
}

export class CellProcessor {
  private readonly track: PressureTrack;
  private step: Run | null = null;
  private cand: Run | null = null;
  private prevT = NaN;
  private prevI = NaN;
  // Pressure (0) and voltage (1) samples after the last current sample, not yet attributed to a run.
  private pendT: number[] = [];
  private pendC: number[] = [];
  private pendV: number[] = [];
  private pendingBoundaries: Boundary[] = [];
  private closed: Closed[] = [];
  private eventTs = -Infinity;
  private stepSeq = 0;
  // Cycler step mode.
  private cyclerMode = false;
  private cyclerStep: number | undefined;
  private cyclerCycle: number | undefined;
  private cyclerCut: { t: number; step: number; cycle: number | undefined } | null = null;
  // Cycle assembly.
  private cycle = 0;
  private phase: 0 | 1 | 2 = 0;
  private cycleSteps: StepRecord[] = [];
  private pInitial: number | undefined;
  private ddpQRef: number | undefined;
  private lastCyclerCycle: number | undefined;
  /** Counters for the daemon's health. */
  readonly stats = { gaps: 0, glitches: 0, pressureMissing: 0 };
  private readonly pd = newPressureDropState();
  private readonly hs = newHardShortState();
  private readonly vn = newVoltageNoiseState();
  private signals: Signal[] = [];

  constructor(readonly settings: CellProcessorSettings) {
    this.track = new PressureTrack(settings.pressureMaxGap_ms, DEFAULT_PRESSURE_RING);
  }

  /**
   * Gives a structured-clone copy of a processor (e.g. from v8.deserialize) its classes back, with the
   * current settings. Shared references (a boundary is one step's end and the next one's start) survive
   * a structured clone, which is why the daemon snapshots with v8.serialize rather than JSON.
   */
  static revive(o: object, settings: CellProcessorSettings): CellProcessor {
    const p = Object.setPrototypeOf(o, CellProcessor.prototype) as CellProcessor;
    Object.setPrototypeOf(p.track, PressureTrack.prototype);
    const runs = [p.step, p.cand, ...p.closed.map((c) => c.run)];
    for (const r of runs) if (r?.curve) Object.setPrototypeOf(r.curve, CapacityGridResampler.prototype);
    (p as unknown as { settings: CellProcessorSettings }).settings = settings;
    return p;
  }

  /** Current cycle number (0 before cycling starts). */
  get currentCycle(): number {
    return this.cycle;
  }

  /** The latest current sample, mA (NaN before the first). */
  get lastCurrent_mA(): number {
    return this.prevI;
  }

  /** Kind of the step in progress, if any. */
  get currentKind(): StepKind | undefined {
    return this.cand?.kind ?? this.step?.kind;
  }

  /** Feeds one reading; readings must come in event-time order (the aligner's output). */
  process(r: Reading, out: CellOutput): void {
    if (r.ts > this.eventTs) this.eventTs = r.ts;
    switch (r.channel) {
      case 'pressure':
        this.track.add(r.ts, r.value);
        this.resolveBoundaries(false);
        this.pend(r.ts, 0, r.value);
        break;
      case 'voltage':
        this.pend(r.ts, 1, r.value);
        break;
      case 'current':
        this.onCurrent(r.ts, r.value);
        break;
      case 'step':
        this.onCyclerStep(r.ts, r.value, r.cycleIndex);
        break;
    }
    this.expireBoundaries();
    this.emitReady(out);
    if (this.signals.length > 0) {
      for (const x of this.signals) out.signals.push(x);
      this.signals = [];
    }
  }

  /**
   * End of data (a file's end): closes the step in progress at the last current sample, resolves
   * boundary pressures with what there is, and emits the open cycle marked incomplete.
   */
  finish(out: CellOutput): void {
    if (this.step !== null) {
      if (this.cand !== null) this.mergeGlitch(this.cand);
      this.cand = null;
      this.attributePending(Infinity);
      const end: Boundary = { t: this.prevT, p: undefined, resolved: false };
      this.pendingBoundaries.push(end);
      this.closed.push({ run: this.step, end, nextKind: undefined });
      this.step = null;
    }
    this.resolveBoundaries(true);
    this.emitReady(out);
    if (this.cycle >= 1 && this.cycleSteps.length > 0) this.closeCycle(out, false);
    for (const x of this.signals) out.signals.push(x);
    this.signals = [];
  }

  // --- samples between current readings -------------------------------------------------------

  private pend(t: number, c: number, v: number): void {
    if (this.step === null) return; // before the first current sample: no step to belong to
    const det = this.settings.detectors;
    let code = c;
    if (det !== undefined) {
      // Detectors see a sample as soon as it is released (the latency of an alert is the aligner's
      // lateness, not the current's sampling period): charging = the latest current. A voltage sample
      // between two current samples waits for the next one, so the relaxation right after a charge
      // ends is never mistaken for a voltage drop under charge.
      const charging = this.prevI > this.settings.restCurrent_mA;
      let sig: Signal | undefined;
      if (c === 0) sig = feedPressureDrop(this.pd, t, v, charging, det.pressureDrop);
      else if (t === this.prevT) {
        sig = feedHardShort(this.hs, t, v, charging, det.hardShort);
        this.feedVoltageNoise(t, v, charging);
        code = 2; // voltage already seen by the detectors
      }
      if (sig !== undefined) this.signals.push(sig);
    }
    this.pendT.push(t);
    this.pendC.push(code);
    this.pendV.push(v);
    // Past the interpolation gap the current is held: everything pending belongs to the active run.
    if (t - this.prevT > this.settings.currentMaxGap_ms && this.cyclerCut === null) this.attributePending(Infinity);
  }

  /** Attributes pending samples with ts ≤ tb to the active run, with the run's capacity at each instant. */
  private attributePending(tb: number, ta = this.prevT, run = this.cand ?? this.step, i0 = this.prevI, i1 = this.prevI, t1 = this.prevT): void {
    if (run === null || this.pendT.length === 0) return;
    let k = 0;
    const n = this.pendT.length;
    const heldI = Math.abs(i0);
    const det = this.settings.detectors;
    for (; k < n; k++) {
      const t = this.pendT[k]!;
      if (t > tb) break;
      const v = this.pendV[k]!;
      if (det !== undefined && this.pendC[k] === 1) {
        const iAt = t1 > ta && t <= t1 ? lerp(this.prevT, this.prevI, t1, i1, t) : i0;
        const charging = iAt > this.settings.restCurrent_mA && i1 > this.settings.restCurrent_mA;
        const sig = feedHardShort(this.hs, t, v, charging, det.hardShort);
        if (sig !== undefined) this.signals.push(sig);
        this.feedVoltageNoise(t, v, charging);
      }
      if (this.pendC[k] === 0) {
        if (!(v >= run.pMin)) run.pMin = v;
        if (!(v <= run.pMax)) run.pMax = v;
        if (run.curve !== null) {
          const dq = t1 > ta && t <= t1 ? absChargeLinear_mAh(ta, lerp(this.prevT, this.prevI, t1, i1, ta), t, lerp(this.prevT, this.prevI, t1, i1, t)) : heldI * (t - ta) / 3_600_000;
          run.curve.add(run.q + Math.max(0, dq), v, t);
        }
      } else {
        if (!(v >= run.vMin)) run.vMin = v;
        if (!(v <= run.vMax)) run.vMax = v;
      }
    }
    if (k === n) {
      this.pendT.length = 0;
      this.pendC.length = 0;
      this.pendV.length = 0;
    } else if (k > 0) {
      this.pendT.splice(0, k);
      this.pendC.splice(0, k);
      this.pendV.splice(0, k);
    }
  }

  private feedVoltageNoise(t: number, v: number, charging: boolean): void {
    const det = this.settings.detectors;
    if (det === undefined) return;
    const sig = feedVoltageNoise(this.vn, t, v, charging, this.cycle > this.settings.refCycle, det.voltageNoise);
    if (sig !== undefined) this.signals.push(sig);
  }

  // --- current ---------------------------------------------------------------------------------

  private onCurrent(t1: number, i1: number): void {
    const s = this.settings;
    if (this.step === null) {
      const start: Boundary = { t: t1, p: undefined, resolved: false };
      this.pendingBoundaries.push(start);
      this.resolveBoundaries(false);
      this.step = this.newRun(this.cyclerMode ? 'rest' : kindOf(i1, s.restCurrent_mA), start);
      this.prevT = t1;
      this.prevI = i1;
      return;
    }
    const t0 = this.prevT;
    const i0 = this.prevI;
    const cut = this.cyclerCut;
    if (cut !== null && cut.t <= t1) {
      // The cycler changed step at cut.t, between the previous current sample and this one.
      this.cyclerCut = null;
      const ic = t1 - t0 > s.currentMaxGap_ms ? i0 : lerp(t0, i0, t1, i1, cut.t);
      this.segment(t0, i0, cut.t, ic, t1 - t0 > s.currentMaxGap_ms);
      this.cutCyclerStep(cut.t, cut.step, cut.cycle);
      this.prevT = cut.t;
      this.prevI = ic;
      this.segment(cut.t, ic, t1, i1, t1 - t0 > s.currentMaxGap_ms);
    } else {
      this.segment(t0, i0, t1, i1, t1 - t0 > s.currentMaxGap_ms);
    }
    this.prevT = t1;
    this.prevI = i1;
  }

  /** Splits [t0, t1] where the line crosses ±I_rest and feeds each part to the run it belongs to. */
  private segment(t0: number, i0: number, t1: number, i1: number, held: boolean): void {
    const R = this.settings.restCurrent_mA;
    if (held) {
      this.stats.gaps++;
      this.feed(kindOf(i0, R), t0, i0, t1, i0, t0, i0, t1, i0);
      this.feed(kindOf(i1, R), t1, i1, t1, i1, t1, i1, t1, i1);
      return;
    }
    if (t1 === t0) {
      // Equal timestamps: a jump (a cycler's step change). Zero-length part of the new kind.
      this.feed(kindOf(i1, R), t1, i1, t1, i1, t0, i0, t1, i1);
      return;
    }
    // Crossing instants of +R and −R strictly inside (t0, t1), in time order.
    let c1 = NaN;
    let c2 = NaN;
    if (i0 !== i1) {
      const a = t0 + ((R - i0) * (t1 - t0)) / (i1 - i0);
      const b = t0 + ((-R - i0) * (t1 - t0)) / (i1 - i0);
      const ca = a > t0 && a < t1 ? a : NaN;
      const cb = b > t0 && b < t1 ? b : NaN;
      if (!Number.isNaN(ca) && !Number.isNaN(cb)) {
        c1 = Math.min(ca, cb);
        c2 = Math.max(ca, cb);
      } else c1 = Number.isNaN(ca) ? cb : ca;
    }
    let ta = t0;
    let ia = i0;
    for (const tb of [c1, c2, t1]) {
      if (Number.isNaN(tb)) continue;
      const ib = tb === t1 ? i1 : lerp(t0, i0, t1, i1, tb);
      this.feed(kindOf(lerp(t0, i0, t1, i1, (ta + tb) / 2), R), ta, ia, tb, ib, t0, i0, t1, i1);
      ta = tb;
      ia = ib;
    }
  }

  /** Adds the part [ta, tb] (current ia → ib) to the run of its kind; confirms a candidate that lasted. */
  private feed(kind: StepKind, ta: number, ia: number, tb: number, ib: number, t0: number, i0: number, t1: number, i1: number): void {
    const run = this.runFor(kind, ta);
    this.attributeSegment(run, tb, ta, t0, i0, t1, i1);
    const abs = absChargeLinear_mAh(ta, ia, tb, ib);
    const signed = signedChargeLinear_mAh(ta, ia, tb, ib);
    run.q += abs;
    run.qPos += (abs + signed) / 2;
    run.qNeg += (abs - signed) / 2;
    run.qSigned += signed;
    if (tb > run.tEnd) run.tEnd = tb;
    const cand = this.cand;
    if (cand !== null && tb - cand.tStart >= this.settings.minStepDuration_ms) {
      this.closeStep(this.step!, cand.start, cand.kind);
      this.step = cand;
      this.cand = null;
    }
  }

  private attributeSegment(run: Run, tb: number, ta: number, t0: number, i0: number, t1: number, i1: number): void {
    if (this.pendT.length === 0 || this.pendT[0]! > tb) return;
    const saveT = this.prevT;
    const saveI = this.prevI;
    this.prevT = t0;
    this.prevI = i0;
    this.attributePending(tb, ta, run, i0, i1, t1);
    this.prevT = saveT;
    this.prevI = saveI;
  }

  private runFor(kind: StepKind, ta: number): Run {
    const step = this.step!;
    if (this.cyclerMode) return step;
    const cand = this.cand;
    if (cand !== null) {
      if (kind === cand.kind) return cand;
      this.mergeGlitch(cand);
      this.cand = null;
      if (kind === step.kind) return step;
    } else if (kind === step.kind) return step;
    const b: Boundary = { t: ta, p: undefined, resolved: false };
    this.cand = this.newRun(kind, b);
    return this.cand;
  }

  /** A run too short to be a step is part of the step it interrupted. */
  private mergeGlitch(g: Run): void {
    const s = this.step!;
    this.stats.glitches++;
    s.q += g.q;
    s.qPos += g.qPos;
    s.qNeg += g.qNeg;
    s.qSigned += g.qSigned;
    if (g.tEnd > s.tEnd) s.tEnd = g.tEnd;
    if (g.pMin < s.pMin || Number.isNaN(s.pMin)) s.pMin = g.pMin;
    if (g.pMax > s.pMax || Number.isNaN(s.pMax)) s.pMax = g.pMax;
    if (g.vMin < s.vMin || Number.isNaN(s.vMin)) s.vMin = g.vMin;
    if (g.vMax > s.vMax || Number.isNaN(s.vMax)) s.vMax = g.vMax;
  }

  private newRun(kind: StepKind, start: Boundary): Run {
    const s = this.settings;
    return {
      kind,
      tStart: start.t,
      tEnd: start.t,
      q: 0,
      qPos: 0,
      qNeg: 0,
      qSigned: 0,
      pMin: NaN,
      pMax: NaN,
      vMin: NaN,
      vMax: NaN,
      start,
      curve: s.dpdqGrid_mAh > 0 ? new CapacityGridResampler(s.dpdqGrid_mAh, s.maxCurvePoints) : null,
      cyclerStep: this.cyclerStep,
      cyclerCycle: this.cyclerCycle,
    };
  }

  private closeStep(run: Run, end: Boundary, nextKind: StepKind | undefined): void {
    if (!end.resolved && !this.pendingBoundaries.includes(end)) this.pendingBoundaries.push(end);
    this.closed.push({ run, end, nextKind });
    this.resolveBoundaries(false);
  }

  // --- cycler step index -------------------------------------------------------------------------

  private onCyclerStep(t: number, step: number, cycle: number | undefined): void {
    if (this.cyclerStep === step && (cycle === undefined || cycle === this.cyclerCycle)) return;
    if (!this.cyclerMode) {
      // From now on the cycler's index is authoritative. Close the deadband step at this instant.
      if (this.cand !== null) this.mergeGlitch(this.cand);
      this.cand = null;
      this.cyclerMode = true;
    }
    if (this.step === null) {
      this.cyclerStep = step;
      this.cyclerCycle = cycle;
      return;
    }
    if (t <= this.prevT) this.cutCyclerStep(t, step, cycle);
    else this.cyclerCut = { t, step, cycle };
  }

  private cutCyclerStep(t: number, step: number, cycle: number | undefined): void {
    this.attributePending(t);
    const b: Boundary = { t: Math.max(t, this.step!.tStart), p: undefined, resolved: false };
    this.pendingBoundaries.push(b);
    const old = this.step!;
    this.closeStep(old, b, undefined);
    this.cyclerStep = step;
    this.cyclerCycle = cycle;
    this.step = this.newRun('rest', b);
  }

  // --- boundaries and emission --------------------------------------------------------------------

  private resolveBoundaries(final: boolean): void {
    const list = this.pendingBoundaries;
    if (list.length === 0) return;
    let w = 0;
    for (const b of list) {
      if (!b.resolved) {
        const v = this.track.valueAt(b.t, final);
        if (v.kind === 'value') {
          b.p = v.p;
          b.resolved = true;
        } else if (v.kind === 'missing') {
          b.resolved = true;
          this.stats.pressureMissing++;
        }
      }
      if (!b.resolved) list[w++] = b;
    }
    list.length = w;
  }

  /** A boundary with no pressure sample after it within the max gap will never get one. */
  private expireBoundaries(): void {
    const list = this.pendingBoundaries;
    if (list.length === 0) return;
    const limit = this.eventTs - this.settings.pressureMaxGap_ms;
    if (list[0]!.t >= limit) return;
    let w = 0;
    for (const b of list) {
      if (b.t < limit) {
        b.resolved = true;
        this.stats.pressureMissing++;
      } else list[w++] = b;
    }
    list.length = w;
  }

  private emitReady(out: CellOutput): void {
    while (this.closed.length > 0) {
      const c = this.closed[0]!;
      if (!c.run.start.resolved || !c.end.resolved) return;
      let nextKind = c.nextKind;
      if (nextKind === undefined && this.cyclerMode && this.settings.cycleSource === 'derived') {
        // A cycler step's kind is known only from the current it carries: wait until the step after
        // this one has run for the minimum step duration, so that a cycle can close where the next
        // one starts rather than one whole step later.
        const next = this.closed[1]?.run ?? this.step;
        if (next !== null) {
          nextKind = this.cyclerKind(next, this.closed.length > 1);
          if (nextKind === undefined) return;
        }
      }
      this.closed.shift();
      this.onStep(this.toRecord(c), nextKind, out);
    }
  }

  /** The kind of a cycler step from the charge it carried so far (undefined: too early to say). */
  private cyclerKind(r: Run, closed: boolean): StepKind | undefined {
    const d = r.tEnd - r.tStart;
    if (!closed && d < Math.max(1, this.settings.minStepDuration_ms)) return undefined;
    const meanAbs = d > 0 ? (r.q * 3_600_000) / d : 0;
    return meanAbs <= this.settings.restCurrent_mA ? 'rest' : r.qPos >= r.qNeg ? 'charge' : 'discharge';
  }

  private toRecord(c: Closed): Omit<StepRecord, 'cycle'> {
    const r = c.run;
    const s = this.settings;
    const duration_ms = c.end.t - r.tStart;
    let kind = r.kind;
    if (this.cyclerMode || r.cyclerStep !== undefined) {
      // The cycler's step: its kind is the direction that carried the charge, rest if the mean |I| is in the deadband.
      r.tEnd = c.end.t;
      kind = this.cyclerKind(r, true)!;
    }
    const pStart = r.start.p;
    const pEnd = c.end.p;
    let pMin = r.pMin;
    let pMax = r.pMax;
    for (const p of [pStart, pEnd]) {
      if (p === undefined) continue;
      if (!(p >= pMin)) pMin = p;
      if (!(p <= pMax)) pMax = p;
    }
    const dp = stepDp_MPa(pStart, pEnd);
    const rec: Record<string, unknown> = {
      cell: s.cell,
      step: ++this.stepSeq,
      kind,
      tStart: r.tStart,
      tEnd: c.end.t,
      duration_s: duration_ms / 1000,
      q_mAh: r.q,
      qCharge_mAh: r.qPos,
      qDischarge_mAh: r.qNeg,
      iMean_mA: duration_ms > 0 ? (r.qSigned * 3_600_000) / duration_ms : 0,
    };
    if (pStart !== undefined) rec.pStart_MPa = pStart;
    if (pEnd !== undefined) rec.pEnd_MPa = pEnd;
    if (!Number.isNaN(pMin)) rec.pMin_MPa = pMin;
    if (!Number.isNaN(pMax)) rec.pMax_MPa = pMax;
    if (dp !== undefined) rec.dp_MPa = dp;
    const dpdq = meanDpdq_kPa_per_mAh(dp, r.q);
    if (dpdq !== undefined) rec.dpdq_kPa_per_mAh = dpdq;
    if (r.cyclerStep !== undefined) rec.cyclerStep = r.cyclerStep;
    if (!Number.isNaN(r.vMin)) rec.vMin_V = r.vMin;
    if (!Number.isNaN(r.vMax)) rec.vMax_V = r.vMax;
    if (r.curve !== null && r.curve.points.length > 1) rec.curve = r.curve.points;
    if (r.cyclerCycle !== undefined) rec.cyclerCycle = r.cyclerCycle;
    return rec as unknown as Omit<StepRecord, 'cycle'>;
  }

  // --- cycles ------------------------------------------------------------------------------------

  private onStep(partial: Omit<StepRecord, 'cycle'>, nextKind: StepKind | undefined, out: CellOutput): void {
    const s = this.settings;
    const first = s.firstHalf;
    const cyclerCycle = (partial as { cyclerCycle?: number }).cyclerCycle;
    if (s.cycleSource === 'cycler' && cyclerCycle !== undefined) {
      // The cycler's cycle index is authoritative: a new cycle wherever it changes (numbered from 1 here).
      if (cyclerCycle !== this.lastCyclerCycle) {
        if (this.cycleSteps.length > 0) this.closeCycle(out, true);
        this.lastCyclerCycle = cyclerCycle;
        this.startCycle(this.cycle + 1, partial.pStart_MPa);
      }
    } else if (partial.kind === first) {
      if (this.phase === 2 || this.phase === 0) {
        if (this.phase === 2) this.closeCycle(out, true);
        this.startCycle(this.cycle + 1, partial.pStart_MPa);
      }
      this.phase = 1;
    } else if (partial.kind !== 'rest' && this.phase !== 0) {
      this.phase = 2;
    }
    const rec = { ...partial, cycle: this.cycle } as StepRecord;
    out.steps.push(rec);
    if (this.cycle >= 1 || this.cycleSteps.length > 0) this.cycleSteps.push(rec);
    // The cycle ends where the next one's first step starts: close it now rather than a step later.
    if (s.cycleSource === 'derived' && this.phase === 2 && nextKind === first) this.closeCycle(out, true);
    else if (this.cycleSteps.length >= MAX_STEPS_PER_CYCLE) this.closeCycle(out, false);
  }

  private startCycle(n: number, pStart: number | undefined): void {
    this.cycle = n;
    this.cycleSteps = [];
    if (this.pInitial === undefined && pStart !== undefined) this.pInitial = pStart;
  }

  private closeCycle(out: CellOutput, complete: boolean): void {
    const steps = this.cycleSteps;
    this.cycleSteps = [];
    this.phase = 0;
    if (this.cycle < 1 || steps.length === 0) return;
    const s = this.settings;
    const rec = computeCycle(steps, {
      cell: s.cell,
      cycle: this.cycle,
      normalization: s.normalization,
      pInitial_MPa: this.pInitial,
      ddpQRef: this.ddpQRef,
      complete,
    });
    // The reference is the first complete cycle from refCycle on that has a Δ(ΔP_Q) (normally refCycle itself).
    if (this.ddpQRef === undefined && complete && this.cycle >= s.refCycle) {
      this.ddpQRef = ddpQOf(rec);
      if (this.ddpQRef !== undefined) {
        out.cycles.push({ ...rec, ...driftZero(rec) });
        return;
      }
    }
    out.cycles.push(rec);
  }
}

function driftZero(rec: CycleRecord): Partial<CycleRecord> {
  return rec.ddpQ_MPa_g_per_Ah !== undefined ? { drift_MPa_g_per_Ah: 0 } : { drift_MPa_cm2_per_mAh: 0 };
}
