/**
 * The physical model of one simulated NCM | Li6PS5Cl | Li all-solid-state full cell in a 13 mm mold,
 * with a load cell under the stack (operando electrochemical pressiometry, OEP).
 *
 * Pure code: no I/O, no clock, no `Math.random()`. Time comes from the caller, randomness from
 * {@link Prng}. The numbers follow Lim et al., Adv. Energy Mater. 2024 (DOI 10.1002/aenm.202303762),
 * OEP section and Figure 5; see `/work/shared/oep-method.md`.
 *
 * Model summary (one tick = {@link SimCellSpec.physicsStep_s}, the current is constant within a tick):
 * - Cathode state θ = stored charge / (ocvCapacity × mass), θ = 0 is the pristine lithiated NCM.
 *   Terminal voltage V = U(θ + δ) + I_ion·R, where U is a smooth NCM-vs-Li OCV curve
 *   ({@link ncmOcv_V}) and δ is a first-order "diffusion lag" (surface vs bulk state) relaxing with
 *   time constant τ_d toward κ(θ)·(I_ion / I_1C). κ is large near full lithiation (slow lithiation at
 *   the end of discharge), which makes the discharge capacity rate dependent (≈157 mAh/g at 0.1C,
 *   ≈121 mAh/g at 0.3C) and makes the first-cycle CE ≈ 0.88 (the pristine cathode cannot be fully
 *   relithiated), as in the paper.
 * - Protocol: initial rest, then per cycle CC charge to 4.3 V, CV at 4.3 V until I ≤ C/20 (the CV
 *   current is solved each tick, so it decays smoothly), rest, CC discharge to 3.0 V, rest.
 *   Formation cycles run at 0.1C, later cycles at 0.3C.
 * - A fraction of the charge current feeds parasitic oxidation (not stored: CE < 1) but still plates
 *   Li on the anode, so the stack ratchets up slightly each cycle (≈ +0.01 MPa/cycle at CE 0.995).
 * - Pressure: every mAh moved through the electrolyte changes the stack pressure by
 *   k_n [MPa·g/(A·h)] × Q[A·h] / m[g] (plating raises it, stripping lowers it); k_n is the cycle's
 *   plating coefficient and therefore ≈ the cycle's Δ(ΔP_Q). A small fraction β of every pressure
 *   change overshoots and relaxes exponentially (visible in rests); a slow sinusoidal thermal
 *   drift is added.
 * - Penetration: from an onset cycle k_n declines faster; during charge the stack pressure drops
 *   suddenly (a crack opens), then Li plates into the electrolyte for a while (pressure creeps down
 *   instead of rising). Optional soft short (a parallel resistance that shrinks every cycle: CE falls,
 *   charge capacity grows, CV never reaches C/20, noisy voltage) and hard short (sudden voltage drop
 *   during charge, the cycler aborts the test).
 */

import { Prng } from './prng.js';
import { STANDARD_GRAVITY_M_S2 } from './cell-defaults.js';
import type { SimCellSpec } from './cell-spec.js';

// OCV curve of NCM vs Li (θ = delithiated fraction of the OCV capacity).
const OCV_U0_V = 3.66;
const OCV_A1_V = 0.2;
const OCV_A2_V = 0.44;
const OCV_EDGE_V = 0.5;
const OCV_EDGE_WIDTH = 0.012;
const OCV_THETA_MIN = -0.03;
const OCV_THETA_MAX = 1.3;
// κ(θ) sigmoid between the lithiated and the charged value.
const KAPPA_MID = 0.5;
const KAPPA_WIDTH = 0.07;

// ---------------------------------------------------------------------------------------------
// Derived quantities
// ---------------------------------------------------------------------------------------------

/** The 1C current, mA: nominal specific capacity × active mass (3.222 mA by default). */
export function oneC_mA(spec: Pick<SimCellSpec, 'nominalSpecificCapacity_mAh_g' | 'activeMass_g'>): number {
  return spec.nominalSpecificCapacity_mAh_g * spec.activeMass_g;
}

