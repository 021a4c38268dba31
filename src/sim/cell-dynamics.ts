/**
 * The state of one simulated cell and its physics over one tick (the cycler's current, electrochemistry,
 * pressure, the truth accumulators), with the cycling protocol left to the subclass `CellPhysics`
 * (cell-model.ts), which decides the phase transitions and the charge events. Pure, as cell-model.ts.
 */
import { Prng } from './prng.js';
import type { SimCellSpec } from './cell-spec.js';
import { KAPPA_MID, KAPPA_WIDTH, ncmOcv_V, ncmOcvSlope_V, oneC_mA } from './ocv.js';

// ---------------------------------------------------------------------------------------------
// The protocol's phases (CellPhysics moves between them)
// ---------------------------------------------------------------------------------------------

export const PH_INITIAL_REST = 0;
export const PH_CC = 1;
export const PH_CV = 2;
export const PH_REST_CHARGED = 3;
export const PH_DISCHARGE = 4;
export const PH_REST_DISCHARGED = 5;
export const PH_SHORTED = 6;
export const PH_ABORT_REST = 7;
export type Phase = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/**
 * Per-cycle ground truth, computed from the model's noise-free values. Times are true (reference-clock)
 * epoch ms: a device's timestamps are true time + its clock offset (+ jitter). Cycle n = charge step,
 * rest, discharge step, rest; `tStart` is the start of the charge, `tEnd` the end of the rest after discharge.
 */
export interface SimCycleTruth {
  readonly cell: string;
  /** Cycle number, from 1. */
  readonly cycle: number;
  /** C-rate of the cycle. */
  readonly rate_C: number;
  readonly tStart: number;
  /** End of the charge step (CC + CV), epoch ms. */
  readonly tChargeEnd: number;
  /** End of the discharge step, epoch ms (NaN if the cycle was aborted before discharging). */
  readonly tDischargeEnd: number;
  readonly tEnd: number;
  /** Exact integral of the model's charge current over the cycle, mAh. */
  readonly qCharge_mAh: number;
  /** Exact integral of the model's discharge current (magnitude) over the cycle, mAh. */
  readonly qDischarge_mAh: number;
  /** Specific discharge capacity, mAh/g. */
  readonly qDischarge_mAh_g: number;
  /** Coulombic efficiency qDischarge / qCharge. */
  readonly ce: number;
  /** True pressure at the cycle start, MPa. */
  readonly pStart_MPa: number;
  /** True pressure at the end of the charge step, MPa. */
  readonly pEndCharge_MPa: number;
  /** True pressure at the end of the discharge step, MPa (NaN if aborted). */
  readonly pEndDischarge_MPa: number;
  /** True pressure at the cycle end, MPa. */
  readonly pEnd_MPa: number;
  /** Minimum / maximum true pressure over the cycle (on the physics grid), MPa. */
  readonly pMin_MPa: number;
  readonly pMax_MPa: number;
  /** Δ(ΔP) = pEndCharge − pEndDischarge, MPa. */
  readonly ddp_MPa: number;
  /** Δ(ΔP_Q) = Δ(ΔP) / (qDischarge[A·h] / m[g]), MPa·g/(A·h) (NaN if nothing was discharged). */
  readonly ddpQ_MPa_g_per_Ah: number;
  /** The model's plating coefficient for this cycle, MPa·g/(A·h). */
  readonly platingCoefficient_MPa_g_per_Ah: number;
  /** Pressure-drop events (penetration, hard short) during the charge step. */
  readonly pressureDrops: number;
  /** True time of the first pressure drop in the cycle, epoch ms (null if none). */
  readonly firstDrop_ts: number | null;
  /** Soft-short resistance during the cycle, kΩ (Infinity if none). */
  readonly shortResistance_kohm: number;
  /** A hard short happened in this cycle. */
  readonly hardShort: boolean;
  /** The cycler aborted the test in this cycle (no discharge). */
  readonly aborted: boolean;
}

