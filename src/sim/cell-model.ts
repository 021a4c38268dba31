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

// ---------------------------------------------------------------------------------------------
// Physical constants and defaults (units in the names)
// ---------------------------------------------------------------------------------------------

/** Standard gravity, m/s²: 1 kgf = 9.80665 N. */
export const STANDARD_GRAVITY_M_S2 = 9.80665;

/** Mold (cell) diameter, mm: the paper's 13 mm PEEK mold. */
export const DEFAULT_MOLD_DIAMETER_MM = 13;

/** Mold cross-section, mm²: π·(13/2)² = 132.73 mm². */
export const DEFAULT_MOLD_AREA_MM2 = Math.PI * (DEFAULT_MOLD_DIAMETER_MM / 2) ** 2;

/** NCM active mass, g: 13.5 mg/cm² × 1.327 cm² ≈ 17.9 mg (paper: 13-14 mg/cm² loading). */
export const DEFAULT_ACTIVE_MASS_G = 0.0179;

/**
 * Specific capacity that defines the C-rate, mAh/g: 1C = 180 mAh/g × 17.9 mg = 3.222 mA,
 * so 0.3C = 0.967 mA (≈ 0.73 mA/cm², the paper's "≈0.5 mA/cm²" order) and 0.1C = 0.322 mA.
 */
export const DEFAULT_NOMINAL_SPECIFIC_CAPACITY_MAH_G = 180;

/**
 * Cathode capacity scale of the OCV curve, mAh/g (θ = 1 ≈ 4.3 V at equilibrium). Calibrated so that the
 * model delivers ≈157 mAh/g discharge at 0.1C and ≈121 mAh/g at 0.3C (paper, MgF2 cell).
 */
export const DEFAULT_OCV_CAPACITY_MAH_G = 178;

/** Ohmic (electrolyte + interfaces) resistance, Ω: 30 Ω of LPSCl plus interfaces (paper EIS). */
export const DEFAULT_OHMIC_RESISTANCE_OHM = 60;

/** Diffusion lag κ near full lithiation, θ per C-rate: controls the rate dependence of the discharge capacity. */
export const DEFAULT_DIFFUSION_LAG_LITHIATED_PER_C = 1.05;

/** Diffusion lag κ in the charged state, θ per C-rate: controls how much of the charge happens in CV. */
export const DEFAULT_DIFFUSION_LAG_CHARGED_PER_C = 0.25;

/** Time constant of the diffusion lag, s. */
export const DEFAULT_DIFFUSION_TAU_S = 600;

/** Fraction of the first cycle's charge current lost to parasitic oxidation (CEI formation). */
export const DEFAULT_PARASITIC_FRACTION_FIRST = 0.03;

/** Fraction of later cycles' charge current lost to parasitic reactions: CE ≈ 0.995. */
export const DEFAULT_PARASITIC_FRACTION_LATE = 0.005;

/** Relative loss of cathode capacity per cycle: 82 % retention after 800 cycles (paper, MgF2). */
export const DEFAULT_CAPACITY_FADE_PER_CYCLE = 0.00022;

/** Number of formation cycles (paper: the first 3 cycles at 0.1C). */
export const DEFAULT_FORMATION_CYCLES = 3;

/** Formation C-rate (paper: 0.1C). */
export const DEFAULT_FORMATION_RATE_C = 0.1;

/** Cycling C-rate after formation (paper: 0.3C). */
export const DEFAULT_RATE_C = 0.3;

/** Upper cutoff / CV voltage, V (paper: 4.3 V). */
export const DEFAULT_CHARGE_CUTOFF_V = 4.3;

/** Lower cutoff voltage, V (paper: 3.0 V). */
export const DEFAULT_DISCHARGE_CUTOFF_V = 3.0;

/** CV ends when the current falls to this C-rate (C/20). */
export const DEFAULT_CV_CUTOFF_C = 0.05;

