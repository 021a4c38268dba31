/**
 * Field access for the large exports (EC-Lab runs of millions of rows) without `split`: field
 * boundaries by `indexOf`, and only the fields a reader needs are converted.
 */

/**
 * Fills `starts` / `ends` with the bounds of the first `want` fields of `text` split on `sep`; returns how
 * many fields were found (fewer when the line is short). The last field found ends at the line's end.
 */
export function fieldBounds(text: string, sep: string, want: number, starts: Int32Array, ends: Int32Array): number {
  let s = 0;
  let k = 0;
  while (k < want) {
    const e = text.indexOf(sep, s);
    starts[k] = s;
    if (e < 0) {
      ends[k] = text.length;
      return k + 1;
    }
    ends[k] = e;
    k++;
    s = e + 1;
  }
  return k;
}

/**
 * The number in text[start, end), as `Number()` reads it (surrounding spaces allowed), or with a decimal
 * comma (`0,25`). NaN for anything else, an empty field included. Short unsigned integers (mode, half
 * cycle, step index) are read digit by digit; the rest through `Number()`, which is the fastest exact
 * conversion there is here.
 */
export function numberAt(text: string, start: number, end: number): number {
  const len = end - start;
  if (len > 0 && len <= 4) {
    let v = 0;
    let i = start;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
    }
    if (i === end) return v;
  }
  const s = text.slice(start, end);
  const v = +s;
  if (v === v) return v === 0 && s.trim() === '' ? NaN : v;
  return s.includes(',') ? +s.replace(',', '.') : NaN;
}

/**
 * A column's last text and value: a field whose text repeats (the current during a CC step or a rest,
 * the cycle number, the mode) is compared in place and not converted again.
 */
export class FieldCache {
  private text = '';
  private value = NaN;

  /** The number in text[start, end), reusing the last conversion when the text is the same. */
  numberAt(text: string, start: number, end: number): number {
    const t = this.text;
    if (end - start === t.length && text.startsWith(t, start)) return this.value;
    const s = text.slice(start, end);
    let v = +s;
    if (v !== v) v = s.includes(',') ? +s.replace(',', '.') : NaN;
    else if (v === 0 && s.trim() === '') v = NaN;
    this.text = s;
    this.value = v;
    return v;
  }
}

/** Exact powers of ten (10^0 … 10^22: every one a double without rounding). */
const EXACT_POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
/** 2^53: integers below it are exact doubles, and so is every step of summing their digits. */
const MAX_EXACT = 2 ** 53;

/** Where the last `numberFrom` stopped: the index of the first byte that is not part of the number. */
let numberEnd = 0;

/** Longest run of digits read into a small integer before it is folded into the mantissa (10^9 < 2^31). */
const CHUNK_DIGITS = 9;

/**
 * The plain number that starts at buf[start] (`[-+]digits[.digits][(E|e)[-+]digits]`, read up to the first
 * byte that cannot continue it, at most `end`; `numberEnd` is set to that byte's index), exactly what
 * `Number()` gives for the same text; NaN when it is not of that form or too far from the fast path (more
 * than 20 digits, a power of ten beyond ±22). With at most 2^53 as its digits (an integer) the value is one
 * exact integer times or divided by one exact power of ten, a single correctly rounded operation (Clinger's
 * fast path); a longer mantissa (EC-Lab's 16 digits from 9.007199254740992: 5 % of its values) goes
 * through `Number()` on the field's text. Digits are summed nine at a time in a small integer: every
 * partial sum below 2^53 is exact, and a sum at or past 2^53 stays at or past it.
 */
function numberFrom(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let c = i < end ? (buf[i] ?? 0) : 0;
  const neg = c === 45;
  if (neg || c === 43) c = ++i < end ? (buf[i] ?? 0) : 0;
  let m = 0;
  let chunk = 0;
  let inChunk = 0;
  let digits = 0;
  let scale = 0;
  // the digits, then (once) a point and the digits after it, each of which scales the value down
  let point = false;
  for (;;) {
    if (c >= 48 && c <= 57) {
      if (inChunk === CHUNK_DIGITS) {
        m = m * 1e9 + chunk;
        chunk = 0;
        inChunk = 0;
      }
      chunk = chunk * 10 + (c - 48);
      inChunk++;
      digits++;
      if (point) scale--;
    } else if (c === 46 && !point) point = true;
    else break;
    c = ++i < end ? (buf[i] ?? 0) : 0;
  }
  m = m * (EXACT_POW10[inChunk] ?? NaN) + chunk;
  numberEnd = i;
  if (digits === 0) return NaN;
  if (c === 69 || c === 101) {
    c = ++i < end ? (buf[i] ?? 0) : 0;
    const eneg = c === 45;
    if (eneg || c === 43) c = ++i < end ? (buf[i] ?? 0) : 0;
    let x = 0;
    let xd = 0;
    while (c >= 48 && c <= 57 && xd < 6) {
      x = x * 10 + (c - 48);
      xd++;
      c = ++i < end ? (buf[i] ?? 0) : 0;
    }
    numberEnd = i;
    if (xd === 0) return NaN;
    scale += eneg ? -x : x;
  }
  if (scale < -22 || scale > 22) return NaN;
  // ≥, not >: past 2^53 the sum rounds, and may round down to 2^53 itself.
  if (m >= MAX_EXACT) return digits <= 20 ? Number(latin1(buf, start, i)) : NaN;
  const v = scale === 0 ? m : scale > 0 ? m * (EXACT_POW10[scale] ?? NaN) : m / (EXACT_POW10[-scale] ?? NaN);
  return neg ? -v : v;
}

