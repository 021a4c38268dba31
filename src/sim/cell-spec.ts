/**
 * The spec of one simulated cell: what it is (mass, mold, protocol, sensors) and what happens to it
 * (penetration, soft and hard short), with its defaults and its validation. Pure data and checks; the
 * physics that runs a spec is in cell-model.ts.
 */
import {
  DEFAULT_MOLD_AREA_MM2,
  DEFAULT_ACTIVE_MASS_G,
  DEFAULT_NOMINAL_SPECIFIC_CAPACITY_MAH_G,
  DEFAULT_OCV_CAPACITY_MAH_G,
  DEFAULT_OHMIC_RESISTANCE_OHM,
  DEFAULT_DIFFUSION_LAG_LITHIATED_PER_C,
  DEFAULT_DIFFUSION_LAG_CHARGED_PER_C,
  DEFAULT_DIFFUSION_TAU_S,
  DEFAULT_PARASITIC_FRACTION_FIRST,
  DEFAULT_PARASITIC_FRACTION_LATE,
  DEFAULT_CAPACITY_FADE_PER_CYCLE,
  DEFAULT_FORMATION_CYCLES,
  DEFAULT_FORMATION_RATE_C,
  DEFAULT_RATE_C,
  DEFAULT_CHARGE_CUTOFF_V,
  DEFAULT_DISCHARGE_CUTOFF_V,
  DEFAULT_CV_CUTOFF_C,
  DEFAULT_REST_AFTER_CHARGE_S,
  DEFAULT_REST_AFTER_DISCHARGE_S,
  DEFAULT_INITIAL_REST_S,
  DEFAULT_CC_TIME_LIMIT_H_PER_INV_C,
  DEFAULT_CV_TIME_LIMIT_H_PER_INV_C,
  DEFAULT_PHYSICS_STEP_S,
  DEFAULT_BASE_PRESSURE_MPA,
  DEFAULT_DDPQ_MPA_G_PER_AH,
  DEFAULT_DDPQ_DRIFT_MPA_G_PER_AH_PER_CYCLE,
  DEFAULT_DDPQ_CYCLE_NOISE_REL,
  DEFAULT_RELAXATION_FRACTION,
  DEFAULT_RELAXATION_TAU_S,
  DEFAULT_THERMAL_DRIFT_AMPLITUDE_MPA,
  DEFAULT_THERMAL_DRIFT_PERIOD_S,
  DEFAULT_LOAD_CELL_RESOLUTION_KGF,
  DEFAULT_PRESSURE_NOISE_COUNTS,
  DEFAULT_PRESSURE_RATE_HZ,
  DEFAULT_CURRENT_RATE_HZ,
  DEFAULT_VOLTAGE_RATE_HZ,
  DEFAULT_JITTER_MS,
  DEFAULT_CURRENT_NOISE_MA,
  DEFAULT_VOLTAGE_NOISE_V,
} from './cell-defaults.js';
import type { PenetrationSpec, SoftShortSpec, HardShortSpec, SimCellSpec } from './cell-spec-types.js';

export type { SimPressureUnit, PenetrationSpec, SoftShortSpec, HardShortSpec, SimCellSpec } from './cell-spec-types.js';

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

// ---------------------------------------------------------------------------------------------
// Spec
// ---------------------------------------------------------------------------------------------

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
