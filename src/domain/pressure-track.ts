/**
 * Recent pressure samples of one cell in a fixed ring, for interpolating the pressure at step boundaries.
 * P(t) is interpolated between the samples either side of t, only if they are at most `maxGap_ms` apart:
 * across a longer gap the pressure is unknown and the metric is left empty rather than invented.
 */
import { lerp } from './capacity.js';

export const DEFAULT_PRESSURE_RING = 4_096;

export type Lookup = { readonly kind: 'value'; readonly p: number } | { readonly kind: 'missing' } | { readonly kind: 'pending' };

const MISSING: Lookup = { kind: 'missing' };
const PENDING: Lookup = { kind: 'pending' };

export class PressureTrack {
  private readonly ts: Float64Array;
  private readonly p: Float64Array;
  private next = 0;
  private size = 0;

  constructor(
    private readonly maxGap_ms: number,
    readonly capacity = DEFAULT_PRESSURE_RING,
  ) {
    this.ts = new Float64Array(capacity);
    this.p = new Float64Array(capacity);
  }

  get count(): number {
    return this.size;
  }

  /** Newest sample time, or −Infinity. */
  get lastTs(): number {
    return this.size === 0 ? -Infinity : (this.ts[(this.next - 1 + this.capacity) % this.capacity] ?? NaN);
  }

  /** Appends a sample; samples must come in nondecreasing time order. */
  add(ts: number, p: number): void {
    this.ts[this.next] = ts;
    this.p[this.next] = p;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  private at(k: number): number {
    return (this.next - this.size + k + this.capacity) % this.capacity;
  }

  /**
   * Pressure at t. `pending` when no sample at or after t has arrived yet and one still may;
   * `missing` when the samples around t are too far apart or t is older than the ring.
   * With `final`, a t after the newest sample resolves to that sample if it is within the max gap.
   */
  valueAt(t: number, final = false): Lookup {
    if (this.size === 0) return final ? MISSING : PENDING;
    const last = this.at(this.size - 1);
    const lastTs = this.ts[last] ?? NaN;
    if (t > lastTs) {
      if (final) return t - lastTs <= this.maxGap_ms ? { kind: 'value', p: this.p[last] ?? NaN } : MISSING;
      return PENDING;
    }
    // Binary search for the first sample with ts >= t.
    let lo = 0;
    let hi = this.size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.ts[this.at(mid)] ?? NaN) < t) lo = mid + 1;
      else hi = mid;
    }
    const b = this.at(lo);
    const tb = this.ts[b] ?? NaN;
    if (tb === t) return { kind: 'value', p: this.p[b] ?? NaN };
    if (lo === 0) return MISSING;
    const a = this.at(lo - 1);
    const ta = this.ts[a] ?? NaN;
    if (tb - ta > this.maxGap_ms) return MISSING;
    return { kind: 'value', p: lerp(ta, this.p[a] ?? NaN, tb, this.p[b] ?? NaN, t) };
  }

  toJSON(): { ts: number[]; p: number[] } {
    const ts: number[] = [];
    const p: number[] = [];
    for (let k = 0; k < this.size; k++) {
      ts.push(this.ts[this.at(k)] ?? NaN);
      p.push(this.p[this.at(k)] ?? NaN);
    }
    return { ts, p };
  }

  static fromJSON(maxGap_ms: number, capacity: number, s: { readonly ts: readonly number[]; readonly p: readonly number[] }): PressureTrack {
    const t = new PressureTrack(maxGap_ms, capacity);
    s.ts.forEach((ts, k) => {
      t.add(ts, s.p[k] ?? NaN);
    });
    return t;
  }
}