/** The state and the physics of {@link CellPhysics}; the protocol is its subclass's. */
export abstract class CellDynamics {
  /** Tick start, true epoch ms. */
  tA: number;
  /** Tick end, true epoch ms. */
  tB: number;
  /** External (cycler) current during the tick, mA, positive = charge. */
  current_mA = 0;
  /** Terminal voltage at tA⁺ and tB⁻, V (noise-free). */
  vA = 0;
  vB = 0;
  /** Stack pressure at tA and tB, MPa (noise-free). */
  pA: number;
  pB: number;
  /** Extra voltage noise the cell itself causes now (shorts), V (1 σ). */
  vNoiseExtra_V = 0;
  /** True when this tick is the last one: the run ends at tB. */
  isLast = false;

  protected readonly spec: SimCellSpec;
  protected readonly cycles: number;
  protected readonly onCycle: ((truth: SimCycleTruth) => void) | undefined;
  protected readonly rng: Prng;
  protected readonly startTs: number;
  protected readonly dtMs: number;
  protected readonly dtS: number;
  protected readonly i1C_mA: number;
  protected readonly qcap0_mAh: number;
  protected readonly eDiff: number;
  protected readonly eRelax: number;
  protected readonly thermalOmega_per_ms: number;
  protected readonly thermalPhase: number;
  protected readonly refCycle: number;

  // electrochemical state
  protected theta = 0;
  protected delta = 0;
  protected vLast: number;
  protected ionPrev_mA = 0;
  protected vOffset_V = 0;
  protected hardShorted = false;
  // pressure state
  protected sElastic_MPa = 0;
  protected eVisco_MPa = 0;
  protected dropRemaining_s = 0;
  protected dropRate_MPa_per_s = 0;
  protected holdRemaining_s = 0;
  protected filament_mAh = 0;
  // protocol state
  protected phase: Phase = PH_INITIAL_REST;
  protected phaseElapsed_s = 0;
  protected cvElapsed_s = 0;
  protected cycle = 0;
  protected rateC = 0;
  protected ccCurrent_mA = 0;
  protected ccLimit_s = 0;
  protected cvLimit_s = 0;
  protected cvCutoff_mA = 0;
  protected qcap_mAh: number;
  protected fPar = 0;
  protected kPlate = 0;
  protected rShort_kohm = Infinity;
  protected stepCharge_mAh = 0;
  protected expectedCharge_mAh: number;
  protected dropPlanned = false;
  protected dropTrigger_mAh = Infinity;
  protected dropAmplitude_MPa = 0;
  protected hardTrigger_mAh = Infinity;
  // cycle accumulators
  protected cStart = 0;
  protected cChargeEnd = NaN;
  protected cDischargeEnd = NaN;
  protected cQch = 0;
  protected cQdis = 0;
  protected cPStart = 0;
  protected cPEndCharge = NaN;
  protected cPEndDischarge = NaN;
  protected cPMin = Infinity;
  protected cPMax = -Infinity;
  protected cDrops = 0;
  protected cFirstDrop: number | null = null;
  protected cHard = false;

  /**
   * @param spec a valid cell spec.
   * @param seed the model's own seed (event timing, cycle scatter, thermal phase).
   * @param startTs true start time, epoch ms.
   * @param cycles number of full cycles to run (integer ≥ 0).
   * @param onCycle called once per completed cycle with its ground truth.
   */
  constructor(spec: SimCellSpec, seed: number, startTs: number, cycles: number, onCycle?: (truth: SimCycleTruth) => void) {
    this.spec = spec;
    this.cycles = cycles;
    this.onCycle = onCycle;
    this.rng = new Prng(seed);
    this.startTs = startTs;
    this.dtS = spec.physicsStep_s;
    this.dtMs = spec.physicsStep_s * 1000;
    this.i1C_mA = oneC_mA(spec);
    this.qcap0_mAh = spec.ocvCapacity_mAh_g * spec.activeMass_g;
    this.qcap_mAh = this.qcap0_mAh;
    this.expectedCharge_mAh = spec.nominalSpecificCapacity_mAh_g * spec.activeMass_g;
    this.eDiff = Math.exp(-this.dtS / spec.diffusionTau_s);
    this.eRelax = Math.exp(-this.dtS / spec.relaxationTau_s);
    this.thermalOmega_per_ms = (2 * Math.PI) / (spec.thermalDriftPeriod_s * 1000);
    this.thermalPhase = this.rng.range(0, 2 * Math.PI);
    this.refCycle = spec.formationCycles + 1;
    this.vLast = ncmOcv_V(0);
    this.tA = startTs - this.dtMs;
    this.tB = startTs;
    this.pB = this.pressureAt(startTs);
    this.pA = this.pB;
    this.cPStart = this.pB;
    this.enterInitialRest();
    this.advance();
  }

