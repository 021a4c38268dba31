/**
 * The simulated cell's static relations: the NCM-vs-Li open-circuit voltage curve and its slope, the
 * shape of the diffusion-lag coefficient κ(θ), the 1C current, and the load cell's force ↔ pressure
 * conversions. Pure functions of the spec (see cell-model.ts for the model they serve).
 */
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
export const KAPPA_MID = 0.5;
export const KAPPA_WIDTH = 0.07;

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