/**
 * The text of the single-byte characters buf[start, end): one flat string made natively from a Buffer (what
 * the file reader passes); a character at a time from another Uint8Array (a rope that `Number()` then has
 * to flatten: ~2× slower on EC-Lab's 22-character fields, 10 % of the rows of a GCPL export).
 */
function latin1(buf: Uint8Array, start: number, end: number): string {
  if (Buffer.isBuffer(buf)) return buf.toString('latin1', start, end);
  let s = '';
  for (let k = start; k < end; k++) s += String.fromCharCode(buf[k] ?? 0);
  return s;
}

/**
 * The number in the ASCII bytes buf[start, end), read without making a string (but for a long mantissa), or
 * NaN when the whole field is not of the plain form `numberFrom` reads: NaN tells the caller to read the field
 * as text instead (spaces, a decimal comma, more digits, an empty field, anything else).
 */
export function bytesNumber(buf: Uint8Array, start: number, end: number): number {
  const v = numberFrom(buf, start, end);
  return numberEnd === end ? v : NaN;
}

/** Longest field a `RepeatCache` keeps. */
const REPEAT_BYTES = 32;

/**
 * The last field read into each slot asked for (bytes and number), for columns whose text repeats row after
 * row (the current in a CC step or a rest, the cycle number): a field equal to the last one is compared, not
 * converted again. The bytes path's `FieldCache`.
 */
export class RepeatCache {
  private readonly bytes: Uint8Array;
  private readonly len: Int16Array;
  private readonly value: Float64Array;

  /** `repeats[slot]` true: that slot's fields go through the cache. */
  constructor(readonly repeats: readonly boolean[]) {
    this.bytes = new Uint8Array(repeats.length * REPEAT_BYTES);
    this.len = new Int16Array(repeats.length).fill(-1);
    this.value = new Float64Array(repeats.length);
  }

  /** Whether the field at buf[i] (to the next tab or `end`) is the slot's last one: the index just after it, else -1. */
  match(buf: Uint8Array, i: number, end: number, slot: number): number {
    const n = this.len[slot] ?? -1;
    if (n < 0 || i + n > end) return -1;
    const base = slot * REPEAT_BYTES;
    for (let j = 0; j < n; j++) if (buf[i + j] !== this.bytes[base + j]) return -1;
    const t = i + n;
    return t === end || buf[t] === 9 ? t : -1;
  }

  lastValue(slot: number): number {
    return this.value[slot] ?? NaN;
  }

  /** Keeps the field buf[from, to) and its number as the slot's last one (a field too long is not kept). */
  keep(buf: Uint8Array, from: number, to: number, slot: number, v: number): void {
    const n = to - from;
    if (n > REPEAT_BYTES) {
      this.len[slot] = -1;
      return;
    }
    this.bytes.set(buf.subarray(from, to), slot * REPEAT_BYTES);
    this.len[slot] = n;
    this.value[slot] = v;
  }
}

/**
 * One tab-separated line of ASCII bytes buf[start, end) (without its end of line), its first `want` fields
 * in one pass: their bounds into `starts` / `ends`, and for each field k with `slots[k] >= 0` its number into
 * `values[slots[k]]` as `bytesNumber` reads the field (NaN: not a plain number). The fields oep reads are
 * converted where they are found, not scanned twice. Returns how many fields were found (fewer when the
 * line is short); the last field found ends at the line's end. With `repeat`, the slots it names are compared
 * with their last field first.
 */
export function bytesFieldNumbers(
  buf: Uint8Array,
  start: number,
  end: number,
  want: number,
  slots: Int8Array,
  starts: Int32Array,
  ends: Int32Array,
  values: Float64Array,
  repeat?: RepeatCache,
): number {
  let i = start;
  for (let k = 0; k < want; k++) {
    starts[k] = i;
    const slot = slots[k] ?? -1;
    const cached = slot >= 0 && repeat?.repeats[slot] === true ? repeat : undefined;
    const same = cached !== undefined ? cached.match(buf, i, end, slot) : -1;
    if (same >= 0 && cached !== undefined) {
      values[slot] = cached.lastValue(slot);
      i = same;
    } else if (slot >= 0) {
      const v = numberFrom(buf, i, end);
      const from = i;
      i = numberEnd;
      const whole = i === end || buf[i] === 9;
      values[slot] = whole ? v : NaN;
      if (whole) cached?.keep(buf, from, i, slot, v);
    }
    while (i < end && buf[i] !== 9) i++;
    ends[k] = i;
    if (i >= end) return k + 1;
    i++;
  }
  return want;
}