/** Rest after the charge step, s. */
export const DEFAULT_REST_AFTER_CHARGE_S = 600;

/** Rest after the discharge step, s. */
export const DEFAULT_REST_AFTER_DISCHARGE_S = 600;

/** Rest at open circuit before the first cycle (establishes P_initial), s. */
export const DEFAULT_INITIAL_REST_S = 600;

/** Cycler safety: a CC step (charge or discharge) ends after this many hours × (1 / C-rate). */
export const DEFAULT_CC_TIME_LIMIT_H_PER_INV_C = 1.5;

/** Cycler safety: the CV hold ends after this many hours × (1 / C-rate) even if I > C/20. */
export const DEFAULT_CV_TIME_LIMIT_H_PER_INV_C = 0.5;

/** Physics integration step, s: the model current is piecewise constant on this grid. */
export const DEFAULT_PHYSICS_STEP_S = 1;

/** Stack pressure at assembly / start of cycling, MPa (paper: 15 MPa for full cells). */
export const DEFAULT_BASE_PRESSURE_MPA = 15;

/**
 * Plating coefficient at the reference cycle (first after formation), MPa·g/(A·h) ≈ Δ(ΔP_Q).
 * Paper: 23.8 (LiF), 22.4 (Mg), 15.6 (MgF2); the default is the healthy MgF2 cell.
 */
export const DEFAULT_DDPQ_MPA_G_PER_AH = 15.6;

/** Healthy decline of the plating coefficient per cycle, MPa·g/(A·h): −2.6 after 30 cycles (paper, MgF2). */
export const DEFAULT_DDPQ_DRIFT_MPA_G_PER_AH_PER_CYCLE = -2.6 / 30;

/** Relative cycle-to-cycle scatter (1 σ) of the plating coefficient. */
export const DEFAULT_DDPQ_CYCLE_NOISE_REL = 0.02;

/** Viscoelastic overshoot β: each pressure change first overshoots by β × itself, then relaxes to the settled value. */
export const DEFAULT_RELAXATION_FRACTION = 0.03;

/** Time constant of the viscoelastic relaxation, s. */
export const DEFAULT_RELAXATION_TAU_S = 600;

/** Amplitude of the slow thermal pressure drift, MPa (≈ 1.4 sensor counts in a 13 mm mold). */
export const DEFAULT_THERMAL_DRIFT_AMPLITUDE_MPA = 0.01;

/** Period of the thermal drift, s (daily cycle of the lab). */
export const DEFAULT_THERMAL_DRIFT_PERIOD_S = 86_400;

/** Load cell resolution, kgf (paper: 0.1 kg BONGSHIN load cell): 7.4 kPa in a 13 mm mold. */
export const DEFAULT_LOAD_CELL_RESOLUTION_KGF = 0.1;

/** Gaussian noise of the load cell before quantization, in counts (1 σ). */
export const DEFAULT_PRESSURE_NOISE_COUNTS = 1;

/** Pressure sampling rate, Hz. */
export const DEFAULT_PRESSURE_RATE_HZ = 10;

/** Current sampling rate, Hz. */
export const DEFAULT_CURRENT_RATE_HZ = 1;

/** Voltage sampling rate, Hz (0 = voltage not published). */
export const DEFAULT_VOLTAGE_RATE_HZ = 1;

/** Timestamp jitter of every device, ± ms (uniform). */
export const DEFAULT_JITTER_MS = 20;

/** Current measurement noise, mA (1 σ; a VSP300-class cycler). */
export const DEFAULT_CURRENT_NOISE_MA = 0.0005;

/** Voltage measurement noise, V (1 σ). */
export const DEFAULT_VOLTAGE_NOISE_V = 0.0002;

/** Default penetration behaviour (used when a spec enables penetration without giving every knob). */
export const DEFAULT_PENETRATION: PenetrationSpec = {
  onsetCycle: 6,
  ddpQDecline_MPa_g_per_Ah_per_cycle: -0.12,
  dropProbability: 1,
  dropAmplitude_kPa: 60,
  dropGrowth_kPa_per_cycle: 3,
  dropMaxAmplitude_kPa: 150,
  dropDuration_s: 20,
  dropHold_s: 300,
  postDropRateFraction: -0.1,
};

