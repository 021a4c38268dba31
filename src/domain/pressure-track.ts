/**
 * Recent pressure samples of one cell, for interpolating the pressure at step boundaries (cell/boundaries.ts,
 * the only reader). P(t) is interpolated between the samples either side of t, only if they are at most
 * `maxGap_ms` apart: across a longer gap the pressure is unknown and the metric is left empty rather than invented.
 *
 * A boundary still to be resolved is never older than the oldest pending one, the candidate step's start or
 * the latest current sample (cell-processor.ts, oldestBoundary), so the track keeps only the samples from
 * the last one before that instant on (dropBefore): a few samples in a steady run, where a ring of the last
 * 4,096 held 64 KB per cell after an hour at 1 Hz. `capacity` still bounds it (a cell whose current falls
 * silent while its pressure goes on): past it the oldest sample is overwritten, as before.
 */
import { lerp } from './capacity.js';

export const DEFAULT_PRESSURE_RING = 4_096;

export type Lookup = { readonly kind: 'value'; readonly p: number } | { readonly kind: 'missing' } | { readonly kind: 'pending' };

const MISSING: Lookup = { kind: 'missing' };
const PENDING: Lookup = { kind: 'pending' };
const FIRST_SIZE = 16;

export class PressureTrack {
  // A ring of (time, pressure) pairs side by side in one buffer (one allocation a cell, not two), grown by
  // doubling up to `capacity` samples and halved when a quarter is used. A plain array of doubles: a typed
  // array's view and ArrayBuffer objects cost ~180 B a cell beside the data.
  private buf: number[] = [];
  /** Index of the oldest sample. */
  private start = 0;
  private n = 0;

  constructor(
    private readonly maxGap_ms: number,
    readonly capacity = DEFAULT_PRESSURE_RING,
  ) {
    if (!(capacity >= 1)) throw new RangeError(`pressure track capacity must be at least 1, got ${String(capacity)}`);
  }

  get count(): number {
    return this.n;
  }

  /** True when the next sample needs a larger buffer or overwrites the oldest: the moment to call dropBefore. */
  get full(): boolean {
    return this.n === this.buf.length >> 1;
  }

  /** Newest sample time, or −Infinity. */
  get lastTs(): number {
    return this.n === 0 ? -Infinity : this.tsAt(this.n - 1);
  }

  private slot(k: number): number {
    const i = this.start + k;
    const len = this.buf.length >> 1;
    return i >= len ? i - len : i;
  }

  private tsAt(k: number): number {
    return this.buf[2 * this.slot(k)] ?? NaN;
  }

  private pAt(k: number): number {
    return this.buf[2 * this.slot(k) + 1] ?? NaN;
  }

  /** Appends a sample; samples must come in nondecreasing time order. */
  add(ts: number, p: number): void {
    const len = this.buf.length >> 1;
    if (this.n === len) {
      if (len < this.capacity) this.resize(Math.min(this.capacity, Math.max(FIRST_SIZE, len * 2)));
      else {
        // Full at capacity: overwrite the oldest.
        this.buf[2 * this.start] = ts;
        this.buf[2 * this.start + 1] = p;
        this.start = this.start + 1 === len ? 0 : this.start + 1;
        return;
      }
    }
    const i = this.slot(this.n);
    this.buf[2 * i] = ts;
    this.buf[2 * i + 1] = p;
    this.n++;
  }

