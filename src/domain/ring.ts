/**
 * A ring of the last `capacity` (ts, value) pairs, oldest overwritten first. It allocates nothing until
 * the first push and then grows by doubling up to its capacity, so a channel that a cell never publishes
 * costs a few bytes and one that it does costs what it holds (a lab of 10,000 cells must not preallocate
 * a full ring per channel per cell).
 */
const FIRST_SIZE = 16;
const EMPTY = new Float64Array(0);

export class TimeRing {
  private tsBuf: Float64Array = EMPTY;
  private valueBuf: Float64Array = EMPTY;
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
    const len = this.tsBuf.length;
    return i >= len ? i - len : i;
  }

  /** Time of the k-th oldest pair (0 ≤ k < size); NaN outside. */
  tsAt(k: number): number {
    return k >= 0 && k < this.n ? (this.tsBuf[this.slot(k)] ?? NaN) : NaN;
  }

  /** Value of the k-th oldest pair (0 ≤ k < size); NaN outside. */
  valueAt(k: number): number {
    return k >= 0 && k < this.n ? (this.valueBuf[this.slot(k)] ?? NaN) : NaN;
  }

  push(ts: number, value: number): void {
    const len = this.tsBuf.length;
    if (this.n < len) {
      const i = this.slot(this.n);
      this.tsBuf[i] = ts;
      this.valueBuf[i] = value;
      this.n++;
      return;
    }
    if (len < this.capacity) {
      this.grow(Math.min(this.capacity, Math.max(FIRST_SIZE, len * 2)));
      this.push(ts, value);
      return;
    }
    // Full at capacity: overwrite the oldest.
    this.tsBuf[this.start] = ts;
    this.valueBuf[this.start] = value;
    this.start = this.start + 1 === len ? 0 : this.start + 1;
  }

  private grow(size: number): void {
    const ts = new Float64Array(size);
    const value = new Float64Array(size);
    for (let k = 0; k < this.n; k++) {
      const i = this.slot(k);
      ts[k] = this.tsBuf[i] ?? NaN;
      value[k] = this.valueBuf[i] ?? NaN;
    }
    this.tsBuf = ts;
    this.valueBuf = value;
    this.start = 0;
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
      const i = this.slot(k);
      ts[k] = this.tsBuf[i] ?? NaN;
      value[k] = this.valueBuf[i] ?? NaN;
    }
    return { ts, value };
  }

  /** Gives a structured-clone copy (e.g. from v8.deserialize) its class back. */
  static revive(o: object): TimeRing {
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- setPrototypeOf returns any
    return Object.setPrototypeOf(o, TimeRing.prototype) as TimeRing;
  }
}
