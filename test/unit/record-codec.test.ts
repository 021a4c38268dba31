/**
 * The record codec of state format 5 (src/adapters/record-codec.ts): real cell records, and random plain
 * data with the numbers and strings that break encoders, decode to exactly what a v8 round trip gives (the
 * format-4 encoding): same keys in the same order, -0, NaN and ±Infinity, undefined kept apart from absent,
 * holes, typed arrays of the same class (owning their bytes). What it cannot carry is refused with the path
 * to it; bytes it cannot read are an error, never a value.
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, MAX_DEPTH, NAMES, RecordCodecError, RecordEncoder } from '../../src/adapters/record-codec.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import type { Reading } from '../../src/domain/types.js';
import { pressureToMPa } from '../../src/domain/units.js';
import { demoCells } from '../../src/sim/scenarios.js';
import { simulateCells } from '../../src/sim/simulator.js';
import { feedBusy, newBusyLab } from '../support/busy-lab.js';
import { exactDiff } from '../support/exact-equal.js';
import { configFor } from '../support/sim-lab.js';

/** How `v` comes back through the codec, against how it comes back through v8: their differences. */
function againstV8(v: unknown, encoder = new RecordEncoder(64)): string[] {
  const bytes = Buffer.from(encoder.encode(v));
  return exactDiff(decodeRecord(bytes), deserialize(serialize(v)));
}

/** Every cell's record in `lab`, through the codec and through v8: their differences. */
function labAgainstV8(lab: Lab, encoder: RecordEncoder): string[] {
  return [...lab.cells.keys()].flatMap((id) => againstV8(lab.cellRecordView(id), encoder).map((d) => `${id}: ${d}`));
}

/** The typed arrays in `v` that do not own their whole buffer. */
function views(v: unknown): number {
  if (ArrayBuffer.isView(v)) return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? 0 : 1;
  if (typeof v !== 'object' || v === null) return 0;
  return Object.values(v).reduce((n: number, x) => n + views(x), 0);
}

const T = Date.UTC(2026, 0, 1);

