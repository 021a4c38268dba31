/**
 * Unit conversions to the canonical units (MPa, mA, V). One place, so that a reviewer checks each factor once.
 */

/** Standard gravity, N per kgf (exact by definition). */
export const N_PER_KGF = 9.80665;

/** Pressing area of the 13 mm PEEK mold used in the paper: π·6.5² mm². */
export const MOLD_13MM_AREA_MM2 = Math.PI * 6.5 * 6.5;

/** Load-cell resolution used in the paper: 0.1 kgf. */
export const LOAD_CELL_RESOLUTION_KGF = 0.1;

export type PressureUnit = 'MPa' | 'kPa' | 'N' | 'kgf';
export type CurrentUnit = 'A' | 'mA' | 'uA';
export type VoltageUnit = 'V' | 'mV';

export const PRESSURE_UNITS: readonly PressureUnit[] = ['MPa', 'kPa', 'N', 'kgf'];
export const CURRENT_UNITS: readonly CurrentUnit[] = ['A', 'mA', 'uA'];
export const VOLTAGE_UNITS: readonly VoltageUnit[] = ['V', 'mV'];

/** P[MPa] = F[N] / A[mm²]. */
export function forceToMPa(force_N: number, area_mm2: number): number {
  return force_N / area_mm2;
}

/** Pressure of one load-cell count (0.1 kgf) on the given area, MPa (7.4 kPa on the 13 mm mold). */
export function countPressure_MPa(area_mm2: number, resolution_kgf = LOAD_CELL_RESOLUTION_KGF): number {
  return forceToMPa(resolution_kgf * N_PER_KGF, area_mm2);
}

export function pressureToMPa(value: number, unit: PressureUnit, area_mm2: number): number {
  switch (unit) {
    case 'MPa':
      return value;
    case 'kPa':
      return value / 1000;
    case 'N':
      return forceToMPa(value, area_mm2);
    case 'kgf':
      return forceToMPa(value * N_PER_KGF, area_mm2);
  }
}

export function currentToMilliamp(value: number, unit: CurrentUnit): number {
  switch (unit) {
    case 'A':
      return value * 1000;
    case 'mA':
      return value;
    case 'uA':
      return value / 1000;
  }
}

export function voltageToVolt(value: number, unit: VoltageUnit): number {
  return unit === 'V' ? value : value / 1000;
}

const UNIT_SPELLINGS: Readonly<Record<string, PressureUnit | CurrentUnit | VoltageUnit>> = {
  mpa: 'MPa',
  kpa: 'kPa',
  n: 'N',
  kgf: 'kgf',
  a: 'A',
  ma: 'mA',
  ua: 'uA',
  µa: 'uA',
  μa: 'uA',
  v: 'V',
  mv: 'mV',
};
const CANONICAL: ReadonlyMap<string, PressureUnit | CurrentUnit | VoltageUnit> = new Map(
  (['MPa', 'kPa', 'N', 'kgf', 'A', 'mA', 'uA', 'V', 'mV'] as const).map((u) => [u, u]),
);

/** Accepts the spellings devices actually send (µA, μA, ua, mpa) and returns the canonical unit or undefined. */
export function normalizeUnit(raw: string): PressureUnit | CurrentUnit | VoltageUnit | undefined {
  return CANONICAL.get(raw) ?? UNIT_SPELLINGS[raw.trim().toLowerCase()];
}
