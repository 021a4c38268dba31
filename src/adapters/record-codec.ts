/**
 * The binary encoding of a checkpoint's cell records since state format 5 (state-log.ts): plain data
 * (objects, arrays, numbers, strings, booleans, null, undefined, typed arrays) tagged value by value, the
 * record's key names and its common string values written as an index into {@link NAMES}, a table listed
 * once here. Decoding gives back what `v8.deserialize(v8.serialize(x))` gives for the same value: the same
 * keys in the same order, a key holding `undefined` kept apart from an absent one, -0, NaN and ±Infinity,
 * each typed array of its own class (and owning its own buffer, never a view into what it was read from).
 * A v8-serialized record (format 4) spent most of its 2.7 KB, and of its encoding time, on key names.
 *
 * A value is one tag byte, then:
 * - 0x80 + 32 + n (0x80–0xff): a small integer n in −32..95, nothing after;
 * - UNDEFINED, NULL, FALSE, TRUE, HOLE (an array's missing element): nothing after;
 * - INT: a zigzag varint (integers of magnitude below 2^52; -0 and larger ones are F64);
 * - F64: 8 bytes, the float64 as it is (little-endian);
 * - ASCII / UTF8: varint byte length, the bytes; UTF16: varint byte length, UTF-16LE code units (a string
 *   holding a lone surrogate, which UTF-8 cannot carry: it comes back unchanged, as from v8);
 * - NAME: a name code (below): a string value from {@link NAMES};
 * - ARRAY: varint length, the elements;
 * - OBJECT: (name code, value)* then the byte 0. A name code is one byte: 0 ends the object, 1 is a key not in
 *   the table (a string value follows: the key itself), 2–254 are NAMES[code − 2], 255 is followed by a varint
 *   i for NAMES[253 + i]. A new field is thus always written, inline, until it is added to the table;
 * - TYPED: a byte, the class (index into {@link TYPED_CLASSES}), varint byte length, the bytes (host order:
 *   little-endian, as v8's serializer writes them).
 * Varints are unsigned LEB128 (7 bits a byte, low first).
 *
 * **{@link NAMES} and {@link TYPED_CLASSES} are part of the format: a name is only ever appended at the end,
 * never removed, renamed or moved, or the records already written decode to other keys.**
 *
 * Refused loudly ({@link RecordCodecError}, naming where it stands in the value), never altered: functions and
 * symbols (v8 refuses them too), bigints, Map, Set, Date, RegExp, Error, boxed primitives and ArrayBuffers (v8
 * would keep them; no record holds one), a value nested deeper than {@link MAX_DEPTH} (a cycle), and any
 * object while Object.prototype holds an enumerable property. An instance of a class is written as v8 writes
 * it: its own enumerable properties, as a plain object. An object met twice is written twice (v8 would keep
 * one object). An array's non-index properties are not written (v8 writes them; no record has any).
 */
import { NAMES } from './record-names.js';

export { NAMES };

/** Tags (see the header). */
const UNDEFINED = 0;
const NULL = 1;
const FALSE = 2;
const TRUE = 3;
const INT = 4;
const F64 = 5;
const ASCII = 6;
const UTF8 = 7;
const UTF16 = 8;
const NAME = 9;
const ARRAY = 10;
const OBJECT = 11;
const TYPED = 12;
const HOLE = 13;
const SMALL = 0x80;
const SMALL_MIN = -32;
const SMALL_MAX = 95;

/** Name codes. */
const END = 0;
const INLINE = 1;
const FIRST_NAME = 2;
const LONG_NAME = 255;

/** Nesting past this is refused (a record is a few levels deep; a cycle would recurse for ever). */
export const MAX_DEPTH = 64;

/** Typed array classes by index (append only). */
const TYPED_CLASSES = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
  Buffer,
] as const;
type TypedClass = (typeof TYPED_CLASSES)[number];
const TYPED_INDEX = new Map<unknown, number>(TYPED_CLASSES.map((c, i) => [c, i]));
const BUFFER_CLASS = TYPED_CLASSES.indexOf(Buffer);
const DATAVIEW_CLASS = TYPED_CLASSES.indexOf(DataView);
const FLOAT64_CLASS = TYPED_CLASSES.indexOf(Float64Array);
const FLOAT32_CLASS = TYPED_CLASSES.indexOf(Float32Array);