describe('record codec: real cell records', () => {
  it('the checkpoint benchmark cell (5 min of 1 Hz current, pressure and voltage) comes back as from v8, in less than half the bytes', () => {
    const lab = new Lab((id) => resolveCell(parseConfig({ defaults: { activeMassG: 0.0179 } }), id));
    const ev: LabEvent[] = [];
    for (let s = 0; s < 300; s += 10)
      for (const cell of ['c0', 'c1']) {
        const b: Reading[] = [];
        for (let k = 0; k < 10; k++) {
          const ts = T + (s + k) * 1000;
          b.push(
            { cell, channel: 'current', ts, value: 0.5 },
            { cell, channel: 'pressure', ts, value: 5 + (s + k) * 1e-4 },
            { cell, channel: 'voltage', ts, value: 3.8 },
          );
        }
        lab.ingest(cell, b, T + (s + 10) * 1000, ev);
      }
    const encoder = new RecordEncoder(64);
    expect(labAgainstV8(lab, encoder)).toEqual([]);
    const r = lab.cellRecordView('c0');
    const bytes = encodeRecord(r);
    expect(bytes.length).toBeLessThan(serialize(r).length / 2);
    // key names are not written: not one of the record's keys appears in its bytes
    for (const k of ['aligner', 'buffered', 'watermark', 'processor', 'counters', 'sampleDetectors']) expect(bytes.includes(k), k).toBe(false);
    const back = decodeRecord(bytes);
    expect(views(back)).toBe(0);
  });

  it('cells with gaps, a pressure drop, voltage, duplicate readings, alerts and a failed cell come back as from v8, at every stage', () => {
    const lab = newBusyLab();
    const encoder = new RecordEncoder(64);
    for (let s = 0; s < 3_000; s += 300) {
      feedBusy(lab, s, s + 300);
      expect(labAgainstV8(lab, encoder), `after ${s + 300} s`).toEqual([]);
    }
    const records = [...lab.cells.keys()].map((id) => lab.cellRecord(id));
    expect(records.find((r) => r?.failure !== undefined)?.failure).toBe('Error: boom');
    expect(records.some((r) => r?.gaps !== undefined && Object.keys(r.gaps.counts).length > 0)).toBe(true);
    expect(records.some((r) => (r?.processor.closed.length ?? 0) + (r?.processor.cycles.steps.length ?? 0) > 0)).toBe(true);
  });

  it('simulated cells through many steps and cycles, with alerts raised and incidents open, come back as from v8', () => {
    const specs = demoCells(3).map((c) => (c.penetration ? { ...c, penetration: { ...c.penetration, onsetCycle: 2 } } : c));
    const cfg = configFor(specs);
    const lab = new Lab((id) => resolveCell(cfg, id), undefined, { trackGaps: true });
    const area = new Map(specs.map((s) => [s.id, s.area_mm2]));
    const batches = new Map<string, Reading[]>();
    const encoder = new RecordEncoder(64);
    const ev: LabEvent[] = [];
    let n = 0;
    let checked = 0;
    let incidents = 0;
    for (const x of simulateCells(specs, { startTs: T, seed: 11, cycles: 3 })) {
      const value = x.channel === 'pressure' ? pressureToMPa(x.value, x.unit as 'MPa' | 'kgf', area.get(x.cell)!) : x.value;
      let b = batches.get(x.cell);
      if (b === undefined) batches.set(x.cell, (b = []));
      b.push({ cell: x.cell, channel: x.channel, ts: x.ts, value });
      if (b.length < 200) continue;
      lab.ingest(x.cell, b, x.ts, ev);
      batches.set(x.cell, []);
      if (++n % 1_500 !== 0) continue;
      expect(labAgainstV8(lab, encoder), `batch ${n}`).toEqual([]);
      checked++;
      for (const id of lab.cells.keys()) incidents += Object.keys(lab.cellRecord(id)?.incidents.open ?? {}).length;
    }
    expect(checked).toBeGreaterThan(5);
    expect(ev.filter((e) => e.type === 'cycle').length).toBeGreaterThanOrEqual(6);
    expect(ev.some((e) => e.type === 'alert')).toBe(true);
    expect(incidents).toBeGreaterThan(0);
  });
});

/** Numbers that break encoders. */
const edgeNumbers = [
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  1,
  -1,
  -32,
  -33,
  95,
  96,
  127,
  128,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 52 - 1,
  2 ** 52,
  -(2 ** 52),
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53 - 1),
  -(2 ** 53) - 2,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072014e-308 / 3,
  Number.EPSILON,
  0.1,
  1767225600000,
  1767225600000.5,
  1e21,
  -1e300,
];

/** Strings of any UTF-16 code units (lone surrogates included), full Unicode, ASCII, and the table's names. */
const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 }).map((u) => String.fromCharCode(...u)),
  fc.constantFrom(
    ...NAMES.slice(0, 40),
    'pressure',
    'c0',
    '',
    '__proto__',
    'constructor',
    'toString',
    '0',
    '1',
    '-1',
    '4294967295',
    '\ud800',
    '\udc00x',
    'é',
    '€',
    '😀',
  ),
  fc.string({ minLength: 100, maxLength: 400 }),
);

const anyNumber = fc.oneof(fc.double(), fc.integer(), fc.maxSafeInteger(), fc.constantFrom(...edgeNumbers), fc.double({ min: -1e-300, max: 1e-300 }));

const anyTyped = fc.oneof(
  fc.float64Array({ maxLength: 40 }),
  fc.float32Array({ maxLength: 10 }),
  fc.int32Array({ maxLength: 10 }),
  fc.uint8Array({ maxLength: 10 }),
  fc.int8Array({ maxLength: 4 }),
  fc.uint16Array({ maxLength: 4 }),
  fc.int16Array({ maxLength: 4 }),
  fc.uint32Array({ maxLength: 4 }),
  fc.uint8ClampedArray({ maxLength: 4 }),
  fc.bigInt64Array({ maxLength: 3 }),
  fc.bigUint64Array({ maxLength: 3 }),
  // a view into a larger buffer: its own bytes only
  fc.float64Array({ minLength: 3, maxLength: 12 }).map((a) => a.subarray(1, a.length - 1)),
  fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
);

