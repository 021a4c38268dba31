/** Small statistics the detectors share: running least-squares sums and the median. */

/** Running sums of a least-squares line (x, y). Plain data. */
export interface Sums {
  n: number;
  sx: number;
  sy: number;
  sxx: number;
  sxy: number;
  syy: number;
}
export const emptySums = (): Sums => ({ n: 0, sx: 0, sy: 0, sxx: 0, sxy: 0, syy: 0 });

export function addPoint(f: Sums, x: number, y: number): void {
  f.n++;
  f.sx += x;
  f.sy += y;
  f.sxx += x * x;
  f.sxy += x * y;
  f.syy += y * y;
}

/** Least-squares line y = a + b·x from running sums, and the residual σ (n − 2 degrees of freedom). */
export function lineFromSums(f: Sums): { a: number; b: number; sigma: number } {
  const { n, sx, sy, sxx, sxy, syy } = f;
  const vxx = sxx - (sx * sx) / n;
  const vxy = sxy - (sx * sy) / n;
  const vyy = syy - (sy * sy) / n;
  const b = vxx > 0 ? vxy / vxx : 0;
  const a = (sy - b * sx) / n;
  const ss = Math.max(0, vyy - b * vxy);
  return { a, b, sigma: n > 2 ? Math.sqrt(ss / (n - 2)) : 0 };
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  const hi = s[m] ?? NaN;
  return s.length % 2 === 1 ? hi : ((s[m - 1] ?? NaN) + hi) / 2;
};
