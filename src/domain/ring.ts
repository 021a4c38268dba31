/**
 * A ring of the last `capacity` (ts, value) pairs, oldest overwritten first. It allocates nothing until
 * the first push and then grows by doubling up to its capacity, so a channel that a cell never publishes
 * costs a few bytes and one that it does costs what it holds (a lab of 10,000 cells must not preallocate
 * a full ring per channel per cell). The pairs sit side by side in one Float64Array (ts at 2i, value at
 * 2i + 1): one allocation per growth instead of two (a typed array costs about 1 µs to allocate, and a
 * 10,000-cell lab grows tens of thousands of rings at start), and a pair is one cache line.
 */
const FIRST_SIZE = 16;
const EMPTY = new Float64Array(0);

export class TimeRing {
  /** The pairs, interleaved; its length is twice the pairs it has room for. */
  private buf: Float64Array = EMPTY;
  /** Index of the oldest pair. */
  private start = 0;
  private n = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`ring capacity must be at least 1, got ${String(capacity)}`);
  }

  get size(): number {
    return this.n;
  }

  /** Physical index of the k-th oldest pair (0 ≤ k < size). */
  private slot(k: number): number {
    const i = this.start + k;
    const room = this.buf.length >> 1;
    return i >= room ? i - room : i;
  }

  /** Time of the k-th oldest pair (0 ≤ k < size); NaN outside. */
  tsAt(k: number): number {
    return k >= 0 && k < this.n ? (this.buf[2 * this.slot(k)] ?? NaN) : NaN;
  }

  /** Value of the k-th oldest pair (0 ≤ k < size); NaN outside. */
  valueAt(k: number): number {
    return k >= 0 && k < this.n ? (this.buf[2 * this.slot(k) + 1] ?? NaN) : NaN;
  }

  push(ts: number, value: number): void {
    const room = this.buf.length >> 1;
    if (this.n < room) {
      const i = 2 * this.slot(this.n);
      this.buf[i] = ts;
      this.buf[i + 1] = value;
      this.n++;
      return;
    }
    if (room < this.capacity) {
      this.grow(Math.min(this.capacity, Math.max(FIRST_SIZE, room * 2)));
      this.push(ts, value);
      return;
    }
    // Full at capacity: overwrite the oldest.
    this.buf[2 * this.start] = ts;
    this.buf[2 * this.start + 1] = value;
    this.start = this.start + 1 === room ? 0 : this.start + 1;
  }

  private grow(size: number): void {
    this.buf = this.copy(2 * size);
    this.start = 0;
  }

  /** The pairs oldest first, interleaved, in a new array of `length` (≥ 2 × size). */
  private copy(length: number): Float64Array {
    const out = new Float64Array(length);
    const buf = this.buf;
    const first = Math.min(this.n, (buf.length >> 1) - this.start);
    out.set(buf.subarray(2 * this.start, 2 * (this.start + first)));
    if (first < this.n) out.set(buf.subarray(0, 2 * (this.n - first)), 2 * first);
    return out;
  }

  /** Oldest first. */
  toJSON(): { ts: number[]; value: number[] } {
    const ts: number[] = [];
    const value: number[] = [];
    for (let k = 0; k < this.n; k++) {
      ts.push(this.tsAt(k));
      value.push(this.valueAt(k));
    }
    return { ts, value };
  }

  /**
   * Oldest first, as typed arrays (copies): a checkpoint's record encodes them as raw bytes, where v8's
   * serializer writes a number array element by element.
   */
  toArrays(): { ts: Float64Array; value: Float64Array } {
    const ts = new Float64Array(this.n);
    const value = new Float64Array(this.n);
    for (let k = 0; k < this.n; k++) {
      const i = 2 * this.slot(k);
      ts[k] = this.buf[i] ?? NaN;
      value[k] = this.buf[i + 1] ?? NaN;
    }
    return { ts, value };
  }

  /**
   * Gives a structured-clone copy (e.g. from v8.deserialize) its class back. A clone from before the pairs
   * were interleaved (two arrays, `tsBuf` and `valueBuf`) is put into the one array.
   */
  static revive(o: object): TimeRing {
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- setPrototypeOf returns any
    const r = Object.setPrototypeOf(o, TimeRing.prototype) as TimeRing;
    const ts: unknown = Reflect.get(r, 'tsBuf');
    const value: unknown = Reflect.get(r, 'valueBuf');
    if (ts instanceof Float64Array && value instanceof Float64Array) {
      const buf = new Float64Array(2 * ts.length);
      for (let i = 0; i < ts.length; i++) {
        buf[2 * i] = ts[i] ?? NaN;
        buf[2 * i + 1] = value[i] ?? NaN;
      }
      r.buf = buf;
      Reflect.deleteProperty(r, 'tsBuf');
      Reflect.deleteProperty(r, 'valueBuf');
    }
    return r;
  }
}