/** An object with `entries` as own properties, in order (`__proto__` too, as a key). */
function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  return o;
}

const { plain } = fc.letrec((tie) => ({
  plain: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyNumber,
    anyString,
    fc.constantFrom(true, false, null, undefined),
    anyTyped,
    tie('array'),
    tie('object'),
  ),
  array: fc.oneof(fc.array(tie('plain'), { maxLength: 8 }), fc.sparseArray(tie('plain'), { maxLength: 8 })),
  object: fc.array(fc.tuple(anyString, tie('plain')), { maxLength: 8 }).map(objectOf),
}));

describe('record codec: any plain data', () => {
  it('comes back exactly as from a v8 round trip (one encoder for all, its buffer reused and grown)', () => {
    const encoder = new RecordEncoder(16);
    fc.assert(
      fc.property(plain, (v) => {
        expect(againstV8(v, encoder)).toEqual([]);
      }),
      { numRuns: 3_000 },
    );
  });

  it('an encoder goes on after a record far larger than its buffer, and does not keep the grown buffer', () => {
    const encoder = new RecordEncoder(16);
    const big = { a: new Float64Array(300_000).fill(0.5), s: 'x'.repeat(100_000) };
    const first = Buffer.from(encoder.encode(big));
    expect(first.length).toBeGreaterThan(2_400_000);
    expect(exactDiff(decodeRecord(first), big)).toEqual([]);
    expect(exactDiff(decodeRecord(encoder.encode({ b: [1, 2] })), { b: [1, 2] })).toEqual([]);
    expect(encoder.encode({ c: 3 }).buffer.byteLength).toBeLessThan(1024);
  });

  it('edge numbers, each alone and in a Float64Array, keep their bits', () => {
    for (const x of edgeNumbers) {
      expect(Object.is(decodeRecord(encodeRecord(x)), x), String(x)).toBe(true);
      expect(Object.is(decodeRecord(encodeRecord([x])) as number[], [x]) || Object.is((decodeRecord(encodeRecord([x])) as number[])[0], x)).toBe(true);
    }
    const a = new Float64Array(edgeNumbers);
    const back = decodeRecord(encodeRecord({ a })) as { a: Float64Array };
    expect(back.a).toBeInstanceOf(Float64Array);
    expect(Buffer.from(back.a.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    // small integers take one byte, timestamps seven, other numbers nine
    expect([encodeRecord(95).length, encodeRecord(-32).length, encodeRecord(T).length, encodeRecord(0.1).length, encodeRecord(-0).length]).toEqual([
      1, 1, 7, 9, 9,
    ]);
  });

  it('strings with lone surrogates come back unchanged (UTF-8 could not carry them), as keys too', () => {
    for (const s of ['\ud800', 'a\udc00b', '\udbff\udfff', '\udfff\udbff', 'x\ud83d', '😀\ud83d', 'é€😀']) {
      expect(decodeRecord(encodeRecord(s)), JSON.stringify(s)).toBe(s);
      expect(Object.keys(decodeRecord(encodeRecord({ [s]: 1 })) as object)).toEqual([s]);
    }
  });

  it('keeps a key holding undefined apart from an absent one, and __proto__ as an own key', () => {
    const back = decodeRecord(
      encodeRecord(
        objectOf([
          ['a', undefined],
          ['__proto__', { x: 1 }],
          ['b', null],
        ]),
      ),
    ) as Record<string, unknown>;
    expect(Object.keys(back)).toEqual(['a', '__proto__', 'b']);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ x: 1 });
  });
});