/** Default soft-short behaviour. */
export const DEFAULT_SOFT_SHORT: SoftShortSpec = {
  onsetCycle: 25,
  initialResistance_kohm: 400,
  halvingCycles: 2,
  voltageNoise_V: 0.005,
};

/** Default hard-short behaviour. */
export const DEFAULT_HARD_SHORT: HardShortSpec = {
  cycle: 30,
  chargeFraction: 0.5,
  voltageDrop_V: 0.8,
  pressureDrop_kPa: 150,
  abortAfter_s: 300,
  postAbortRest_s: 1800,
  voltageNoise_V: 0.02,
};

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
// Spec
// ---------------------------------------------------------------------------------------------

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

/** Overrides accepted by {@link defaultSimCellSpec}: failure modes may be given partially (missing knobs take the defaults). */
export type SimCellOverrides = Partial<Omit<SimCellSpec, 'id' | 'nominalCapacity_mAh' | 'penetration' | 'softShort' | 'hardShort'>> & {
  readonly penetration?: Partial<PenetrationSpec> | null;
  readonly softShort?: Partial<SoftShortSpec> | null;
  readonly hardShort?: Partial<HardShortSpec> | null;
};

/**
 * A healthy cell with every default (the paper's MgF2 full cell), with `overrides` applied.
 * `penetration`, `softShort` and `hardShort` overrides are merged over {@link DEFAULT_PENETRATION},
 * {@link DEFAULT_SOFT_SHORT} and {@link DEFAULT_HARD_SHORT}; `null` (the default) disables them.
 * @throws RangeError when the result is not a valid spec ({@link validateSimCellSpec}).
 */
