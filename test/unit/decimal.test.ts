/**
 * src/ingest/decimal.ts reads a plain decimal of up to 17 significant digits into the double `Number` reads
 * it as, bit for bit, or says it cannot tell (NaN, and the caller asks `Number`). Checked against `Number`
 * on millions of strings (seeded): shortest round-trip texts of random doubles, random digit strings of 1 to
 * 18 digits with the point anywhere and leading zeros, the decimals nearest to the midpoints between adjacent
 * doubles (16 and 17 digits, rounded down, up, and one more digit off: the cases a wrong rounding gets wrong),
 * the exact midpoints that 17 digits can write (ties, between 2^52 and 2^54), and the benchmark's values.
 */
import { describe, expect, it } from 'vitest';
import { decimalToDouble } from '../../src/ingest/decimal.js';
import { Prng } from '../../src/sim/prng.js';

interface Tally {
  checked: number;
  /** Answered NaN: left to Number. */
  left: number;
  wrong: string[];
}

/** Checks one plain positive decimal text (with a point) against Number. */
function check(text: string, t: Tally): void {
  const b = Buffer.from(text, 'latin1');
  const x = decimalToDouble(b, 0, b.length, b.length - text.indexOf('.') - 1);
  t.checked++;
  if (Number.isNaN(x)) t.left++;
  else if (!Object.is(x, Number(text)) && t.wrong.length < 10) t.wrong.push(`${text}: ${String(x)} ≠ ${String(Number(text))}`);
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** A random positive normal double with a biased exponent in [1003, 1081): about 1e-6 to 1e18. */
function randomDouble(p: Prng): number {
  u32[1 - HIGH] = p.nextUint32();
  u32[HIGH] = ((1003 + (p.nextUint32() % 78)) << 20) | (p.nextUint32() & 0xfffff);
  return f64[0] ?? NaN;
}

/** `x` written as JavaScript writes it, as a plain decimal with a point (undefined: JavaScript uses an exponent). */
function plain(x: number): string | undefined {
  const s = String(x);
  return s.includes('e') ? undefined : s.includes('.') ? s : `${s}.0`;
}

/** q·10^e as a plain decimal with a point. */
function decimalText(q: bigint, e: number): string {
  const s = q.toString();
  if (e >= 0) return `${s}${'0'.repeat(e)}.0`;
  const k = -e;
  return s.length > k ? `${s.slice(0, s.length - k)}.${s.slice(s.length - k)}` : `0.${'0'.repeat(k - s.length)}${s}`;
}

/** num/den (positive) rounded down to `sig` significant digits: q·10^e. */
function truncated(num: bigint, den: bigint, sig: number): { q: bigint; e: number } {
  const lo = 10n ** BigInt(sig - 1);
  const hi = 10n ** BigInt(sig);
  let n = num;
  let d = den;
  let e = 0;
  while (n / d >= hi) {
    d *= 10n;
    e++;
  }
  while (n / d < lo) {
    n *= 10n;
    e--;
  }
  return { q: n / d, e };
}

describe('decimalToDouble', () => {
  it('is Number of the text, bit for bit, whenever it answers: shortest texts of random doubles and random digit strings', () => {
    const p = new Prng(13);
    const t: Tally = { checked: 0, left: 0, wrong: [] };
    const u: Tally = { checked: 0, left: 0, wrong: [] };
    for (let i = 0; i < 600_000; i++) {
      const x = randomDouble(p);
      const s = plain(x);
      // past 2^53 (integers) Number's text may run to 18 digits and more with zeros at the end: left to Number
      if (s !== undefined) check(s, x < 2 ** 53 ? t : u);
      const s2 = plain(Math.exp(p.range(-14, 36)));
      if (s2 !== undefined) check(s2, t);
    }
    // Shortest texts of doubles are its daily bread: it answers all of them itself (below 2^53).
    expect(t.left).toBe(0);
    for (let i = 0; i < 600_000; i++) {
      const n = 1 + (p.nextUint32() % 18);
      let d = p.uniform() < 0.2 ? '0'.repeat(p.nextUint32() % 5) : '';
      for (let k = 0; k < n; k++) d += String(p.nextUint32() % 10);
      if (d.length < 2) d += '0';
      const at = 1 + (p.nextUint32() % (d.length - 1));
      check(`${d.slice(0, at).replace(/^0+(?=\d)/, '')}.${d.slice(at)}`, t);
    }
    expect([...t.wrong, ...u.wrong]).toEqual([]);
    expect(t.checked + u.checked).toBeGreaterThan(1_500_000);
  });

  it('is Number of the text at and around the midpoints between adjacent doubles (ties to even left to Number)', () => {
    const p = new Prng(2026);
    const t: Tally = { checked: 0, left: 0, wrong: [] };
    for (let i = 0; i < 150_000; i++) {
      const x = randomDouble(p);
      f64[0] = x;
      const exponent = ((u32[HIGH] ?? 0) >>> 20) - 1075;
      const mantissa = (BigInt((u32[HIGH] ?? 0) & 0xfffff) << 32n) | BigInt(u32[1 - HIGH] ?? 0) | (1n << 52n);
      // the midpoint above x: (2·mantissa + 1)·2^(exponent − 1)
      const num = (2n * mantissa + 1n) << BigInt(Math.max(0, exponent - 1));
      const den = 1n << BigInt(Math.max(0, 1 - exponent));
      for (const sig of [16, 17]) {
        const { q, e } = truncated(num, den, sig);
        for (const dq of [-1n, 0n, 1n, 2n]) check(decimalText(q + dq, e), t);
      }
    }
    // Midpoints 17 digits write exactly: x + 0.5 in [2^52, 2^53), x + 1 in [2^53, 2^54); and doubles there.
    for (let i = 0; i < 100_000; i++) {
      const x = 2 ** 52 + Math.floor(p.uniform() * 2 ** 52);
      check(x < 2 ** 53 ? `${x}.5` : `${x % 2 === 0 ? x + 1 : x}.0`, t);
      check(`${x}.0`, t);
      check(`0.${String(x).padStart(17, '0')}`, t);
    }
    for (const s of ['4503599627370496.5', '4503599627370497.5', '9007199254740993.0', '9007199254740995.0', '900719925474099.3', '9007199254740992.0'])
      check(s, t);
    expect(t.wrong).toEqual([]);
    expect(t.checked).toBeGreaterThan(1_500_000);
  });

  it("answers itself for every value the benchmark's publisher sends", () => {
    const t: Tally = { checked: 0, left: 0, wrong: [] };
    for (let ms = 0; ms < 3_600_000; ms += 250)
      for (const v of [15 + (ms / 3_600_000) * 2, 17 - (ms / 3_600_000) * 2, 3.6 + (ms / 3_600_000) * 0.5, 0.65]) check(plain(v) ?? '', t);
    expect(t.wrong).toEqual([]);
    expect(t.left).toBe(0);
  });
});
