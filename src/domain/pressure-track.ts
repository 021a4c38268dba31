/**
 * Recent pressure samples of one cell in a fixed ring, for interpolating the pressure at step boundaries.
 * P(t) is interpolated between the samples either side of t, only if they are at most `maxGap_ms` apart:
 * across a longer gap the pressure is unknown and the metric is left empty rather than invented.
 */
import { lerp } from './capacity.js';
import { TimeRing } from './ring.js';

export const DEFAULT_PRESSURE_RING = 4_096;

export type Lookup = { readonly kind: 'value'; readonly p: number } | { readonly kind: 'missing' } | { readonly kind: 'pending' };

const MISSING: Lookup = { kind: 'missing' };
const PENDING: Lookup = { kind: 'pending' };

export class PressureTrack {
  /** Lazily grown up to `capacity`: a cell costs what it holds. */
  private readonly ring: TimeRing;

  constructor(
    private readonly maxGap_ms: number,
    readonly capacity = DEFAULT_PRESSURE_RING,
  ) {
    this.ring = new TimeRing(capacity);
  }

  get count(): number {
    return this.ring.size;
  }

  /** Newest sample time, or −Infinity. */
  get lastTs(): number {
    return this.ring.size === 0 ? -Infinity : this.ring.tsAt(this.ring.size - 1);
  }

  /** Appends a sample; samples must come in nondecreasing time order. */
  add(ts: number, p: number): void {
    this.ring.push(ts, p);
  }

  /**
   * Pressure at t. `pending` when no sample at or after t has arrived yet and one still may;
   * `missing` when the samples around t are too far apart or t is older than the ring.
   * With `final`, a t after the newest sample resolves to that sample if it is within the max gap.
   */
  valueAt(t: number, final = false): Lookup {
    const ring = this.ring;
    const size = ring.size;
    if (size === 0) return final ? MISSING : PENDING;
    const lastTs = ring.tsAt(size - 1);
    if (t > lastTs) {
      if (final) return t - lastTs <= this.maxGap_ms ? { kind: 'value', p: ring.valueAt(size - 1) } : MISSING;
      return PENDING;
    }
    // Binary search for the first sample with ts >= t.
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ring.tsAt(mid) < t) lo = mid + 1;
      else hi = mid;
    }
    const tb = ring.tsAt(lo);
    if (tb === t) return { kind: 'value', p: ring.valueAt(lo) };
    if (lo === 0) return MISSING;
    const ta = ring.tsAt(lo - 1);
    if (tb - ta > this.maxGap_ms) return MISSING;
    return { kind: 'value', p: lerp(ta, ring.valueAt(lo - 1), tb, ring.valueAt(lo), t) };
  }

  toJSON(): { ts: number[]; p: number[] } {
    const { ts, value } = this.ring.toJSON();
    return { ts, p: value };
  }

  /** Gives a structured-clone copy (e.g. from v8.deserialize) its class back. */
  static revive(o: object): PressureTrack {
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- setPrototypeOf returns any
    const t = Object.setPrototypeOf(o, PressureTrack.prototype) as PressureTrack;
    TimeRing.revive(t.ring);
    return t;
  }

  /** The samples as typed arrays, oldest first (a checkpoint's record). */
  toArrays(): { ts: Float64Array; p: Float64Array } {
    const { ts, value } = this.ring.toArrays();
    return { ts, p: value };
  }

  static fromJSON(maxGap_ms: number, capacity: number, s: { readonly ts: ArrayLike<number>; readonly p: ArrayLike<number> }): PressureTrack {
    const t = new PressureTrack(maxGap_ms, capacity);
    for (let k = 0; k < s.ts.length; k++) t.add(s.ts[k] ?? NaN, s.p[k] ?? NaN);
    return t;
  }
}
