/**
 * The batch every publisher of the wire contract sends, read straight from its bytes: exactly
 * `[{"ts":<number>,"value":<number>},…]` as compact JSON spells it (no whitespace, these two keys in this
 * order, nothing else). Such a payload needs neither the prescan nor `JSON.parse` (which builds an object
 * per reading only for the edge to read two numbers from it): one pass over the bytes. Anything else, or
 * anything this one would reject (a timestamp out of range, a number JSON reads as ±Infinity, a batch past
 * or near the limits), is left to the general path (prescan, `JSON.parse`, schema), which gives the rejection.
 *
 * A number is read as `JSON.parse` reads it: an integer of at most 15 digits exactly, a decimal of at most 17
 * significant digits (no exponent) by decimal.ts (the nearest double, proven so, or it says it cannot tell),
 * anything else by `Number` of its text (the same correctly rounded conversion).
 */
import type { JsonLimits } from './prescan.js';
import { decimalToDouble } from './decimal.js';
import { MAX_EPOCH_MS, MIN_EPOCH_MS } from './epoch.js';

/** The (ts, value) pairs of the latest batch read, interleaved; reused from call to call. */
export interface CompactBatch {
  /** Readings in the batch. */
  n: number;
  /** ts at 2k, value at 2k + 1. */
  pairs: Float64Array;
}

const batch: CompactBatch = { n: 0, pairs: new Float64Array(64) };

const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const TS_KEY = Buffer.from('{"ts":');
const VALUE_KEY = Buffer.from(',"value":');
/** Digits an integer may have to be summed exactly in a double (10^15 < 2^53). */
const EXACT_DIGITS = 15;

/**
 * The number just read by {@link readNumber}, at 0: a typed array's slot holds a double as it is, where a
 * module's `let` holds it boxed (a heap number per number read: ~40 B a reading, 10 % of the pipeline's allocations).
 */
const numberRead = new Float64Array(1);

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;

/** Reads a JSON number at `i` into {@link numberRead}; returns the index after it, or −1 when there is none. */
function readNumber(b: Buffer, i: number): number {
  const start = i;
  let c = b[i] ?? -1;
  const negative = c === MINUS;
  if (negative) c = b[++i] ?? -1;
  const firstDigit = i;
  if (c === ZERO) c = b[++i] ?? -1;
  else if (c > ZERO && c <= NINE) {
    do c = b[++i] ?? -1;
    while (isDigit(c));
  } else return -1;
  const digits = i - firstDigit;
  let integer = true;
  /** Digits after the point of a number without an exponent (0: none, or an exponent follows). */
  let fraction = 0;
  if (c === DOT) {
    integer = false;
    c = b[++i] ?? -1;
    if (!isDigit(c)) return -1;
    const dot = i;
    do c = b[++i] ?? -1;
    while (isDigit(c));
    fraction = i - dot;
  }
  if (c === LOWER_E || c === UPPER_E) {
    integer = false;
    fraction = 0;
    c = b[++i] ?? -1;
    if (c === PLUS || c === MINUS) c = b[++i] ?? -1;
    if (!isDigit(c)) return -1;
    do c = b[++i] ?? -1;
    while (isDigit(c));
  }
  if (integer && digits <= EXACT_DIGITS) {
    let v = 0;
    for (let k = firstDigit; k < i; k++) v = v * 10 + ((b[k] ?? ZERO) - ZERO);
    numberRead[0] = negative ? -v : v;
  } else {
    // A decimal its digits give for sure (NaN: not sure, or not a plain decimal), else Number of its text.
    const x = fraction > 0 ? decimalToDouble(b, firstDigit, i, fraction) : NaN;
    numberRead[0] = Number.isNaN(x) ? Number(b.toString('latin1', start, i)) : negative ? -x : x;
  }
  return i;
}

/** Whether `b` holds `key` at `i`. */
function hasAt(b: Buffer, i: number, key: Buffer): boolean {
  if (i + key.length > b.length) return false;
  for (let k = 0; k < key.length; k++) if (b[i + k] !== key[k]) return false;
  return true;
}

/**
 * The payload's readings when it is a compact batch that the general path would accept whole (every
 * timestamp epoch ms within range, every number finite, within `limits`), else undefined. The result is
 * reused by the next call.
 */
export function readCompactBatch(b: Buffer, limits: JsonLimits, maxReadings: number): CompactBatch | undefined {
  if (b[0] !== OPEN_ARRAY) return undefined;
  let i = 1;
  let n = 0;
  let pairs = batch.pairs;
  for (;;) {
    if (!hasAt(b, i, TS_KEY)) return undefined;
    i = readNumber(b, i + TS_KEY.length);
    const ts = numberRead[0] ?? NaN;
    if (i < 0 || !(ts >= MIN_EPOCH_MS && ts < MAX_EPOCH_MS) || !hasAt(b, i, VALUE_KEY)) return undefined;
    i = readNumber(b, i + VALUE_KEY.length);
    const value = numberRead[0] ?? NaN;
    if (i < 0 || !Number.isFinite(value) || b[i] !== CLOSE_OBJECT) return undefined;
    if (2 * n + 2 > pairs.length) {
      const grown = new Float64Array(pairs.length * 2);
      grown.set(pairs);
      batch.pairs = pairs = grown;
    }
    pairs[2 * n] = ts;
    pairs[2 * n + 1] = value;
    n++;
    const next = b[++i];
    i++;
    if (next === CLOSE_ARRAY) break;
    if (next !== COMMA) return undefined;
  }
  // Well within the prescan's bounds (n − 1 commas between the elements and one in each) and the parser's.
  if (i !== b.length || n >= maxReadings || 2 * n - 1 > limits.maxValues) return undefined;
  batch.n = n;
  return batch;
}