/** Pressure of one load-cell count, MPa: resolution[kgf] × 9.80665 / area[mm²] (0.00739 MPa by default). */
export function pressurePerCount_MPa(spec: Pick<SimCellSpec, 'area_mm2' | 'loadCellResolution_kgf'>): number {
  return (spec.loadCellResolution_kgf * STANDARD_GRAVITY_M_S2) / spec.area_mm2;
}

/** Force on the load cell to stack pressure: P[MPa] = kgf × 9.80665 / A[mm²]. */
export function kgfToMPa(force_kgf: number, area_mm2: number): number {
  return (force_kgf * STANDARD_GRAVITY_M_S2) / area_mm2;
}

/** Stack pressure to load-cell force: kgf = P[MPa] × A[mm²] / 9.80665. */
export function mpaToKgf(pressure_MPa: number, area_mm2: number): number {
  return (pressure_MPa * area_mm2) / STANDARD_GRAVITY_M_S2;
}

/**
 * Open-circuit voltage of NCM vs Li/Li⁺, V, as a function of θ (fraction of the OCV capacity delithiated).
 * Smooth and strictly increasing: ≈3.16 V for the pristine cathode (θ = 0), 3.69 V at θ = 0.1, 3.92 V at 0.58,
 * 4.30 V at θ = 1; a steep exponential edge below θ ≈ 0.03 (full lithiation). θ is clamped to [−0.03, 1.3].
 */
export function ncmOcv_V(theta: number): number {
  const t = theta < OCV_THETA_MIN ? OCV_THETA_MIN : theta > OCV_THETA_MAX ? OCV_THETA_MAX : theta;
  return OCV_U0_V + t * (OCV_A1_V + OCV_A2_V * t) - OCV_EDGE_V * Math.exp(-t / OCV_EDGE_WIDTH);
}

/** dU/dθ of {@link ncmOcv_V}, V per unit θ (evaluated at the clamped θ, always > 0). */
export function ncmOcvSlope_V(theta: number): number {
  const t = theta < OCV_THETA_MIN ? OCV_THETA_MIN : theta > OCV_THETA_MAX ? OCV_THETA_MAX : theta;
  return OCV_A1_V + 2 * OCV_A2_V * t + (OCV_EDGE_V / OCV_EDGE_WIDTH) * Math.exp(-t / OCV_EDGE_WIDTH);
}

// ---------------------------------------------------------------------------------------------
// Ground truth
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Dynamic model
// ---------------------------------------------------------------------------------------------

const PH_INITIAL_REST = 0;
const PH_CC = 1;
const PH_CV = 2;
const PH_REST_CHARGED = 3;
const PH_DISCHARGE = 4;
const PH_REST_DISCHARGED = 5;
const PH_SHORTED = 6;
const PH_ABORT_REST = 7;
type Phase = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/**
 * The noise-free dynamic model of one cell, advanced tick by tick on a fixed grid
 * (t_k = startTs + k·physicsStep). After construction and after each {@link CellPhysics.step},
 * the fields describe the tick [tA, tB): the external current `current_mA` (constant over the tick),
 * and the voltage and pressure at both ends (linear in between). Deterministic: two instances built
 * with the same spec, seed and start time evolve identically, whatever their callers do.
 *
 * Used by the simulator; exported for tests and for tools that want the model without sensors.
 */
export class CellPhysics {
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

  private readonly spec: SimCellSpec;
  private readonly cycles: number;
  private readonly onCycle: ((truth: SimCycleTruth) => void) | undefined;
  private readonly rng: Prng;
  private readonly startTs: number;
  private readonly dtMs: number;
  private readonly dtS: number;
  private readonly i1C_mA: number;
  private readonly qcap0_mAh: number;
  private readonly eDiff: number;
  private readonly eRelax: number;
  private readonly thermalOmega_per_ms: number;
  private readonly thermalPhase: number;
  private readonly refCycle: number;

