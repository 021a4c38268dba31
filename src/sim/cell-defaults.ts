/**
 * Physical constants and the default parameters of a simulated NCM | Li6PS5Cl | Li cell, each with its unit
 * (the numbers follow Lim et al., Adv. Energy Mater. 2024; cell-spec.ts builds a spec from them).
 */

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