/** Each name's index (a name listed twice keeps its first). */
const NAME_INDEX = new Map<string, number>();
NAMES.forEach((n, i) => {
  if (!NAME_INDEX.has(n)) NAME_INDEX.set(n, i);
});

/** Scratch for a float's bytes (encoding and decoding are synchronous: one is enough). */
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const f32 = new Float32Array(f64.buffer, 0, 1);

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO_28 = 2 ** 28;
/** Integers below this magnitude are varints (their zigzag, below 2^53, stays exact). */
const INT_LIMIT = 2 ** 52;
/** The most an encoder's buffer keeps between records. */
const KEPT_BYTES = 1 << 20;
/** The weight of a varint's 8th byte (bits 49–55): no varint goes further. */
const VARINT_MAX_SCALE = 2 ** 49;

/** A value the codec does not write, or bytes it cannot read; `path` says where in the value. */
export class RecordCodecError extends Error {
  constructor(
    readonly reason: string,
    readonly path: string[] = [],
  ) {
    super(reason);
    this.name = 'RecordCodecError';
  }

  /** The error met inside `key`. */
  within(key: string): this {
    this.path.unshift(key);
    this.message = `${this.reason} (at ${this.path.join('.')})`;
    return this;
  }
}

const proto = Object.prototype;
const toStringTag = (v: object): string => proto.toString.call(v);

/**
 * Writes records into one buffer, reused (grown as needed) from one record to the next. {@link encode}
 * returns a view into that buffer: copy it before the next call.
 */
export class RecordEncoder {
  private buf: Buffer;
  private pos = 0;

  constructor(private readonly initialBytes = 16 << 10) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** `v` encoded: a view into the encoder's buffer, valid until the next call. */
  encode(v: unknown): Buffer {
    if (!LITTLE_ENDIAN) throw new RecordCodecError('the record codec writes typed arrays little-endian: this host is big-endian');
    if (prototypePolluted()) throw new RecordCodecError('Object.prototype holds an enumerable property: records would not be written as they are');
    // a buffer grown past KEPT_BYTES by an unusually large record is not kept for the next ones
    if (this.buf.length > KEPT_BYTES) this.buf = Buffer.allocUnsafeSlow(this.initialBytes);
    this.pos = 0;
    this.value(v, 0);
    return this.buf.subarray(0, this.pos);
  }

