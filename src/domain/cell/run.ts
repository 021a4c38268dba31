/**
 * Charge accounting of one run of current (a step in progress, or a candidate that may become one):
 * the charge it passed in each direction, the pressure and voltage extremes inside it, and its
 * pressure-versus-capacity curve. Plain data and functions over it.
 */
import { absChargeLinear_mAh, signedChargeLinear_mAh } from '../capacity.js';
import { CapacityGridResampler, meanDpdq_kPa_per_mAh, stepDp_MPa } from '../metrics/step.js';
import type { StepKind, StepRecord } from '../types.js';
import type { Boundary } from './types.js';

export interface Run {
  kind: StepKind;
  readonly tStart: number;
  tEnd: number;
  /** ∫|I| dt, mAh. */
  q: number;
  /** Charge passed in the charge (+) and discharge (−) directions, mAh. */
  qPos: number;
  qNeg: number;
  /** ∫I dt, mAh. */
  qSigned: number;
  /** Extremes inside the run; NaN until a sample came. */
  pMin: number;
  pMax: number;
  vMin: number;
  vMax: number;
  readonly start: Boundary;
  readonly curve: CapacityGridResampler | null;
  /** The cycler's step and cycle index when the run began (cycler step mode). */
  cyclerStep: number | undefined;
  cyclerCycle: number | undefined;
}

export interface RunCurveSettings {
  /** Capacity grid of the dP/dQ curve, mAh; 0 disables the curve. */
  readonly dpdqGrid_mAh: number;
  /** Most grid points kept per step. */
  readonly maxCurvePoints: number;
}

export function newRun(kind: StepKind, start: Boundary, s: RunCurveSettings, cyclerStep: number | undefined, cyclerCycle: number | undefined): Run {
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
    cyclerStep,
    cyclerCycle,
  };
}

/** Adds the charge of the current going linearly from ia at ta to ib at tb. */
export function addCharge(run: Run, ta: number, ia: number, tb: number, ib: number): void {
  const abs = absChargeLinear_mAh(ta, ia, tb, ib);
  const signed = signedChargeLinear_mAh(ta, ia, tb, ib);
  run.q += abs;
  run.qPos += (abs + signed) / 2;
  run.qNeg += (abs - signed) / 2;
  run.qSigned += signed;
  if (tb > run.tEnd) run.tEnd = tb;
}

/** A pressure sample inside the run; `q_mAh` is the run's charge at the sample's instant (for the curve). */
export function addPressure(run: Run, t: number, p: number, q_mAh: number): void {
  if (!(p >= run.pMin)) run.pMin = p;
  if (!(p <= run.pMax)) run.pMax = p;
  run.curve?.add(q_mAh, p, t);
}

export function addVoltage(run: Run, v: number): void {
  if (!(v >= run.vMin)) run.vMin = v;
  if (!(v <= run.vMax)) run.vMax = v;
}

/** A run too short to be a step (a glitch) becomes part of the step it interrupted. */
export function mergeGlitch(into: Run, g: Run): void {
  into.q += g.q;
  into.qPos += g.qPos;
  into.qNeg += g.qNeg;
  into.qSigned += g.qSigned;
  if (g.tEnd > into.tEnd) into.tEnd = g.tEnd;
  if (g.pMin < into.pMin || Number.isNaN(into.pMin)) into.pMin = g.pMin;
  if (g.pMax > into.pMax || Number.isNaN(into.pMax)) into.pMax = g.pMax;
  if (g.vMin < into.vMin || Number.isNaN(into.vMin)) into.vMin = g.vMin;
  if (g.vMax > into.vMax || Number.isNaN(into.vMax)) into.vMax = g.vMax;
}

/**
 * The kind of a run from the charge it carried (a cycler's step, whose kind the cycler does not say):
 * rest if its mean |I| is inside the deadband, else the direction that carried more charge. Undefined
 * while the run is open and shorter than `minDuration_ms` (too early to say).
 */
export function kindFromCharge(r: Run, closed: boolean, restCurrent_mA: number, minDuration_ms: number): StepKind | undefined {
  const d = r.tEnd - r.tStart;
  if (!closed && d < Math.max(1, minDuration_ms)) return undefined;
  const meanAbs = d > 0 ? (r.q * 3_600_000) / d : 0;
  return meanAbs <= restCurrent_mA ? 'rest' : r.qPos >= r.qNeg ? 'charge' : 'discharge';
}

/** A step record without its cycle (the cycle assembler decides that). */
export type StepDraft = Omit<StepRecord, 'cycle'>;

/** The step record of a closed run: its charge, its boundary pressures, extremes and curve. */
export function stepDraft(cell: string, seq: number, kind: StepKind, r: Run, end: Boundary): StepDraft {
  const duration_ms = end.t - r.tStart;
  const pStart = r.start.p;
  const pEnd = end.p;
  let pMin = r.pMin;
  let pMax = r.pMax;
  for (const p of [pStart, pEnd]) {
    if (p === undefined) continue;
    if (!(p >= pMin)) pMin = p;
    if (!(p <= pMax)) pMax = p;
  }
  const dp = stepDp_MPa(pStart, pEnd);
  const dpdq = meanDpdq_kPa_per_mAh(dp, r.q);
  const curve = r.curve !== null && r.curve.points.length > 1 ? r.curve.points : undefined;
  return {
    cell,
    step: seq,
    kind,
    tStart: r.tStart,
    tEnd: end.t,
    duration_s: duration_ms / 1000,
    q_mAh: r.q,
    qCharge_mAh: r.qPos,
    qDischarge_mAh: r.qNeg,
    iMean_mA: duration_ms > 0 ? (r.qSigned * 3_600_000) / duration_ms : 0,
    ...(pStart !== undefined ? { pStart_MPa: pStart } : {}),
    ...(pEnd !== undefined ? { pEnd_MPa: pEnd } : {}),
    ...(!Number.isNaN(pMin) ? { pMin_MPa: pMin } : {}),
    ...(!Number.isNaN(pMax) ? { pMax_MPa: pMax } : {}),
    ...(dp !== undefined ? { dp_MPa: dp } : {}),
    ...(dpdq !== undefined ? { dpdq_kPa_per_mAh: dpdq } : {}),
    ...(r.cyclerStep !== undefined ? { cyclerStep: r.cyclerStep } : {}),
    ...(!Number.isNaN(r.vMin) ? { vMin_V: r.vMin } : {}),
    ...(!Number.isNaN(r.vMax) ? { vMax_V: r.vMax } : {}),
    ...(curve !== undefined ? { curve } : {}),
    ...(r.cyclerCycle !== undefined ? { cyclerCycle: r.cyclerCycle } : {}),
  };
}