export function defaultSimCellSpec(id: string, overrides: SimCellOverrides = {}): SimCellSpec {
  const { penetration, softShort, hardShort, ...rest } = overrides;
  const partial: Omit<SimCellSpec, 'nominalCapacity_mAh'> = {
    id,
    label: 'MgF2',
    area_mm2: DEFAULT_MOLD_AREA_MM2,
    activeMass_g: DEFAULT_ACTIVE_MASS_G,
    nominalSpecificCapacity_mAh_g: DEFAULT_NOMINAL_SPECIFIC_CAPACITY_MAH_G,
    ocvCapacity_mAh_g: DEFAULT_OCV_CAPACITY_MAH_G,
    ohmicResistance_ohm: DEFAULT_OHMIC_RESISTANCE_OHM,
    diffusionLagLithiated_per_C: DEFAULT_DIFFUSION_LAG_LITHIATED_PER_C,
    diffusionLagCharged_per_C: DEFAULT_DIFFUSION_LAG_CHARGED_PER_C,
    diffusionTau_s: DEFAULT_DIFFUSION_TAU_S,
    parasiticFractionFirst: DEFAULT_PARASITIC_FRACTION_FIRST,
    parasiticFractionLate: DEFAULT_PARASITIC_FRACTION_LATE,
    capacityFadePerCycle: DEFAULT_CAPACITY_FADE_PER_CYCLE,
    formationCycles: DEFAULT_FORMATION_CYCLES,
    formationRate_C: DEFAULT_FORMATION_RATE_C,
    rate_C: DEFAULT_RATE_C,
    chargeCutoff_V: DEFAULT_CHARGE_CUTOFF_V,
    dischargeCutoff_V: DEFAULT_DISCHARGE_CUTOFF_V,
    cvCutoff_C: DEFAULT_CV_CUTOFF_C,
    initialRest_s: DEFAULT_INITIAL_REST_S,
    restAfterCharge_s: DEFAULT_REST_AFTER_CHARGE_S,
    restAfterDischarge_s: DEFAULT_REST_AFTER_DISCHARGE_S,
    ccTimeLimit_h_per_inv_C: DEFAULT_CC_TIME_LIMIT_H_PER_INV_C,
    cvTimeLimit_h_per_inv_C: DEFAULT_CV_TIME_LIMIT_H_PER_INV_C,
    physicsStep_s: DEFAULT_PHYSICS_STEP_S,
    basePressure_MPa: DEFAULT_BASE_PRESSURE_MPA,
    ddpQ_MPa_g_per_Ah: DEFAULT_DDPQ_MPA_G_PER_AH,
    ddpQDrift_MPa_g_per_Ah_per_cycle: DEFAULT_DDPQ_DRIFT_MPA_G_PER_AH_PER_CYCLE,
    ddpQCycleNoise_rel: DEFAULT_DDPQ_CYCLE_NOISE_REL,
    relaxationFraction: DEFAULT_RELAXATION_FRACTION,
    relaxationTau_s: DEFAULT_RELAXATION_TAU_S,
    thermalDriftAmplitude_MPa: DEFAULT_THERMAL_DRIFT_AMPLITUDE_MPA,
    thermalDriftPeriod_s: DEFAULT_THERMAL_DRIFT_PERIOD_S,
    penetration: penetration ? { ...DEFAULT_PENETRATION, ...penetration } : null,
    softShort: softShort ? { ...DEFAULT_SOFT_SHORT, ...softShort } : null,
    hardShort: hardShort ? { ...DEFAULT_HARD_SHORT, ...hardShort } : null,
    pressureUnit: 'MPa',
    loadCellResolution_kgf: DEFAULT_LOAD_CELL_RESOLUTION_KGF,
    pressureNoise_counts: DEFAULT_PRESSURE_NOISE_COUNTS,
    pressureRate_Hz: DEFAULT_PRESSURE_RATE_HZ,
    pressureJitter_ms: DEFAULT_JITTER_MS,
    pressureClockOffset_ms: 0,
    currentRate_Hz: DEFAULT_CURRENT_RATE_HZ,
    voltageRate_Hz: DEFAULT_VOLTAGE_RATE_HZ,
    cyclerJitter_ms: DEFAULT_JITTER_MS,
    cyclerClockOffset_ms: 0,
    currentNoise_mA: DEFAULT_CURRENT_NOISE_MA,
    voltageNoise_V: DEFAULT_VOLTAGE_NOISE_V,
    currentSign: 1,
    ...stripUndefined(rest),
  };
  const spec: SimCellSpec = { ...partial, nominalCapacity_mAh: partial.nominalSpecificCapacity_mAh_g * partial.activeMass_g };
  validateSimCellSpec(spec);
  return spec;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  // Object.keys is typed string[]; the own keys of a T are keys of T.
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- see the line above
  for (const key of Object.keys(o) as (keyof T)[]) {
    if (o[key] !== undefined) out[key] = o[key];
  }
  return out;
}

/**
 * Checks a spec for values the model cannot run with (non-positive mass, rates or steps, inverted
 * cutoffs, negative durations, ...).
 * @throws RangeError naming the first offending field.
 */
