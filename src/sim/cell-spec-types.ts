/**
 * The shape of a simulated cell's spec: what it is (mass, mold, protocol, sensors) and what happens to it
 * (penetration, soft and hard short), every field with its unit. cell-spec.ts gives the defaults and the
 * validation.
 */

/** Units a simulated load cell can publish pressure in. */
export type SimPressureUnit = 'MPa' | 'kgf';

/** Li penetration into the electrolyte (the road to a short). */
export interface PenetrationSpec {
  /** First cycle (1-based) with penetration. */
  readonly onsetCycle: number;
  /** Extra change of the plating coefficient per cycle from the onset, MPa·g/(A·h) (negative = decline). */
  readonly ddpQDecline_MPa_g_per_Ah_per_cycle: number;
  /** Probability, per charge step from the onset, of a pressure drop event. */
  readonly dropProbability: number;
  /** Size of the first drop, kPa (one sensor count is 7.4 kPa). */
  readonly dropAmplitude_kPa: number;
  /** Growth of the drop size per cycle after the onset, kPa. */
  readonly dropGrowth_kPa_per_cycle: number;
  /** Cap on the drop size, kPa. */
  readonly dropMaxAmplitude_kPa: number;
  /** Duration of the drop ramp, s. */
  readonly dropDuration_s: number;
  /** After a drop, Li plates into the electrolyte for this long (while charging), s. */
  readonly dropHold_s: number;
  /** Pressure response during the hold relative to normal plating (−0.1 = creeps down at 10 % of the normal rise rate). */
  readonly postDropRateFraction: number;
}

/** A soft short: a parallel electronic path whose resistance halves every `halvingCycles` cycles. */
export interface SoftShortSpec {
  /** First cycle with the short. */
  readonly onsetCycle: number;
  /** Short resistance at the onset cycle, kΩ (400 kΩ draws 0.01 mA at 4 V, ≈ 1 % of 0.3C: CE ≈ 0.95). */
  readonly initialResistance_kohm: number;
  /** Cycles over which the resistance halves. */
  readonly halvingCycles: number;
  /** Extra voltage noise at full severity (short current ≥ CC current), V (1 σ). */
  readonly voltageNoise_V: number;
}

/** A hard short: a sudden voltage drop during a charge step, after which the cycler aborts the test. */
export interface HardShortSpec {
  /** Cycle in which it happens. */
  readonly cycle: number;
  /** Fraction of the expected charge capacity passed in that charge step when it happens. */
  readonly chargeFraction: number;
  /** Sudden voltage drop, V. */
  readonly voltageDrop_V: number;
  /** Pressure drop at the short, kPa. */
  readonly pressureDrop_kPa: number;
  /** The cycler keeps the CC current on for this long before aborting, s. */
  readonly abortAfter_s: number;
  /** Readings continue at zero current for this long after the abort, then the cell ends, s. */
  readonly postAbortRest_s: number;
  /** Voltage noise while shorted, V (1 σ). */
  readonly voltageNoise_V: number;
}

/** Every knob of one simulated cell. Build one with {@link defaultSimCellSpec}. */
export interface SimCellSpec {
  /** Cell id: the `<cell>` in `oep/<cell>/<channel>`. */
  readonly id: string;
  /** Free-form label (e.g. the interlayer: `MgF2`). */
  readonly label: string;

  // --- cell and electrochemistry ---
  /** Cross-section of the mold (stack), mm²: P = F / A. */
  readonly area_mm2: number;
  /** NCM active mass, g. */
  readonly activeMass_g: number;
  /** Specific capacity that defines 1C, mAh/g. */
  readonly nominalSpecificCapacity_mAh_g: number;
  /**
   * Derived, not an override: the 1C capacity, mAh = nominalSpecificCapacity_mAh_g × activeMass_g
   * (3.222 mAh by default; 1C = 3.222 mA). Kept consistent by {@link defaultSimCellSpec}.
   */
  readonly nominalCapacity_mAh: number;
  /** OCV capacity scale, mAh/g. */
  readonly ocvCapacity_mAh_g: number;
  /** Ohmic resistance, Ω. */
  readonly ohmicResistance_ohm: number;
  /** Diffusion lag near full lithiation, θ per C-rate. */
  readonly diffusionLagLithiated_per_C: number;
  /** Diffusion lag in the charged state, θ per C-rate. */
  readonly diffusionLagCharged_per_C: number;
  /** Diffusion lag time constant, s. */
  readonly diffusionTau_s: number;
  /** Parasitic fraction of the charge current in cycle 1 (decays toward the late value with e-folding 1 cycle). */
  readonly parasiticFractionFirst: number;
  /** Parasitic fraction of the charge current in later cycles. */
  readonly parasiticFractionLate: number;
  /** Relative capacity fade per cycle. */
  readonly capacityFadePerCycle: number;