  // electrochemical state
  private theta = 0;
  private delta = 0;
  private vLast: number;
  private ionPrev_mA = 0;
  private vOffset_V = 0;
  private hardShorted = false;
  // pressure state
  private sElastic_MPa = 0;
  private eVisco_MPa = 0;
  private dropRemaining_s = 0;
  private dropRate_MPa_per_s = 0;
  private holdRemaining_s = 0;
  private filament_mAh = 0;
  // protocol state
  private phase: Phase = PH_INITIAL_REST;
  private phaseElapsed_s = 0;
  private cvElapsed_s = 0;
  private cycle = 0;
  private rateC = 0;
  private ccCurrent_mA = 0;
  private ccLimit_s = 0;
  private cvLimit_s = 0;
  private cvCutoff_mA = 0;
  private qcap_mAh: number;
  private fPar = 0;
  private kPlate = 0;
  private rShort_kohm = Infinity;
  private stepCharge_mAh = 0;
  private expectedCharge_mAh: number;
  private dropPlanned = false;
  private dropTrigger_mAh = Infinity;
  private dropAmplitude_MPa = 0;
  private hardTrigger_mAh = Infinity;
  // cycle accumulators
  private cStart = 0;
  private cChargeEnd = NaN;
  private cDischargeEnd = NaN;
  private cQch = 0;
  private cQdis = 0;
  private cPStart = 0;
  private cPEndCharge = NaN;
  private cPEndDischarge = NaN;
  private cPMin = Infinity;
  private cPMax = -Infinity;
  private cDrops = 0;
  private cFirstDrop: number | null = null;
  private cHard = false;

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

