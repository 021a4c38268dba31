/**
 * A cell record's v8 bytes, written in JavaScript into one buffer kept from record to record: the bytes
 * v8's own serializer writes for plain data (format version 15), which `v8.deserialize` reads back as ever.
 * A `v8.Serializer` a record made a C++ object, an identity map and a malloc'd buffer for each cell, all
 * short-lived garbage for the scavenger (at 10,000 cells, ~35 µs a cell with the collections it caused);
 * this writes the same values without any of them.
 *
 * It takes plain data only: objects whose prototype is Object's (or null), arrays, Float64Array,
 * Float32Array and the integer typed arrays, strings, numbers, booleans, null and undefined. Anything else
 * (a Map, a Date, a class instance, a Buffer) makes {@link RecordEncoder.encode} return undefined, and the
 * caller encodes that record with v8's serializer. An object met twice is written once and referred to
 * after (as v8 does, so the record decodes with the same sharing). A typed array is written as its own
 * bytes only (a view into a larger buffer writes its view, never the whole buffer).
 *
 * Where it differs from v8's bytes, the value read back does not: a whole number held as a double is
 * written as an integer (v8 writes the representation it holds), and an array with holes densely.
 */

/** v8's serialization tags (src/objects/value-serializer.cc). */
const Tag = {
  Version: 0xff,
  Padding: 0x00,
  Null: 0x30, // '0'
  Undefined: 0x5f, // '_'
  True: 0x54, // 'T'
  False: 0x46, // 'F'
  Int32: 0x49, // 'I'
  Double: 0x4e, // 'N'
  OneByteString: 0x22, // '"'
  TwoByteString: 0x63, // 'c'
  ObjectReference: 0x5e, // '^'
  BeginObject: 0x6f, // 'o'
  EndObject: 0x7b, // '{'
  BeginDenseArray: 0x41, // 'A'
  EndDenseArray: 0x24, // '$'
  TheHole: 0x2d, // '-'
  ArrayBuffer: 0x42, // 'B'
  ArrayBufferView: 0x56, // 'V'
} as const;

/** The format version written (v8 11–12 write 15; later ones read it). */
const VERSION = 15;

/** Each typed array kind the encoder writes, with v8's view subtag. */
const VIEW_TAGS = new Map<object, number>([
  [Float64Array.prototype, 0x46], // 'F'
  [Float32Array.prototype, 0x66], // 'f'
  [Int8Array.prototype, 0x62], // 'b'
  [Uint8Array.prototype, 0x42], // 'B'
  [Int16Array.prototype, 0x77], // 'w'
  [Uint16Array.prototype, 0x57], // 'W'
  [Int32Array.prototype, 0x64], // 'd'
  [Uint32Array.prototype, 0x44], // 'D'
]);

/** Nesting deeper than this is not plain data (v8 would overflow its stack long after). */
const MAX_DEPTH = 1_000;

/** Thrown inside the encoder for a value it does not write (caught by `encode`). */
class NotPlain extends Error {}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);
/** Typed arrays up to this many bytes are copied element by element. */
const SMALL_BYTES = 256;

export class RecordEncoder {
  private b: Uint8Array;
  private pos = 0;
  private readonly ids = new Map<object, number>();
  private nextId = 0;
  private depth = 0;

  constructor(size = 64 << 10) {
    this.b = new Uint8Array(size);
  }

  /**
   * The v8 bytes of `value` (plain data), in the encoder's buffer: valid until the next call (copy them to
   * keep them). Undefined when `value` holds something else (see the file's comment).
   */
  encode(value: unknown): Uint8Array | undefined {
    this.pos = 0;
    this.nextId = 0;
    this.depth = 0;
    this.ids.clear();
    try {
      this.room(2);
      this.b[this.pos++] = Tag.Version;
      this.b[this.pos++] = VERSION;
      this.value(value);
    } catch (e) {
      if (e instanceof NotPlain) return undefined;
      throw e;
    } finally {
      this.ids.clear();
    }
    return this.b.subarray(0, this.pos);
  }

  /** Makes room for `n` more bytes. */
  private room(n: number): void {
    if (this.pos + n <= this.b.length) return;
    const grown = new Uint8Array(Math.max(2 * this.b.length, this.pos + n));
    grown.set(this.b.subarray(0, this.pos));
    this.b = grown;
  }

  private tag(t: number): void {
    this.room(1);
    this.b[this.pos++] = t;
  }

  private varint(v: number): void {
    this.room(5);
    let x = v >>> 0;
    while (x >= 0x80) {
      this.b[this.pos++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    this.b[this.pos++] = x;
  }

  private value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        this.number(v);
        return;
      case 'string':
        this.string(v);
        return;
      case 'boolean':
        this.tag(v ? Tag.True : Tag.False);
        return;
      case 'undefined':
        this.tag(Tag.Undefined);
        return;
      case 'object':
        if (v === null) this.tag(Tag.Null);
        else this.receiver(v);
        return;
      default:
        throw new NotPlain();
    }
  }