  // --- protocol ---
  /** Formation cycles at `formationRate_C`. */
  readonly formationCycles: number;
  /** Formation C-rate. */
  readonly formationRate_C: number;
  /** C-rate after formation. */
  readonly rate_C: number;
  /** Charge cutoff and CV voltage, V. */
  readonly chargeCutoff_V: number;
  /** Discharge cutoff voltage, V. */
  readonly dischargeCutoff_V: number;
  /** CV end current as a C-rate. */
  readonly cvCutoff_C: number;
  /** Rest before the first cycle, s. */
  readonly initialRest_s: number;
  /** Rest after charge, s. */
  readonly restAfterCharge_s: number;
  /** Rest after discharge, s. */
  readonly restAfterDischarge_s: number;
  /** CC step time limit, h × (1 / C-rate). */
  readonly ccTimeLimit_h_per_inv_C: number;
  /** CV time limit, h × (1 / C-rate). */
  readonly cvTimeLimit_h_per_inv_C: number;
  /** Physics step, s. */
  readonly physicsStep_s: number;

  // --- pressure ---
  /** Stack pressure at the start, MPa. */
  readonly basePressure_MPa: number;
  /** Plating coefficient (≈ Δ(ΔP_Q)) at the reference cycle, MPa·g/(A·h). */
  readonly ddpQ_MPa_g_per_Ah: number;
  /** Healthy change of the plating coefficient per cycle, MPa·g/(A·h). */
  readonly ddpQDrift_MPa_g_per_Ah_per_cycle: number;
  /** Relative cycle-to-cycle scatter of the plating coefficient (1 σ). */
  readonly ddpQCycleNoise_rel: number;
  /** Viscoelastic overshoot fraction of each pressure change (relaxes with `relaxationTau_s`). */
  readonly relaxationFraction: number;
  /** Viscoelastic relaxation time constant, s. */
  readonly relaxationTau_s: number;
  /** Thermal drift amplitude, MPa. */
  readonly thermalDriftAmplitude_MPa: number;
  /** Thermal drift period, s. */
  readonly thermalDriftPeriod_s: number;

  // --- failure modes (null = healthy) ---
  readonly penetration: PenetrationSpec | null;
  readonly softShort: SoftShortSpec | null;
  readonly hardShort: HardShortSpec | null;

  // --- sensors and clocks ---
  /** Unit the load cell publishes in: `kgf` (raw force, quantized counts) or `MPa` (counts converted). */
  readonly pressureUnit: SimPressureUnit;
  /** Load cell resolution, kgf. */
  readonly loadCellResolution_kgf: number;
  /** Load cell noise before quantization, counts (1 σ). */
  readonly pressureNoise_counts: number;
  /** Pressure sampling rate, Hz (> 0). */
  readonly pressureRate_Hz: number;
  /** Pressure timestamp jitter, ± ms. */
  readonly pressureJitter_ms: number;
  /** Pressure device clock offset (device clock − true time), ms. */
  readonly pressureClockOffset_ms: number;
  /** Current sampling rate, Hz (> 0). */
  readonly currentRate_Hz: number;
  /** Voltage sampling rate, Hz (0 = not published). */
  readonly voltageRate_Hz: number;
  /** Cycler timestamp jitter, ± ms. */
  readonly cyclerJitter_ms: number;
  /** Cycler clock offset (device clock − true time), ms. */
  readonly cyclerClockOffset_ms: number;
  /** Current noise, mA (1 σ). */
  readonly currentNoise_mA: number;
  /** Voltage noise, V (1 σ). */
  readonly voltageNoise_V: number;
  /** Published current sign: +1 = charge positive (the default convention), −1 = charge negative. */
  readonly currentSign: 1 | -1;
}