export function validateSimCellSpec(spec: SimCellSpec): void {
  const check = specChecks(spec.id);
  const { fail, positive, nonNegative, finite } = check;
  if (typeof spec.id !== 'string' || spec.id.length === 0) fail('id', 'must be a non-empty string');
  positive('area_mm2', spec.area_mm2);
  positive('activeMass_g', spec.activeMass_g);
  positive('nominalSpecificCapacity_mAh_g', spec.nominalSpecificCapacity_mAh_g);
  const cap = spec.nominalSpecificCapacity_mAh_g * spec.activeMass_g;
  if (!(Math.abs(spec.nominalCapacity_mAh - cap) <= 1e-9 * cap)) {
    fail('nominalCapacity_mAh', `must equal nominalSpecificCapacity_mAh_g × activeMass_g = ${String(cap)} (got ${String(spec.nominalCapacity_mAh)})`);
  }
  positive('ocvCapacity_mAh_g', spec.ocvCapacity_mAh_g);
  positive('ohmicResistance_ohm', spec.ohmicResistance_ohm);
  nonNegative('diffusionLagLithiated_per_C', spec.diffusionLagLithiated_per_C);
  nonNegative('diffusionLagCharged_per_C', spec.diffusionLagCharged_per_C);
  positive('diffusionTau_s', spec.diffusionTau_s);
  for (const [f, v] of [
    ['parasiticFractionFirst', spec.parasiticFractionFirst],
    ['parasiticFractionLate', spec.parasiticFractionLate],
    ['capacityFadePerCycle', spec.capacityFadePerCycle],
    ['relaxationFraction', spec.relaxationFraction],
  ] as const) {
    if (!(Number.isFinite(v) && v >= 0 && v < 1)) fail(f, `must be in [0, 1) (got ${String(v)})`);
  }
  if (!(Number.isInteger(spec.formationCycles) && spec.formationCycles >= 0)) fail('formationCycles', 'must be an integer ≥ 0');
  positive('formationRate_C', spec.formationRate_C);
  positive('rate_C', spec.rate_C);
  finite('chargeCutoff_V', spec.chargeCutoff_V);
  finite('dischargeCutoff_V', spec.dischargeCutoff_V);
  if (!(spec.chargeCutoff_V > spec.dischargeCutoff_V)) fail('chargeCutoff_V', 'must exceed dischargeCutoff_V');
  positive('cvCutoff_C', spec.cvCutoff_C);
  nonNegative('initialRest_s', spec.initialRest_s);
  nonNegative('restAfterCharge_s', spec.restAfterCharge_s);
  nonNegative('restAfterDischarge_s', spec.restAfterDischarge_s);
  positive('ccTimeLimit_h_per_inv_C', spec.ccTimeLimit_h_per_inv_C);
  positive('cvTimeLimit_h_per_inv_C', spec.cvTimeLimit_h_per_inv_C);
  positive('physicsStep_s', spec.physicsStep_s);
  finite('basePressure_MPa', spec.basePressure_MPa);
  finite('ddpQ_MPa_g_per_Ah', spec.ddpQ_MPa_g_per_Ah);
  finite('ddpQDrift_MPa_g_per_Ah_per_cycle', spec.ddpQDrift_MPa_g_per_Ah_per_cycle);
  nonNegative('ddpQCycleNoise_rel', spec.ddpQCycleNoise_rel);
  positive('relaxationTau_s', spec.relaxationTau_s);
  nonNegative('thermalDriftAmplitude_MPa', spec.thermalDriftAmplitude_MPa);
  positive('thermalDriftPeriod_s', spec.thermalDriftPeriod_s);
  if (spec.penetration) validatePenetration(spec.penetration, check);
  if (spec.softShort) validateSoftShort(spec.softShort, check);
  if (spec.hardShort) validateHardShort(spec.hardShort, check);
  if (!PRESSURE_UNITS.includes(spec.pressureUnit)) fail('pressureUnit', "must be 'MPa' or 'kgf'");
  positive('loadCellResolution_kgf', spec.loadCellResolution_kgf);
  nonNegative('pressureNoise_counts', spec.pressureNoise_counts);
  positive('pressureRate_Hz', spec.pressureRate_Hz);
  nonNegative('pressureJitter_ms', spec.pressureJitter_ms);
  finite('pressureClockOffset_ms', spec.pressureClockOffset_ms);
  positive('currentRate_Hz', spec.currentRate_Hz);
  nonNegative('voltageRate_Hz', spec.voltageRate_Hz);
  nonNegative('cyclerJitter_ms', spec.cyclerJitter_ms);
  finite('cyclerClockOffset_ms', spec.cyclerClockOffset_ms);
  nonNegative('currentNoise_mA', spec.currentNoise_mA);
  nonNegative('voltageNoise_V', spec.voltageNoise_V);
  if (!CURRENT_SIGNS.includes(spec.currentSign)) fail('currentSign', 'must be 1 or -1');
}

