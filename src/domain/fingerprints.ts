/**
 * The fingerprints of a channel's latest released readings: 32 bits of (timestamp, value) each, in a ring
 * grown by doubling up to its capacity. Inside a jittered channel's span (src/domain/dedup.ts) it tells a
 * redelivery (the same stamp and value again) from a reading the channel never released: 4 bytes a
 * reading instead of the 16 of an exact (ts, value) pair; two different readings share a fingerprint with
 * odds of one in 2^32 per pair held.
 */

const f64 = new Float64Array(2);
const w32 = new Uint32Array(f64.buffer);

/** 32 bits of (ts, value): a reading's fingerprint (murmur3's mixing over the four 32-bit words). */
export function fingerprint(ts: number, value: number): number {
  f64[0] = ts;
  f64[1] = value;
  let h = 0x9747b28c;
  for (let k = 0; k < 4; k++) {
    h = Math.imul(h ^ (w32[k] ?? 0), 0x5bd1e995);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Up to this many fingerprints sit in a plain array (8 bytes each, 48 bytes of objects), more in a Uint32Array
 * (4 bytes each, ~180 bytes of objects): a regular channel's 8 cost 112 bytes instead of 216.
 */
const PLAIN_UP_TO = 8;

const newRing = (size: number): number[] | Uint32Array => (size <= PLAIN_UP_TO ? new Array<number>(size).fill(0) : new Uint32Array(size));

export class FingerprintRing {
  private fp: number[] | Uint32Array | undefined;
  /** Slot the next fingerprint goes to, and how many are held. */
  private next = 0;
  private n = 0;

  /** @param capacity fingerprints held at most (raised later when a channel needs more: see {@link capacity}). */
  constructor(public capacity: number) {}

  get storedBytes(): number {
    const fp = this.fp;
    return fp === undefined ? 0 : fp instanceof Uint32Array ? fp.byteLength : 8 * fp.length;
  }

  push(ts: number, value: number): void {
    let fp = (this.fp ??= newRing(this.capacity));
    if (this.n === fp.length && fp.length < this.capacity) {
      // full: the oldest is at `next`; copied oldest first into a ring twice the size
      const grown = newRing(Math.min(this.capacity, fp.length * 2));
      for (let k = 0; k < this.n; k++) grown[k] = fp[(this.next + k) % this.n] ?? 0;
      this.next = this.n;
      this.fp = fp = grown;
    }
    fp[this.next] = fingerprint(ts, value);
    this.next = this.next + 1 === fp.length ? 0 : this.next + 1;
    if (this.n < fp.length) this.n++;
  }

  has(ts: number, value: number): boolean {
    const fp = this.fp;
    if (fp === undefined) return false;
    const h = fingerprint(ts, value);
    for (let k = 0; k < this.n; k++) if (fp[k] === h) return true;
    return false;
  }
}