  /** Advances to the next tick. Must not be called once {@link CellPhysics.isLast} is true. */
  step(): void {
    if (this.isLast) throw new Error('CellPhysics.step() past the end of the run');
    this.advance();
  }

  protected advance(): void {
    this.tA = this.tB;
    this.tB = this.tA + this.dtMs;
    this.computeTick();
  }

  /** Noise-free stack pressure at true time t within the current tick (linear between the tick ends), MPa. */
  pressureWithin(t: number): number {
    return this.pA + ((this.pB - this.pA) * (t - this.tA)) / this.dtMs;
  }

  /** Noise-free terminal voltage at true time t within the current tick, V. */
  voltageWithin(t: number): number {
    return this.vA + ((this.vB - this.vA) * (t - this.tA)) / this.dtMs;
  }

  protected pressureAt(t: number): number {
    const s = this.spec;
    return (
      s.basePressure_MPa +
      this.sElastic_MPa +
      this.eVisco_MPa +
      s.thermalDriftAmplitude_MPa * Math.sin(this.thermalOmega_per_ms * (t - this.startTs) + this.thermalPhase)
    );
  }

  protected kappa(theta: number): number {
    const s = this.spec;
    return s.diffusionLagCharged_per_C + (s.diffusionLagLithiated_per_C - s.diffusionLagCharged_per_C) / (1 + Math.exp((theta - KAPPA_MID) / KAPPA_WIDTH));
  }

  protected computeTick(): void {
    const dt = this.dtS;
    const iShort = this.rShort_kohm === Infinity ? 0 : (this.vLast > 0 ? this.vLast : 0) / this.rShort_kohm;
    const current = this.cyclerCurrent(iShort);
    this.advanceElectrochemistry(current, iShort);
    this.advancePressure(current);

    // 4. Truth accumulators.
    if (current > 0) this.cQch += (current * dt) / 3600;
    else if (current < 0) this.cQdis -= (current * dt) / 3600;
    if (this.pB < this.cPMin) this.cPMin = this.pB;
    if (this.pB > this.cPMax) this.cPMax = this.pB;

    this.protocolTransition(current);
  }

  /** 1. The cycler's current for this tick, mA. */
  protected cyclerCurrent(iShort: number): number {
    switch (this.phase) {
      case PH_CC: {
        const current = this.ccCurrent_mA; // before chargeEvents, which may change it
        this.chargeEvents();
        return current;
      }
      case PH_CV:
        this.chargeEvents();
        return this.hardShorted ? this.ccCurrent_mA : this.solveCv(iShort);
      case PH_SHORTED:
        return this.ccCurrent_mA;
      case PH_DISCHARGE:
        return -this.ccCurrent_mA;
      default:
        return 0;
    }
  }