describe('record codec: the format', () => {
  it('keeps its name table: names only ever appended (records written decode to the same keys)', () => {
    expect(new Set(NAMES).size).toBe(NAMES.length);
    // the 196 names of format 5 as first released, in order: a name added goes after them
    const first = NAMES.slice(0, 196).join('\n');
    expect(createHash('sha256').update(first).digest('hex')).toBe('5a8a55388357973bcdbea7a97ef80e31480eccab0bfea716f878a12ee1c5d1ee');
  });

  it('writes and reads the bytes format 5 was released with', () => {
    const v = {
      version: 1,
      cell: 'c0',
      ts: T,
      value: 0.5,
      n: -40,
      kind: 'charge',
      é: 'ü',
      r: new Float32Array([1]),
      u: undefined,
      z: -0,
      // eslint-disable-next-line no-sparse-arrays -- a hole, written as one
      h: [1, , null, true],
    };
    const hex =
      '0b02a10c060263300e0480a0d5edee660f05000000000000e03f8f044f2909a3010702c3a90702c3bc010601720c07040000803f01060175000106017a050000000000000080010601680a04a10d010300';
    expect(encodeRecord(v).toString('hex')).toBe(hex);
    expect(exactDiff(decodeRecord(Buffer.from(hex, 'hex')), v)).toEqual([]);
  });
});

describe('record codec: what it refuses', () => {
  const refused = (v: unknown): string => {
    try {
      encodeRecord(v);
    } catch (e) {
      expect(e).toBeInstanceOf(RecordCodecError);
      return (e as Error).message;
    }
    return 'encoded';
  };

  it('values that are not plain data, naming where they stand', () => {
    expect(refused({ a: { b: [1, new Map()] } })).toMatch(/a Map is not plain data \(at a\.b\.1\)/);
    expect(refused({ s: new Set([1]) })).toMatch(/Set is not plain data \(at s\)/);
    expect(refused({ d: new Date(0) })).toMatch(/Date is not plain data/);
    expect(refused([/x/])).toMatch(/RegExp is not plain data \(at 0\)/);
    expect(refused({ f: () => 1 })).toMatch(/a function is not plain data \(at f\)/);
    expect(refused({ y: Symbol('y') })).toMatch(/a symbol is not plain data/);
    expect(refused({ n: 1n })).toMatch(/a bigint is not plain data/);
    expect(refused({ b: new ArrayBuffer(4) })).toMatch(/ArrayBuffer is not plain data/);
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(refused(cycle)).toMatch(new RegExp(`deeper than ${MAX_DEPTH} levels`));
    // an instance of a class: its own enumerable properties, a plain object (as v8 writes it)
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      get sum(): number {
        return this.x + this.y;
      }
    }
    expect(againstV8({ p: new Point(1, -0) })).toEqual([]);
    // a polluted Object.prototype would add its keys to every object: refused
    let polluted = 'encoded';
    Object.defineProperty(Object.prototype, 'polluted', { value: 1, enumerable: true, configurable: true, writable: true });
    try {
      encodeRecord({ a: 1 });
    } catch (e) {
      polluted = String(e);
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    expect(polluted).toMatch(/RecordCodecError: Object.prototype holds an enumerable property/);
  });

  it('bytes it cannot read: cut short, unknown tags, names past its table, bytes left over', () => {
    const bytes = encodeRecord({ version: 1, text: 'héllo', ts: T, a: new Float64Array([1, 2]), n: [1.5, null] });
    for (let k = 0; k < bytes.length; k++) expect(() => decodeRecord(bytes.subarray(0, k)), `first ${k} bytes`).toThrow(RecordCodecError);
    expect(() => decodeRecord(Buffer.concat([bytes, Buffer.from([1])]))).toThrow(/1 bytes left over/);
    expect(() => decodeRecord(Buffer.from([0x0e]))).toThrow(/unknown tag 14/);
    expect(() => decodeRecord(Buffer.from([11, 255, 0x7f]))).toThrow(/not in this release's table/);
    expect(() => decodeRecord(Buffer.from([12, 99, 0]))).toThrow(/unknown typed array class 99/);
    expect(() => decodeRecord(Buffer.from([12, 8, 3, 0, 0, 0]))).toThrow(/Float64Array of 3 bytes/);
    expect(() => decodeRecord(Buffer.from([4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/longer than 53 bits/);
    expect(() => decodeRecord(bytes, 2, bytes.length + 1)).toThrow(/outside the buffer/);
  });
});
