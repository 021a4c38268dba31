/**
 * Per-step pressiometry: ΔP of the step and its mean differential pressiometry dP/dQ.
 */

/** dp = P(end) − P(start), MPa; undefined when either end has no pressure. */
export function stepDp_MPa(pStart_MPa: number | undefined, pEnd_MPa: number | undefined): number | undefined {
  return pStart_MPa === undefined || pEnd_MPa === undefined ? undefined : pEnd_MPa - pStart_MPa;
}

/** Mean dP/dQ over a step, kPa/mAh: ΔP / Q. Undefined for a step that passed no charge. */
export function meanDpdq_kPa_per_mAh(dp_MPa: number | undefined, q_mAh: number): number | undefined {
  if (dp_MPa === undefined || !(q_mAh > 0)) return undefined;
  return (dp_MPa * 1000) / q_mAh;
}

/**
 * Resamples a step's pressure-versus-capacity path on a fixed capacity grid (k·grid, k = 0, 1, …),
 * interpolating linearly between consecutive (q, P) points. Incremental: feed points in increasing q.
 */
export class CapacityGridResampler {
  private lastQ = NaN;
  private lastP = NaN;
  private lastT = NaN;
  private nextK = 0;
  /** [q_mAh, p_MPa, t_ms] on the grid; t is the instant the step's capacity reached q. */
  readonly points: [number, number, number][] = [];

  constructor(
    private readonly grid_mAh: number,
    private readonly maxPoints: number,
  ) {}

  add(q_mAh: number, p_MPa: number, t_ms: number): void {
    if (!(this.grid_mAh > 0)) return;
    if (Number.isNaN(this.lastQ)) {
      this.lastQ = q_mAh;
      this.lastP = p_MPa;
      this.lastT = t_ms;
      this.nextK = Math.ceil(q_mAh / this.grid_mAh - 1e-9);
      if (Math.abs(this.nextK * this.grid_mAh - q_mAh) < 1e-12) {
        this.push(this.nextK * this.grid_mAh, p_MPa, t_ms);
        this.nextK++;
      }
      return;
    }
    if (q_mAh < this.lastQ) return;
    while (this.nextK * this.grid_mAh <= q_mAh && this.points.length < this.maxPoints) {
      const qk = this.nextK * this.grid_mAh;
      const f = q_mAh === this.lastQ ? 1 : (qk - this.lastQ) / (q_mAh - this.lastQ);
      this.push(qk, this.lastP + f * (p_MPa - this.lastP), this.lastT + f * (t_ms - this.lastT));
      this.nextK++;
    }
    this.lastQ = q_mAh;
    this.lastP = p_MPa;
    this.lastT = t_ms;
  }

  private push(q: number, p: number, t: number): void {
    if (this.points.length < this.maxPoints) this.points.push([q, p, Math.round(t)]);
  }

  /** Plain data for a checkpoint (the grid and the point limit come from the settings on restore). */
  toState(): CurveState {
    return { lastQ: this.lastQ, lastP: this.lastP, lastT: this.lastT, nextK: this.nextK, points: this.points.map(([q, p, t]) => [q, p, t]) };
  }

  static fromState(grid_mAh: number, maxPoints: number, s: CurveState): CapacityGridResampler {
    const r = new CapacityGridResampler(grid_mAh, maxPoints);
    r.lastQ = s.lastQ;
    r.lastP = s.lastP;
    r.lastT = s.lastT;
    r.nextK = s.nextK;
    for (const [q, p, t] of s.points) r.points.push([q, p, t]);
    return r;
  }
}

/** A resampler's state: plain data. */
export interface CurveState {
  readonly lastQ: number;
  readonly lastP: number;
  readonly lastT: number;
  readonly nextK: number;
  readonly points: readonly (readonly [number, number, number])[];
}

/** dP/dQ on the grid from resampled points, kPa/mAh: [q_mid_mAh, dpdq] pairs. */
export function gridDerivative_kPa_per_mAh(points: readonly (readonly [number, number, number?])[]): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 1; k < points.length; k++) {
    const a = points[k - 1];
    const b = points[k];
    if (a === undefined || b === undefined) continue;
    const [q0, p0] = a;
    const [q1, p1] = b;
    if (q1 > q0) out.push([(q0 + q1) / 2, ((p1 - p0) * 1000) / (q1 - q0)]);
  }
  return out;
}