  private advance(): void {
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

  private pressureAt(t: number): number {
    const s = this.spec;
    return (
      s.basePressure_MPa +
      this.sElastic_MPa +
      this.eVisco_MPa +
      s.thermalDriftAmplitude_MPa * Math.sin(this.thermalOmega_per_ms * (t - this.startTs) + this.thermalPhase)
    );
  }

  private kappa(theta: number): number {
    const s = this.spec;
    return s.diffusionLagCharged_per_C + (s.diffusionLagLithiated_per_C - s.diffusionLagCharged_per_C) / (1 + Math.exp((theta - KAPPA_MID) / KAPPA_WIDTH));
  }

  private computeTick(): void {
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
  private cyclerCurrent(iShort: number): number {
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
  private advanceElectrochemistry(current: number, iShort: number): void {
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
  private advancePressure(current: number): void {
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

  /** 5. Protocol transitions at tB, after a tick at the cycler's `current`, mA. */
  private protocolTransition(current: number): void {
    const s = this.spec;
    const dt = this.dtS;
    this.phaseElapsed_s += dt;
    switch (this.phase) {
      case PH_INITIAL_REST:
        if (this.phaseElapsed_s >= s.initialRest_s) this.afterInitialRest();
        break;
      case PH_CC:
        this.stepCharge_mAh += (current * dt) / 3600;
        if (this.hardShorted) this.enterPhase(PH_SHORTED);
        else if (this.vB >= s.chargeCutoff_V) {
          this.cvElapsed_s = 0;
          this.enterPhase(PH_CV);
        } else if (this.phaseElapsed_s >= this.ccLimit_s) this.endCharge();
        break;
      case PH_CV:
        this.stepCharge_mAh += (current * dt) / 3600;
        this.cvElapsed_s += dt;
        if (this.hardShorted) this.enterPhase(PH_SHORTED);
        else if (current <= this.cvCutoff_mA || this.cvElapsed_s >= this.cvLimit_s) this.endCharge();
        break;
      case PH_SHORTED:
        if (this.phaseElapsed_s >= (s.hardShort ? s.hardShort.abortAfter_s : 0)) {
          this.markChargeEnd();
          this.enterPhase(PH_ABORT_REST);
          this.skipEmptyAbortRest();
        }
        break;
      case PH_ABORT_REST:
        if (this.phaseElapsed_s >= (s.hardShort ? s.hardShort.postAbortRest_s : 0)) this.finishCycle(true);
        break;
      case PH_REST_CHARGED:
        if (this.phaseElapsed_s >= s.restAfterCharge_s) this.enterPhase(PH_DISCHARGE);
        break;
      case PH_DISCHARGE:
        if (this.vB <= s.dischargeCutoff_V || this.phaseElapsed_s >= this.ccLimit_s) this.endDischarge();
        break;
      case PH_REST_DISCHARGED:
        if (this.phaseElapsed_s >= s.restAfterDischarge_s) this.finishCycle(false);
        break;
    }
  }

  /** Penetration drops and the hard short are triggered by the charge passed in the step. */
  private chargeEvents(): void {
    if (this.dropPlanned && this.stepCharge_mAh >= this.dropTrigger_mAh) {
      this.dropPlanned = false;
      const pen = this.spec.penetration;
      if (pen) {
        this.startDrop(this.dropAmplitude_MPa, pen.dropDuration_s);
        this.holdRemaining_s = pen.dropHold_s;
      }
    }
    const hs = this.spec.hardShort;
    if (hs && !this.hardShorted && this.stepCharge_mAh >= this.hardTrigger_mAh) {
      this.hardShorted = true;
      this.cHard = true;
      this.vOffset_V = -hs.voltageDrop_V;
      this.startDrop(hs.pressureDrop_kPa / 1000, Math.min(this.dtS * 5, 5));
    }
  }

  private startDrop(amplitude_MPa: number, duration_s: number): void {
    const d = duration_s > 0 ? duration_s : this.dtS;
    this.dropRemaining_s = d;
    this.dropRate_MPa_per_s = amplitude_MPa / d;
    this.cDrops++;
    this.cFirstDrop ??= this.tA;
  }

  /** Current (mA) that holds the terminal voltage at the CV setpoint at the end of this tick. */
  private solveCv(iShort: number): number {
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

  private enterPhase(p: Phase): void {
    this.phase = p;
    this.phaseElapsed_s = 0;
  }

  private enterInitialRest(): void {
    this.enterPhase(PH_INITIAL_REST);
    if (this.spec.initialRest_s <= 0) this.afterInitialRest();
  }

  private afterInitialRest(): void {
    if (this.cycles <= 0) {
      this.isLast = true;
      return;
    }
    this.startCycle();
  }

  private startCycle(): void {
    const s = this.spec;
    const n = ++this.cycle;
    this.rateC = n <= s.formationCycles ? s.formationRate_C : s.rate_C;
    this.ccCurrent_mA = this.rateC * this.i1C_mA;
    this.cvCutoff_mA = s.cvCutoff_C * this.i1C_mA;
    this.ccLimit_s = (s.ccTimeLimit_h_per_inv_C * 3600) / this.rateC;
    this.cvLimit_s = (s.cvTimeLimit_h_per_inv_C * 3600) / this.rateC;
    // Capacity fade rescales θ so that the stored charge is conserved.
    const newCap = this.qcap0_mAh * Math.max(0.05, 1 - s.capacityFadePerCycle * (n - 1));
    this.theta *= this.qcap_mAh / newCap;
    this.qcap_mAh = newCap;
    this.fPar = s.parasiticFractionLate + (s.parasiticFractionFirst - s.parasiticFractionLate) * Math.exp(-(n - 1));
    // Fixed number of draws per cycle, whatever the branches: the stream stays aligned.
    const gK = this.rng.gaussian();
    const uDrop = this.rng.uniform();
    const fDrop = this.rng.range(0.25, 0.6);
    const pen = s.penetration;
    let k = s.ddpQ_MPa_g_per_Ah + s.ddpQDrift_MPa_g_per_Ah_per_cycle * (n - this.refCycle);
    if (pen && n >= pen.onsetCycle) k += pen.ddpQDecline_MPa_g_per_Ah_per_cycle * (n - pen.onsetCycle + 1);
    k *= 1 + s.ddpQCycleNoise_rel * gK;
    const kMin = 0.1 * Math.abs(s.ddpQ_MPa_g_per_Ah);
    this.kPlate = k > kMin ? k : kMin;
    this.dropPlanned = pen !== null && n >= pen.onsetCycle && uDrop < pen.dropProbability;
    this.dropTrigger_mAh = fDrop * this.expectedCharge_mAh;
    if (pen) {
      const amp = pen.dropAmplitude_kPa + pen.dropGrowth_kPa_per_cycle * (n - pen.onsetCycle);
      this.dropAmplitude_MPa = Math.max(0, Math.min(pen.dropMaxAmplitude_kPa, amp)) / 1000;
    }
    const hs = s.hardShort;
    this.hardTrigger_mAh = hs?.cycle === n ? hs.chargeFraction * this.expectedCharge_mAh : Infinity;
    const ss = s.softShort;
    this.rShort_kohm = ss && n >= ss.onsetCycle ? ss.initialResistance_kohm * Math.pow(2, -(n - ss.onsetCycle) / ss.halvingCycles) : Infinity;
    this.stepCharge_mAh = 0;
    this.holdRemaining_s = 0;
    // Cycle accumulators.
    this.cStart = this.tB;
    this.cChargeEnd = NaN;
    this.cDischargeEnd = NaN;
    this.cQch = 0;
    this.cQdis = 0;
    this.cPStart = this.pB;
    this.cPEndCharge = NaN;
    this.cPEndDischarge = NaN;
    this.cPMin = this.pB;
    this.cPMax = this.pB;
    this.cDrops = 0;
    this.cFirstDrop = null;
    this.cHard = false;
    this.enterPhase(PH_CC);
  }

  private markChargeEnd(): void {
    this.cChargeEnd = this.tB;
    this.cPEndCharge = this.pB;
    this.holdRemaining_s = 0;
    this.dropPlanned = false;
  }

  private endCharge(): void {
    this.markChargeEnd();
    this.enterPhase(PH_REST_CHARGED);
    if (this.spec.restAfterCharge_s <= 0) this.enterPhase(PH_DISCHARGE);
  }

  private endDischarge(): void {
    this.cDischargeEnd = this.tB;
    this.cPEndDischarge = this.pB;
    this.expectedCharge_mAh = this.cQdis > 0 ? this.cQdis : this.expectedCharge_mAh;
    this.enterPhase(PH_REST_DISCHARGED);
    if (this.spec.restAfterDischarge_s <= 0) this.finishCycle(false);
  }

  private skipEmptyAbortRest(): void {
    const hs = this.spec.hardShort;
    if (!hs || hs.postAbortRest_s <= 0) this.finishCycle(true);
  }

  private finishCycle(aborted: boolean): void {
    const s = this.spec;
    const m = s.activeMass_g;
    const ddp = this.cPEndCharge - this.cPEndDischarge;
    const truth: SimCycleTruth = {
      cell: s.id,
      cycle: this.cycle,
      rate_C: this.rateC,
      tStart: this.cStart,
      tChargeEnd: this.cChargeEnd,
      tDischargeEnd: this.cDischargeEnd,
      tEnd: this.tB,
      qCharge_mAh: this.cQch,
      qDischarge_mAh: this.cQdis,
      qDischarge_mAh_g: this.cQdis / m,
      ce: this.cQch > 0 ? this.cQdis / this.cQch : NaN,
      pStart_MPa: this.cPStart,
      pEndCharge_MPa: this.cPEndCharge,
      pEndDischarge_MPa: this.cPEndDischarge,
      pEnd_MPa: this.pB,
      pMin_MPa: this.cPMin,
      pMax_MPa: this.cPMax,
      ddp_MPa: ddp,
      ddpQ_MPa_g_per_Ah: this.cQdis > 0 ? ddp / (this.cQdis / 1000 / m) : NaN,
      platingCoefficient_MPa_g_per_Ah: this.kPlate,
      pressureDrops: this.cDrops,
      firstDrop_ts: this.cFirstDrop,
      shortResistance_kohm: this.rShort_kohm,
      hardShort: this.cHard,
      aborted,
    };
    if (aborted || this.cycle >= this.cycles) this.isLast = true;
    else this.startCycle();
    if (this.onCycle) this.onCycle(truth);
  }
}