  /** 2. Electrochemistry over one tick at the cycler's `current` and a soft short's internal current `iShort`, mA. */
  protected advanceElectrochemistry(current: number, iShort: number): void {
    const s = this.spec;
    const dt = this.dtS;
    this.current_mA = current;
    const ion = this.hardShorted ? 0 : current - iShort;
    this.ionPrev_mA = ion;
    const theta0 = this.theta;
    const delta0 = this.delta;
    const ir = ion * s.ohmicResistance_ohm * 1e-3;
    this.vA = ncmOcv_V(theta0 + delta0) + ir + this.vOffset_V;
    const stored = ion > 0 ? ion * (1 - this.fPar) : ion;
    this.theta = theta0 + (stored * dt) / (3600 * this.qcap_mAh);
    this.delta = delta0 * this.eDiff + this.kappa(theta0) * (ion / this.i1C_mA) * (1 - this.eDiff);
    this.vB = ncmOcv_V(this.theta + this.delta) + ir + this.vOffset_V;
    this.vLast = this.vB;
    if (this.hardShorted) this.vNoiseExtra_V = s.hardShort ? s.hardShort.voltageNoise_V : 0;
    else if (iShort > 0 && s.softShort) {
      const sev = this.ccCurrent_mA > 0 ? iShort / this.ccCurrent_mA : 1;
      this.vNoiseExtra_V = s.softShort.voltageNoise_V * (sev > 1 ? 1 : sev);
    } else this.vNoiseExtra_V = 0;
  }

  /** 3. Pressure over one tick at the cycler's `current`, mA. */
  protected advancePressure(current: number): void {
    const s = this.spec;
    const dt = this.dtS;
    // The stack sees the Li the cycler moves: a soft short's internal current exchanges Li
    // through the filament inside the electrolyte, and a hard-shorted cell moves none through the stack.
    const dq_mAh = this.hardShorted ? 0 : (current * dt) / 3600;
    let dPlate_mAh = dq_mAh;
    let dP = 0;
    if (dq_mAh > 0) {
      if (this.holdRemaining_s > 0) {
        const pen = s.penetration;
        dP = (this.kPlate * (pen ? pen.postDropRateFraction : 0) * dq_mAh) / (1000 * s.activeMass_g);
        this.filament_mAh += dq_mAh;
        this.holdRemaining_s -= dt;
        dPlate_mAh = 0;
      }
    } else if (dq_mAh < 0 && this.filament_mAh > 0) {
      const f = -dq_mAh < this.filament_mAh ? -dq_mAh : this.filament_mAh;
      this.filament_mAh -= f;
      dPlate_mAh += f;
    }
    dP += (this.kPlate * dPlate_mAh) / (1000 * s.activeMass_g);
    let drop = 0;
    if (this.dropRemaining_s > 0) {
      const d = dt < this.dropRemaining_s ? dt : this.dropRemaining_s;
      drop = this.dropRate_MPa_per_s * d;
      this.dropRemaining_s -= d;
    }
    const beta = s.relaxationFraction;
    this.sElastic_MPa += dP - drop;
    this.eVisco_MPa = this.eVisco_MPa * this.eRelax + beta * dP;
    this.pA = this.pB;
    this.pB = this.pressureAt(this.tB);
  }

  /** Current (mA) that holds the terminal voltage at the CV setpoint at the end of this tick. */
  protected solveCv(iShort: number): number {
    const s = this.spec;
    const target = s.chargeCutoff_V - this.vOffset_V;
    const a = ((1 - this.fPar) * this.dtS) / (3600 * this.qcap_mAh);
    const b = (this.kappa(this.theta) * (1 - this.eDiff)) / this.i1C_mA;
    const base = this.theta + this.delta * this.eDiff;
    const r = s.ohmicResistance_ohm * 1e-3;
    const ab = a + b;
    let x = this.ionPrev_mA > 0 ? this.ionPrev_mA : 0;
    for (let it = 0; it < 6; it++) {
      const th = base + ab * x;
      const g = ncmOcv_V(th) + x * r - target;
      const dx = g / (ncmOcvSlope_V(th) * ab + r);
      x -= dx;
      if (dx < 1e-12 && dx > -1e-12) break;
    }
    if (!(x > 0)) x = 0;
    let current = x + iShort;
    if (current > this.ccCurrent_mA) current = this.ccCurrent_mA;
    return current;
  }

  /** 5. Protocol transitions at tB, after a tick at the cycler's `current`, mA. */
  protected abstract protocolTransition(current: number): void;
  /** Penetration drops and the hard short, triggered by the charge passed in the step. */
  protected abstract chargeEvents(): void;
  /** The rest before the first cycle (or the end, with no cycles). */
  protected abstract enterInitialRest(): void;
}