  private number(v: number): void {
    if ((v | 0) === v && !Object.is(v, -0)) {
      this.tag(Tag.Int32);
      // zigzag
      this.varint((v << 1) ^ (v >> 31));
      return;
    }
    this.room(9);
    const b = this.b;
    b[this.pos++] = Tag.Double;
    f64[0] = v;
    for (let k = 0; k < 8; k++) b[this.pos++] = f64Bytes[k] ?? 0;
  }

  private string(s: string): void {
    const n = s.length;
    this.room(6 + n);
    const start = this.pos;
    this.b[this.pos++] = Tag.OneByteString;
    this.varint(n);
    const b = this.b;
    for (let k = 0; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c > 0xff) {
        this.pos = start;
        this.twoByte(s);
        return;
      }
      b[this.pos++] = c;
    }
  }

  private twoByte(s: string): void {
    const bytes = 2 * s.length;
    this.room(7 + bytes);
    // v8 aligns the characters to an even offset with a padding byte
    if ((this.pos + 1 + varintBytes(bytes)) & 1) this.b[this.pos++] = Tag.Padding;
    this.b[this.pos++] = Tag.TwoByteString;
    this.varint(bytes);
    const b = this.b;
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      b[this.pos++] = c & 0xff;
      b[this.pos++] = c >>> 8;
    }
  }

  /** An object, array or typed array: a reference if written before, else an id and its contents. */
  private receiver(o: object): void {
    const id = this.ids.get(o);
    if (id !== undefined) {
      this.tag(Tag.ObjectReference);
      this.varint(id);
      return;
    }
    if (++this.depth > MAX_DEPTH) throw new NotPlain();
    const proto: unknown = Object.getPrototypeOf(o);
    if (Array.isArray(o) && proto === Array.prototype) this.array(o);
    else if (proto === Object.prototype || proto === null) this.object(o);
    else if (ArrayBuffer.isView(o)) this.view(o, proto);
    else throw new NotPlain();
    this.depth--;
  }

  private object(o: object): void {
    this.ids.set(o, this.nextId++);
    this.tag(Tag.BeginObject);
    let n = 0;
    // for-in: the own enumerable keys in v8's order (the prototype, Object's or none, has none), without an array of them
    for (const k in o) {
      this.key(k);
      this.value(Reflect.get(o, k));
      n++;
    }
    this.tag(Tag.EndObject);
    this.varint(n);
  }

  /** A property name: an array index as a number (as v8 writes it), else a string. */
  private key(k: string): void {
    const c = k.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) {
      const i = Number(k);
      if (String(i) === k && i <= 0xfffffffe) {
        this.number(i);
        return;
      }
    }
    this.string(k);
  }

  private array(a: readonly unknown[]): void {
    this.ids.set(a, this.nextId++);
    const n = a.length;
    this.tag(Tag.BeginDenseArray);
    this.varint(n);
    for (let k = 0; k < n; k++) {
      const x = a[k];
      if (x === undefined && !(k in a)) this.tag(Tag.TheHole);
      else this.value(x);
    }
    this.tag(Tag.EndDenseArray);
    this.varint(0);
    this.varint(n);
  }

  /** A typed array: an ArrayBuffer of its own bytes, then the view over the whole of it (two ids, as v8 counts them). */
  private view(v: ArrayBufferView, proto: unknown): void {
    const sub = typeof proto === 'object' && proto !== null ? VIEW_TAGS.get(proto) : undefined;
    if (sub === undefined) throw new NotPlain();
    const n = v.byteLength;
    this.nextId++;
    this.ids.set(v, this.nextId++);
    this.room(1 + 5 + n + 1 + 1 + 5 + 5 + 1);
    const b = this.b;
    b[this.pos++] = Tag.ArrayBuffer;
    this.varint(n);
    if (v instanceof Float64Array && n <= SMALL_BYTES) {
      // a few doubles copied one by one: \`v.buffer\` would make a small typed array's buffer (v8 keeps one on its heap until asked)
      for (const x of v) {
        f64[0] = x;
        for (let j = 0; j < 8; j++) b[this.pos++] = f64Bytes[j] ?? 0;
      }
    } else if (v instanceof Float32Array && n <= SMALL_BYTES) {
      for (const x of v) {
        f32[0] = x;
        for (let j = 0; j < 4; j++) b[this.pos++] = f32Bytes[j] ?? 0;
      }
    } else {
      b.set(new Uint8Array(v.buffer, v.byteOffset, n), this.pos);
      this.pos += n;
    }
    b[this.pos++] = Tag.ArrayBufferView;
    b[this.pos++] = sub;
    this.varint(0);
    this.varint(n);
    // flags: neither length-tracking nor backed by a resizable buffer
    this.varint(0);
  }
}

function varintBytes(v: number): number {
  let n = 1;
  for (let x = v >>> 7; x > 0; x >>>= 7) n++;
  return n;
}
