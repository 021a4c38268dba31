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

import {
  CellDynamics,
  type SimCycleTruth,
  PH_ABORT_REST,
  PH_CC,
  PH_CV,
  PH_DISCHARGE,
  PH_INITIAL_REST,
  PH_REST_CHARGED,
  PH_REST_DISCHARGED,
  PH_SHORTED,
  type Phase,
} from './cell-dynamics.js';

export { kgfToMPa, mpaToKgf, ncmOcv_V, ncmOcvSlope_V, oneC_mA, pressurePerCount_MPa } from './ocv.js';
export type { SimCycleTruth } from './cell-dynamics.js';

/**
 * The noise-free dynamic model of one cell, advanced tick by tick on a fixed grid
 * (t_k = startTs + k·physicsStep). After construction and after each {@link CellPhysics.step},
 * the fields describe the tick [tA, tB): the external current `current_mA` (constant over the tick),
 * and the voltage and pressure at both ends (linear in between). Deterministic: two instances built
 * with the same spec, seed and start time evolve identically, whatever their callers do.
 *
 * Used by the simulator; exported for tests and for tools that want the model without sensors.
 */
export class CellPhysics extends CellDynamics {
  /** 5. Protocol transitions at tB, after a tick at the cycler's `current`, mA. */
  protected override protocolTransition(current: number): void {
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
  protected override chargeEvents(): void {
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

  private enterPhase(p: Phase): void {
    this.phase = p;
    this.phaseElapsed_s = 0;
  }

  protected override enterInitialRest(): void {
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