  /** Makes room for `n` more bytes. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  /** An unsigned varint below 2^32 (room for 5 bytes made by the caller). */
  private varint(n: number): void {
    const b = this.buf;
    let p = this.pos;
    let x = n >>> 0;
    while (x >= 0x80) {
      b[p++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    b[p++] = x;
    this.pos = p;
  }

  private value(v: unknown, depth: number): void {
    switch (typeof v) {
      case 'number':
        this.number(v);
        return;
      case 'string':
        this.string(v);
        return;
      case 'boolean':
        this.byte(v ? TRUE : FALSE);
        return;
      case 'undefined':
        this.byte(UNDEFINED);
        return;
      case 'object':
        if (v === null) this.byte(NULL);
        else if (depth >= MAX_DEPTH) throw new RecordCodecError(`nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
        else if (Array.isArray(v)) this.array(v, depth + 1);
        else if (ArrayBuffer.isView(v)) this.typed(v);
        else this.object(v, depth + 1);
        return;
      default:
        throw new RecordCodecError(`a ${typeof v} is not plain data`);
    }
  }

  private number(x: number): void {
    this.room(9);
    const int32 = (x | 0) === x;
    if (int32 && (x !== 0 || 1 / x > 0)) {
      if (x >= SMALL_MIN && x <= SMALL_MAX) {
        this.buf[this.pos++] = SMALL - SMALL_MIN + x;
        return;
      }
      this.buf[this.pos++] = INT;
      this.varint((x << 1) ^ (x >> 31));
      return;
    }
    if (!int32 && Number.isInteger(x) && x < INT_LIMIT && x > -INT_LIMIT) {
      this.buf[this.pos++] = INT;
      // zigzag (below 2^53: exact), 28 bits first as four full varint bytes, then the rest
      const z = x >= 0 ? x * 2 : -x * 2 - 1;
      const lo = z % TWO_28;
      const b = this.buf;
      let p = this.pos;
      b[p++] = (lo & 0x7f) | 0x80;
      b[p++] = ((lo >>> 7) & 0x7f) | 0x80;
      b[p++] = ((lo >>> 14) & 0x7f) | 0x80;
      b[p++] = ((lo >>> 21) & 0x7f) | 0x80;
      this.pos = p;
      this.varint((z - lo) / TWO_28);
      return;
    }
    this.buf[this.pos++] = F64;
    f64[0] = x;
    const b = this.buf;
    const f = f64Bytes;
    const p = this.pos;
    b[p] = f[0] ?? 0;
    b[p + 1] = f[1] ?? 0;
    b[p + 2] = f[2] ?? 0;
    b[p + 3] = f[3] ?? 0;
    b[p + 4] = f[4] ?? 0;
    b[p + 5] = f[5] ?? 0;
    b[p + 6] = f[6] ?? 0;
    b[p + 7] = f[7] ?? 0;
    this.pos = p + 8;
  }

  /** A name code (see the header) for NAMES[i]. */
  private nameCode(i: number): void {
    this.room(6);
    if (i < LONG_NAME - FIRST_NAME) this.buf[this.pos++] = i + FIRST_NAME;
    else {
      this.buf[this.pos++] = LONG_NAME;
      this.varint(i - (LONG_NAME - FIRST_NAME));
    }
  }

  private string(s: string): void {
    const i = NAME_INDEX.get(s);
    if (i !== undefined) {
      this.byte(NAME);
      this.nameCode(i);
      return;
    }
    const n = s.length;
    this.room(6 + 3 * n);
    const start = this.pos;
    this.buf[this.pos++] = ASCII;
    this.varint(n);
    const b = this.buf;
    let p = this.pos;
    for (let k = 0; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c >= 0x80) {
        this.pos = start;
        this.unicode(s);
        return;
      }
      b[p++] = c;
    }
    this.pos = p;
  }

  /** A string with characters past ASCII: UTF-8, or UTF-16 if it holds a lone surrogate. */
  private unicode(s: string): void {
    const wellFormed = isWellFormed(s);
    const len = wellFormed ? Buffer.byteLength(s, 'utf8') : 2 * s.length;
    this.room(6 + len);
    this.buf[this.pos++] = wellFormed ? UTF8 : UTF16;
    this.varint(len);
    this.pos += this.buf.write(s, this.pos, len, wellFormed ? 'utf8' : 'utf16le');
  }

  private array(a: readonly unknown[], depth: number): void {
    this.room(6);
    this.buf[this.pos++] = ARRAY;
    this.varint(a.length);
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      try {
        if (x === undefined && !(i in a)) this.byte(HOLE);
        else this.value(x, depth);
      } catch (e) {
        throw e instanceof RecordCodecError ? e.within(String(i)) : e;
      }
    }
  }

  private typed(v: ArrayBufferView): void {
    const cls = v.constructor === Float64Array ? FLOAT64_CLASS : TYPED_INDEX.get(v.constructor);
    if (cls === undefined) throw new RecordCodecError(`a ${v.constructor.name} is not a typed array the codec knows`);
    const len = v.byteLength;
    this.room(7 + len);
    this.buf[this.pos++] = TYPED;
    this.buf[this.pos++] = cls;
    this.varint(len);
    if (cls === FLOAT64_CLASS) this.floats(v, 8);
    else if (cls === FLOAT32_CLASS) this.floats(v, 4);
    else this.buf.set(new Uint8Array(v.buffer, v.byteOffset, len), this.pos);
    this.pos += len;
  }

  /**
   * A Float64Array's or Float32Array's bytes (`size` each), element by element: a view on the array would
   * make V8 move a small array's elements off its heap, and a view and a `set` cost more than the copy.
   */
  private floats(v: ArrayBufferView, size: 4 | 8): void {
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- the caller checked the class (indexing works alike for both)
    const a = v as Float64Array;
    const scratch = size === 8 ? f64 : f32;
    const b = this.buf;
    let p = this.pos;
    for (const x of a) {
      scratch[0] = x;
      for (let k = 0; k < size; k++) b[p++] = f64Bytes[k] ?? 0;
    }
  }

  /**
   * An object's own enumerable properties, in their order. A plain object's through `for…in` (the fastest
   * walk; {@link encode} has checked that Object.prototype holds no enumerable property), an instance's of
   * another prototype through Object.keys (what its prototypes hold is not its own).
   */
  private object(o: object, depth: number): void {
    const p: unknown = Object.getPrototypeOf(o);
    if (p !== proto && p !== null && toStringTag(o) !== '[object Object]') throw new RecordCodecError(`a ${toStringTag(o).slice(8, -1)} is not plain data`);
    this.byte(OBJECT);
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- an object's own enumerable properties, read by name
    const r = o as Record<string, unknown>;
    if (p === proto) for (const k in r) this.entry(k, r[k], depth);
    else for (const k of Object.keys(r)) this.entry(k, r[k], depth);
    this.byte(END);
  }

  private entry(k: string, x: unknown, depth: number): void {
    const i = NAME_INDEX.get(k);
    if (i !== undefined) this.nameCode(i);
    else {
      this.byte(INLINE);
      this.string(k);
    }
    try {
      this.value(x, depth);
    } catch (e) {
      throw e instanceof RecordCodecError ? e.within(k) : e;
    }
  }
}

/** True when Object.prototype holds an enumerable property (a `for…in` over a plain object would list it). */
function prototypePolluted(): boolean {
  for (const k in proto) return k.length >= 0;
  return false;
}

/** False when `s` holds a lone surrogate (String.prototype.isWellFormed, ES2024). */
export function isWellFormed(s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return false;
    const d = s.charCodeAt(k + 1);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
    k++;
  }
  return true;
}

/** Decodes the bytes `buf[start, end)` of one record (the whole of `buf` by default). */
export function decodeRecord(buf: Uint8Array, start = 0, end = buf.length): unknown {
  if (start < 0 || end > buf.length || start > end) throw new RecordCodecError(`record bytes ${start}..${end} lie outside the buffer (${buf.length} bytes)`);
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const r = new RecordReader(b, start, end);
  const v = r.value(0);
  if (r.pos !== end) throw new RecordCodecError(`${end - r.pos} bytes left over after the record`);
  return v;
}

/** Sentinel of an array's missing element. */
const HOLE_VALUE = Symbol('hole');

class RecordReader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  private truncated(): RecordCodecError {
    return new RecordCodecError('the record is cut short');
  }

  private byte(): number {
    if (this.pos >= this.end) throw this.truncated();
    return this.buf[this.pos++] ?? 0;
  }

  /** An unsigned varint (below 2^53). */
  private varint(): number {
    const b = this.buf;
    let p = this.pos;
    if (p >= this.end) throw this.truncated();
    let c = b[p++] ?? 0;
    let x = c & 0x7f;
    let scale = 0x80;
    while (c >= 0x80) {
      if (p >= this.end) throw this.truncated();
      if (scale > VARINT_MAX_SCALE) throw new RecordCodecError('a varint longer than 53 bits');
      c = b[p++] ?? 0;
      x += (c & 0x7f) * scale;
      scale *= 0x80;
    }
    this.pos = p;
    return x;
  }

  /** `n` bytes' end, checked. */
  private take(n: number): number {
    const to = this.pos + n;
    if (to > this.end) throw this.truncated();
    return to;
  }

  value(depth: number): unknown {
    const t = this.byte();
    if (t >= SMALL) return t - SMALL + SMALL_MIN;
    switch (t) {
      case UNDEFINED:
        return undefined;
      case NULL:
        return null;
      case FALSE:
        return false;
      case TRUE:
        return true;
      case INT: {
        const z = this.varint();
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      case F64:
        return this.float();
      case ASCII:
      case UTF8:
      case UTF16: {
        const to = this.take(this.varint());
        const s = this.buf.toString(t === ASCII ? 'latin1' : t === UTF8 ? 'utf8' : 'utf16le', this.pos, to);
        this.pos = to;
        return s;
      }
      case NAME:
        return this.name();
      case ARRAY:
        return this.array(depth + 1);
      case OBJECT:
        return this.object(depth + 1);
      case TYPED:
        return this.typed();
      case HOLE:
        return HOLE_VALUE;
      default:
        throw new RecordCodecError(`unknown tag ${t} at byte ${this.pos - 1}`);
    }
  }

  private float(): number {
    const p = this.pos;
    this.pos = this.take(8);
    const b = this.buf;
    const f = f64Bytes;
    f[0] = b[p] ?? 0;
    f[1] = b[p + 1] ?? 0;
    f[2] = b[p + 2] ?? 0;
    f[3] = b[p + 3] ?? 0;
    f[4] = b[p + 4] ?? 0;
    f[5] = b[p + 5] ?? 0;
    f[6] = b[p + 6] ?? 0;
    f[7] = b[p + 7] ?? 0;
    return f64[0] ?? NaN;
  }

  /** NAMES[i] for a name code at the current byte (`code`, already read). */
  private nameOf(code: number): string {
    const i = code === LONG_NAME ? LONG_NAME - FIRST_NAME + this.varint() : code - FIRST_NAME;
    const s = NAMES[i];
    if (s === undefined) throw new RecordCodecError(`name ${i} is not in this release's table (a newer oep wrote the record?)`);
    return s;
  }

  private name(): string {
    const code = this.byte();
    if (code < FIRST_NAME) throw new RecordCodecError(`name code ${code} where a name was expected`);
    return this.nameOf(code);
  }

  private depthChecked(depth: number): void {
    if (depth > MAX_DEPTH) throw new RecordCodecError(`nested deeper than ${MAX_DEPTH} levels`);
  }

  private array(depth: number): unknown[] {
    this.depthChecked(depth);
    const n = this.varint();
    if (n > this.end - this.pos) throw this.truncated();
    const a: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const x = this.value(depth);
      if (x === HOLE_VALUE) a.length = i + 1;
      else a.push(x);
    }
    return a;
  }

  private object(depth: number): Record<string, unknown> {
    this.depthChecked(depth);
    const o: Record<string, unknown> = {};
    for (;;) {
      const code = this.byte();
      if (code === END) return o;
      if (code === INLINE) {
        const k = this.value(depth);
        if (typeof k !== 'string') throw new RecordCodecError('a key that is not a string');
        // an own property, as v8 gives it (an assignment would set the object's prototype)
        if (k === '__proto__') Object.defineProperty(o, k, { value: this.value(depth), writable: true, enumerable: true, configurable: true });
        else o[k] = this.value(depth);
      } else o[this.nameOf(code)] = this.value(depth);
    }
  }

  private typed(): ArrayBufferView {
    const cls = this.byte();
    const C: TypedClass | undefined = TYPED_CLASSES[cls];
    if (C === undefined) throw new RecordCodecError(`unknown typed array class ${cls}`);
    const len = this.varint();
    const p = this.pos;
    this.pos = this.take(len);
    if (cls === FLOAT64_CLASS || cls === FLOAT32_CLASS) return this.floats(cls === FLOAT64_CLASS ? 8 : 4, p, len);
    const bytes = new Uint8Array(this.buf.buffer, this.buf.byteOffset + p, len);
    if (cls === BUFFER_CLASS) return Buffer.from(bytes);
    if (cls === DATAVIEW_CLASS) {
      const d = new DataView(new ArrayBuffer(len));
      new Uint8Array(d.buffer).set(bytes);
      return d;
    }
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- every class left takes a length and has BYTES_PER_ELEMENT
    const T = C as Float64ArrayConstructor;
    if (len % T.BYTES_PER_ELEMENT !== 0) throw new RecordCodecError(`a ${T.name} of ${len} bytes`);
    const a = new T(len / T.BYTES_PER_ELEMENT);
    new Uint8Array(a.buffer).set(bytes);
    return a;
  }

  /** A Float64Array or Float32Array (`size` bytes an element) from `len` bytes at `p`, element by element (see the encoder's). */
  private floats(size: 4 | 8, p: number, len: number): Float64Array | Float32Array {
    if (len % size !== 0) throw new RecordCodecError(`a ${size === 8 ? 'Float64Array' : 'Float32Array'} of ${len} bytes`);
    const n = len / size;
    const a = size === 8 ? new Float64Array(n) : new Float32Array(n);
    const scratch = size === 8 ? f64 : f32;
    const b = this.buf;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < size; k++) f64Bytes[k] = b[p++] ?? 0;
      a[i] = scratch[0] ?? 0;
    }
    return a;
  }
}

/** Encodes one value into a buffer of its own (tests, tools; the checkpoint reuses a {@link RecordEncoder}). */
export function encodeRecord(v: unknown): Buffer {
  return Buffer.from(new RecordEncoder(1024).encode(v));
}
