/**
 * Every value of a channel's latest instants that hold several readings (a cycler's step change: two rows at
 * one timestamp, different values, both kept by the aligner): the latest {@link INSTANT_VALUES} such
 * readings, exactly. Part of a channel's released readings (dedup.ts).
 */

/** Readings at instants with several readings (step changes) whose values are kept exactly, per channel. */
export const INSTANT_VALUES = 16;
const EMPTY = new Float64Array(0);

export class InstantValues {
  private ts: Float64Array = EMPTY;
  private v: Float64Array = EMPTY;
  private first = 0;
  private n = 0;

  /** Bytes of the typed arrays held (allocated on the first instant with several readings). */
  get storedBytes(): number {
    return this.ts.byteLength + this.v.byteLength;
  }

  /** The newest instant held, if any. */
  get newest(): number | undefined {
    return this.n > 0 ? this.ts[(this.first + this.n - 1) % this.ts.length] : undefined;
  }

  /** Keeps one value of instant `ts` (oldest first; the oldest goes when full). */
  push(ts: number, value: number): void {
    const cap = INSTANT_VALUES;
    if (this.ts.length === 0) {
      this.ts = new Float64Array(cap);
      this.v = new Float64Array(cap);
    }
    let i: number;
    if (this.n < cap) i = (this.first + this.n++) % cap;
    else {
      i = this.first;
      this.first = (this.first + 1) % cap;
    }
    this.ts[i] = ts;
    this.v[i] = value;
  }

  /** undefined: not an instant held whole; else whether the value is one of the instant's. */
  has(ts: number, value: number): boolean | undefined {
    const cap = this.ts.length;
    let seen = false;
    for (let k = this.n - 1; k >= 0; k--) {
      const i = (this.first + k) % cap;
      const t = this.ts[i] ?? NaN;
      if (t < ts) break;
      if (t !== ts) continue;
      if (this.v[i] === value) return true;
      seen = true;
    }
    // Once the ring is full, its oldest instant may have lost a value to the overwrite: decided by its run.
    if (!seen || (this.n === cap && this.ts[this.first] === ts)) return undefined;
    return false;
  }

  /** Copies, oldest first. */
  toState(): { readonly ts: Float64Array; readonly value: Float64Array } {
    const ts = new Float64Array(this.n);
    const value = new Float64Array(this.n);
    for (let k = 0; k < this.n; k++) {
      const i = (this.first + k) % this.ts.length;
      ts[k] = this.ts[i] ?? NaN;
      value[k] = this.v[i] ?? NaN;
    }
    return { ts, value };
  }
}
