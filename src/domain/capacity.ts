/**
 * Capacity Q = ∫|I| dt with the current taken as piecewise linear between samples (the trapezoid rule,
 * made exact where the current changes sign inside a segment).
 */

/** ms·mA → mAh. */
export const MS_MA_TO_MAH = 1 / 3_600_000;

/** ∫|I| dt over [t0, t1] for I linear from i0 to i1, in mAh. */
export function absChargeLinear_mAh(t0: number, i0: number, t1: number, i1: number): number {
  const dt = t1 - t0;
  if (dt <= 0) return 0;
  if ((i0 >= 0 && i1 >= 0) || (i0 <= 0 && i1 <= 0)) return (Math.abs(i0 + i1) / 2) * dt * MS_MA_TO_MAH;
  // Sign change inside: split at the zero crossing, each part is a triangle.
  const f = i0 / (i0 - i1);
  return ((Math.abs(i0) * f + Math.abs(i1) * (1 - f)) / 2) * dt * MS_MA_TO_MAH;
}

/** ∫I dt (signed) over [t0, t1] for I linear from i0 to i1, in mAh. */
export function signedChargeLinear_mAh(t0: number, i0: number, t1: number, i1: number): number {
  return ((i0 + i1) / 2) * (t1 - t0) * MS_MA_TO_MAH;
}

/** Current at t on the line through (t0, i0) and (t1, i1). */
export function lerp(t0: number, v0: number, t1: number, v1: number, t: number): number {
  if (t1 === t0) return v1;
  return v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
}

/** Trapezoid ∫|I| dt over samples (ts ms, current mA), mAh. Reference implementation for tests and readers. */
export function trapzAbs_mAh(ts: ArrayLike<number>, current_mA: ArrayLike<number>): number {
  let q = 0;
  for (let k = 1; k < ts.length; k++) q += absChargeLinear_mAh(ts[k - 1] ?? NaN, current_mA[k - 1] ?? NaN, ts[k] ?? NaN, current_mA[k] ?? NaN);
  return q;
}
