/**
 * A plain decimal `ddd.ddd` (no sign, no exponent) of up to 17 significant digits read from its bytes into
 * the double `Number` reads it as (the nearest, ties to even), without making a string of it; or NaN when
 * this cannot tell for sure, and the caller asks `Number`. 17 digits is what JavaScript (and most printers of
 * shortest round-trip decimals) write for a double such as 15.000555555555556.
 *
 * Let N be the digits as an integer and f the digits after the point, so the decimal is D = N / 10^f, with
 * 10^f exact for f ≤ 22:
 * - N ≤ 2^53 (every decimal of at most 15 digits, most of 16): N is exact as a double, and one division is
 *   the correctly rounded quotient (IEEE 754), as Clinger's fast path does.
 * - N of 16 or 17 digits past 2^53: a candidate q (N rounded to a double, divided by 10^f: within a couple
 *   of units in the last place of D), then the exact residual R = N − q·10^f decides. N = hi·10^m + lo,
 *   hi the first 9 digits and lo the m ≤ 8 others, and hi·10^m = (hi·5^m)·2^m is exact (hi·5^m < 2^53).
 *   q·10^f is split exactly into p1 + p2 (Dekker's product, Veltkamp's split; exact in binary64 with round
 *   to nearest and no overflow or underflow, which these magnitudes exclude). Then R = (hi·10^m − p1) + lo − p2,
 *   where hi·10^m − p1 is exact (Sterbenz: the two are within a factor of 2, checked) and so is adding lo
 *   (Knuth's two-sum error checked to be 0): R = S − p2 with S exact. q is the double nearest D when
 *   |R| < T = ulp(q)/2 · 10^f (T exact: a power of two times 10^f) and q is not a power of two (then its
 *   neighbours are both one ulp away). R's rounding r = fl(S − p2) is monotone in R, so r < T implies R < T
 *   and r > −T implies R > −T: accepting only when |r| < T never accepts a wrong q. Otherwise q moves one
 *   ulp toward R's sign and is checked again, a few times at most; a tie (|R| = T exactly) is never accepted,
 *   nor a power of two, nor more than 17 significant digits: NaN (the caller's `Number`).
 */

/** 2^53: integers up to it are exact doubles. */
const TWO_53 = 2 ** 53;
/** 10^k for k ≤ 22: each exactly a double. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);
/** Veltkamp's splitter for binary64: 2^27 + 1. */
const SPLITTER = 134_217_729;
const ZERO = 0x30;
const DOT = 0x2e;
/** Candidates tried before giving up (the first is within ~2 ulps; each try moves one). */
const TRIES = 4;

/** The bits of a double, to read its exponent and mantissa. */
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** Which 32-bit word holds the sign, exponent and high mantissa bits. */
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LOW = 1 - HIGH;

/** The low part of the latest {@link twoProduct}: a·b = product + productError exactly. */
let productError = 0;

/** a·b rounded; sets {@link productError} to a·b minus it, exactly (Dekker). */
function twoProduct(a: number, b: number): number {
  const p = a * b;
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  productError = ah * bh - p + ah * bl + al * bh + al * bl;
  return p;
}

/**
 * The decimal at `b[start, end)`: digits with one `.` among them (`fraction` digits after it, at least one),
 * as the nearest double; NaN when it is not sure (see the module's doc). No sign: the caller negates.
 */
export function decimalToDouble(b: Uint8Array, start: number, end: number, fraction: number): number {
  // Zeros at the end of the fraction change nothing (9007199254740993.0 is 16 digits over 10^0).
  while (fraction > 0 && b[end - 1] === ZERO) {
    end--;
    fraction--;
  }
  if (fraction > 22) return NaN;
  let k = start;
  // Leading zeros are no significant digits (0.000123…).
  while (k < end && (b[k] === ZERO || b[k] === DOT)) k++;
  // N = hi·10^m + lo: the first 9 significant digits in hi, the others (m ≤ 8 of them) in lo.
  let hi = 0;
  let lo = 0;
  let digits = 0;
  for (; k < end; k++) {
    const c = b[k] ?? ZERO;
    if (c === DOT) continue;
    if (++digits <= 9) hi = hi * 10 + (c - ZERO);
    else lo = lo * 10 + (c - ZERO);
  }
  if (digits > 17) return NaN;
  const P = POWERS_OF_TEN[fraction] ?? NaN;
  // hi·10^m = (hi·5^m)·2^m: exact (hi·5^m < 10^9·5^8 < 2^53), and so is the sum below 2^53.
  const head = hi * (POWERS_OF_TEN[digits > 9 ? digits - 9 : 0] ?? NaN);
  const n = head + lo;
  // n < 2^53 (rounded) only if N < 2^53 (rounding is monotone): N exact, one correctly rounded division.
  if (n < TWO_53) return n / P;
  return nearest(head, lo, P);
}

/** The double nearest (head + lo) / P, with head = hi·10^8 exact, lo < 10^8 and head + lo > 2^53; or NaN (see the module's doc). */
function nearest(head: number, lo: number, P: number): number {
  let q = (head + lo) / P;
  for (let t = 0; t < TRIES; t++) {
    f64[0] = q;
    const high = u32[HIGH] ?? 0;
    const exponent = (high >>> 20) & 0x7ff;
    // A power of two (its neighbours are not equally far), or not a normal number with room below: not here.
    if (((high & 0xfffff) === 0 && u32[LOW] === 0) || exponent <= 53 || exponent === 0x7ff) return NaN;
    // ulp(q) = 2^(exponent − 1075), built from its bits.
    u32[HIGH] = (exponent - 52) << 20;
    u32[LOW] = 0;
    const ulp = f64[0];
    const p1 = twoProduct(q, P);
    const p2 = productError;
    // Sterbenz: head − p1 exact when p1 / 2 ≤ head ≤ 2·p1.
    if (!(head <= 2 * p1 && p1 <= 2 * head)) return NaN;
    const d = head - p1;
    const s = d + lo;
    // s exact: Knuth's two-sum error of d + lo is zero.
    const loPart = s - d;
    if (d - (s - loPart) + (lo - loPart) !== 0) return NaN;
    const r = s - p2;
    const half = (ulp / 2) * P;
    if (r < half && r > -half) return q;
    q = r > 0 ? q + ulp : q - ulp;
  }
  return NaN;
}