  /**
   * Forgets the samples no lookup at t or later can use: all before the newest sample older than t. A t
   * that is NaN drops nothing. valueAt(t') for every t' ≥ t answers as before.
   */
  dropBefore(t: number): void {
    // Samples with ts < t: the first k (binary search); keep the newest of them.
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tsAt(mid) < t) lo = mid + 1;
      else hi = mid;
    }
    const drop = lo - 1;
    if (drop <= 0) return;
    this.start = this.slot(drop);
    this.n -= drop;
    const len = this.buf.length >> 1;
    let size = len;
    while (size > FIRST_SIZE && this.n * 4 <= size) size = Math.max(FIRST_SIZE, Math.ceil(size / 2));
    if (size < len) this.resize(size);
  }

  private resize(size: number): void {
    const b = new Array<number>(2 * size).fill(0);
    for (let k = 0; k < this.n; k++) {
      const i = 2 * this.slot(k);
      b[2 * k] = this.buf[i] ?? NaN;
      b[2 * k + 1] = this.buf[i + 1] ?? NaN;
    }
    this.buf = b;
    this.start = 0;
  }

  /**
   * Pressure at t. `pending` when no sample at or after t has arrived yet and one still may;
   * `missing` when the samples around t are too far apart or t is older than the track.
   * With `final`, a t after the newest sample resolves to that sample if it is within the max gap.
   */
  valueAt(t: number, final = false): Lookup {
    const size = this.n;
    if (size === 0) return final ? MISSING : PENDING;
    const lastTs = this.tsAt(size - 1);
    if (t > lastTs) {
      if (final) return t - lastTs <= this.maxGap_ms ? { kind: 'value', p: this.pAt(size - 1) } : MISSING;
      return PENDING;
    }
    // Binary search for the first sample with ts >= t.
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tsAt(mid) < t) lo = mid + 1;
      else hi = mid;
    }
    const tb = this.tsAt(lo);
    if (tb === t) return { kind: 'value', p: this.pAt(lo) };
    if (lo === 0) return MISSING;
    const ta = this.tsAt(lo - 1);
    if (tb - ta > this.maxGap_ms) return MISSING;
    return { kind: 'value', p: lerp(ta, this.pAt(lo - 1), tb, this.pAt(lo), t) };
  }

  toJSON(): { ts: number[]; p: number[] } {
    const { ts, p } = this.toArrays();
    return { ts: Array.from(ts), p: Array.from(p) };
  }

  /** The samples as typed arrays (copies), oldest first (a checkpoint's record). */
  toArrays(): { ts: Float64Array; p: Float64Array } {
    const ts = new Float64Array(this.n);
    const p = new Float64Array(this.n);
    for (let k = 0; k < this.n; k++) {
      ts[k] = this.tsAt(k);
      p[k] = this.pAt(k);
    }
    return { ts, p };
  }

  /**
   * Gives a structured-clone copy (e.g. from v8.deserialize) its class back; a copy from before the track
   * kept its own buffers (a `ring`: TimeRing's tsBuf, valueBuf, start, n) gets them from it.
   */
  static revive(o: object): PressureTrack {
    if ('ring' in o && typeof o.ring === 'object' && o.ring !== null) {
      // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- the fields are checked next
      const r = o.ring as { tsBuf?: unknown; valueBuf?: unknown; start?: unknown; n?: unknown };
      if (r.tsBuf instanceof Float64Array && r.valueBuf instanceof Float64Array && typeof r.start === 'number' && typeof r.n === 'number') {
        Object.assign(o, { tsBuf: r.tsBuf, pBuf: r.valueBuf, start: r.start, n: r.n });
        Reflect.deleteProperty(o, 'ring');
      }
    }
    // A copy from before the pairs shared one buffer: its two (tsBuf, pBuf), slot for slot, into one.
    const ts: unknown = Reflect.get(o, 'tsBuf');
    const p: unknown = Reflect.get(o, 'pBuf');
    if (ts instanceof Float64Array && p instanceof Float64Array) {
      const buf = new Float64Array(2 * ts.length);
      for (let i = 0; i < ts.length; i++) [buf[2 * i], buf[2 * i + 1]] = [ts[i] ?? NaN, p[i] ?? NaN];
      Object.assign(o, { buf });
      Reflect.deleteProperty(o, 'tsBuf');
      Reflect.deleteProperty(o, 'pBuf');
    }
    // A copy from before the buffer was a plain array.
    const buf: unknown = Reflect.get(o, 'buf');
    if (buf instanceof Float64Array) Object.assign(o, { buf: Array.from(buf) });
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- setPrototypeOf returns any
    return Object.setPrototypeOf(o, PressureTrack.prototype) as PressureTrack;
  }

  static fromJSON(maxGap_ms: number, capacity: number, s: { readonly ts: ArrayLike<number>; readonly p: ArrayLike<number> }): PressureTrack {
    const t = new PressureTrack(maxGap_ms, capacity);
    for (let k = 0; k < s.ts.length; k++) t.add(s.ts[k] ?? NaN, s.p[k] ?? NaN);
    return t;
  }
}