/** What a spec from untyped input may hold: checked at run time although the types already say so. */
const PRESSURE_UNITS: readonly string[] = ['MPa', 'kgf'];
const CURRENT_SIGNS: readonly number[] = [1, -1];

interface SpecChecks {
  readonly fail: (field: string, why: string) => never;
  readonly positive: (field: string, v: number) => void;
  readonly nonNegative: (field: string, v: number) => void;
  readonly finite: (field: string, v: number) => void;
}

/** Field checks that throw a RangeError naming cell `id` and the field. */
function specChecks(id: string): SpecChecks {
  const fail = (field: string, why: string): never => {
    throw new RangeError(`sim cell ${JSON.stringify(id)}: ${field} ${why}`);
  };
  return {
    fail,
    positive: (field, v) => {
      if (!(Number.isFinite(v) && v > 0)) fail(field, `must be a finite number > 0 (got ${String(v)})`);
    },
    nonNegative: (field, v) => {
      if (!(Number.isFinite(v) && v >= 0)) fail(field, `must be a finite number ≥ 0 (got ${String(v)})`);
    },
    finite: (field, v) => {
      if (!Number.isFinite(v)) fail(field, `must be finite (got ${String(v)})`);
    },
  };
}

function validatePenetration(pen: PenetrationSpec, { fail, positive, nonNegative, finite }: SpecChecks): void {
  if (!(Number.isInteger(pen.onsetCycle) && pen.onsetCycle >= 1)) fail('penetration.onsetCycle', 'must be an integer ≥ 1');
  finite('penetration.ddpQDecline_MPa_g_per_Ah_per_cycle', pen.ddpQDecline_MPa_g_per_Ah_per_cycle);
  if (!(pen.dropProbability >= 0 && pen.dropProbability <= 1)) fail('penetration.dropProbability', 'must be in [0, 1]');
  nonNegative('penetration.dropAmplitude_kPa', pen.dropAmplitude_kPa);
  finite('penetration.dropGrowth_kPa_per_cycle', pen.dropGrowth_kPa_per_cycle);
  nonNegative('penetration.dropMaxAmplitude_kPa', pen.dropMaxAmplitude_kPa);
  positive('penetration.dropDuration_s', pen.dropDuration_s);
  nonNegative('penetration.dropHold_s', pen.dropHold_s);
  finite('penetration.postDropRateFraction', pen.postDropRateFraction);
}

function validateSoftShort(ss: SoftShortSpec, { fail, positive, nonNegative }: SpecChecks): void {
  if (!(Number.isInteger(ss.onsetCycle) && ss.onsetCycle >= 1)) fail('softShort.onsetCycle', 'must be an integer ≥ 1');
  positive('softShort.initialResistance_kohm', ss.initialResistance_kohm);
  positive('softShort.halvingCycles', ss.halvingCycles);
  nonNegative('softShort.voltageNoise_V', ss.voltageNoise_V);
}

function validateHardShort(hs: HardShortSpec, { fail, nonNegative }: SpecChecks): void {
  if (!(Number.isInteger(hs.cycle) && hs.cycle >= 1)) fail('hardShort.cycle', 'must be an integer ≥ 1');
  nonNegative('hardShort.chargeFraction', hs.chargeFraction);
  nonNegative('hardShort.voltageDrop_V', hs.voltageDrop_V);
  nonNegative('hardShort.pressureDrop_kPa', hs.pressureDrop_kPa);
  nonNegative('hardShort.abortAfter_s', hs.abortAfter_s);
  nonNegative('hardShort.postAbortRest_s', hs.postAbortRest_s);
  nonNegative('hardShort.voltageNoise_V', hs.voltageNoise_V);
}

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
