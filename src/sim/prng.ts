/**
 * Seeded pseudo-random numbers for the simulator.
 *
 * Pure and deterministic: the same seed always yields the same sequence, on every platform
 * (only 32-bit integer arithmetic via `Math.imul` and `>>>`). Never use `Math.random()` in `src/sim`.
 *
 * Generator: mulberry32 (32-bit state, period 2^32, passes the usual smoke tests; ample for
 * sensor noise and event timing). Gaussian draws use the Box-Muller transform with the second
 * variate cached.
 */

/** 2^32 as a float: divides a uint32 into [0, 1). */
const TWO_POW_32 = 4294967296;

/** A seeded mulberry32 generator with uniform and gaussian draws. */
export class Prng {
  private state: number;
  private spare = 0;
  private hasSpare = false;

  /** @param seed any number; it is reduced to 32 bits with {@link seedFromNumber}. */
  constructor(seed: number) {
    this.state = seedFromNumber(seed);
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform draw in [0, 1). */
  uniform(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform draw in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Standard normal draw (mean 0, standard deviation 1), Box-Muller with the spare variate cached. */
  gaussian(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    // u1 in (0, 1] so that log(u1) is finite.
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const a = 2 * Math.PI * u2;
    this.spare = r * Math.sin(a);
    this.hasSpare = true;
    return r * Math.cos(a);
  }
}

/** murmur3's 32-bit finalizer: a bijective avalanche mix of a uint32. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Reduces any finite number (integer or not, beyond 32 bits or negative) to a well-mixed uint32 seed.
 * Non-finite input maps to a fixed seed.
 */
export function seedFromNumber(seed: number): number {
  if (!Number.isFinite(seed)) return 0x9e3779b9;
  const int = Math.trunc(seed);
  const lo = int >>> 0;
  const hi = Math.floor(int / TWO_POW_32) >>> 0;
  const frac = Math.floor((seed - int) * TWO_POW_32) >>> 0;
  return fmix32(lo ^ fmix32(hi ^ fmix32(frac + 0x9e3779b9)));
}

/** FNV-1a 32-bit hash of a string's UTF-16 code units. */
export function hashString32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Derives an independent stream seed from a base seed, a name (e.g. a cell id) and a stream number
 * (e.g. 0 = model, 1 = pressure sensor), so that streams never share a sequence.
 */
export function deriveSeed(seed: number, name: string, stream: number): number {
  return fmix32(seedFromNumber(seed) ^ fmix32(hashString32(name) + Math.imul(stream + 1, 0x9e3779b9)));
}
