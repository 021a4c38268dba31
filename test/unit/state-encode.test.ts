/**
 * The record encoder (state-encode.ts) writes what v8's own serializer writes: records of cells in every
 * phase read back as the same values with the same objects shared; plain values whose representation in v8
 * is known, byte for byte (v8 writes an array by its elements' kind, which JavaScript cannot see: an
 * array read back is written sparse, an array of doubles holds 1 as a double; the values are the same).
 * It refuses what is not plain data (v8's serializer then encodes the record), and writes a typed array's
 * view, not its whole buffer.
 */
import { deserialize, Serializer } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { RecordEncoder } from '../../src/adapters/state-encode.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { parseConfig } from '../../src/config/schema.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import type { Reading } from '../../src/domain/types.js';

const T = Date.UTC(2026, 0, 1);
const cfg = parseConfig({ defaults: { activeMassG: 0.0179, nominalCurrent_mA: 0.65 } });

function v8Bytes(v: unknown): Buffer {
  const s = new Serializer();
  s.writeHeader();
  s.writeValue(v);
  return s.releaseBuffer();
}

/** `v` as text, numbers exact (−0, NaN), typed arrays by kind, an object met again as a reference to its first place. */
function shape(v: unknown, seen = new Map<object, number>()): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v !== 'object' || v === null) return typeof v === 'string' ? JSON.stringify(v) : String(v);
  const at = seen.get(v);
  if (at !== undefined) return `#${String(at)}`;
  seen.set(v, seen.size);
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}[${Array.from(v as unknown as ArrayLike<number>, (x) => shape(x)).join()}]`;
  if (Array.isArray(v)) return `[${v.map((x) => shape(x, seen)).join()}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${k}:${shape(x, seen)}`)
    .join()}}`;
}

/** Four cells (charging and resting, a gap, a pressure drop, voltage, instants with two readings) at every call. */
function* labRecords(): Generator {
  const lab = new Lab((id) => resolveCell(cfg, id), undefined, { trackGaps: true });
  const ev: LabEvent[] = [];
  for (let s = 0; s < 2_400; s += 20) {
    for (let c = 0; c < 4; c++) {
      const cell = c === 3 ? 'cellule-é€' : `c${String(c)}`;
      const b: Reading[] = [];
      for (let k = 0; k < 20; k++) {
        const t = s + k;
        if (c === 1 && t % 700 > 650) continue;
        const ts = T + t * 1000;
        const charging = Math.floor(t / (300 + 60 * c)) % 2 === 0;
        const p = 5 + (charging ? (t % 300) * 1e-3 : 0.3 - (t % 300) * 1e-3) - (c === 2 && t > 1_500 ? (t - 1_500) * 2e-3 : 0);
        b.push({ cell, channel: 'current', ts, value: charging ? 0.65 : -0.65 }, { cell, channel: 'pressure', ts, value: p });
        if (c === 3) b.push({ cell, channel: 'voltage', ts, value: 3.6 + (t % 300) * 1e-3 });
        if (c === 0 && t % 97 === 0) b.push({ cell, channel: 'current', ts, value: 0.1 });
      }
      lab.ingest(cell, b, T + (s + 20) * 1000, ev);
      if (c === 2 && s === 1_000) lab.reject(cell, 'bad-json', 3);
      yield lab.cellRecordView(cell);
    }
  }
  expect(ev.some((e) => e.type === 'cycle') && ev.some((e) => e.type === 'gap') && ev.some((e) => e.type === 'alert')).toBe(true);
}

describe('RecordEncoder', () => {
  it('encodes every record to the values, and the sharing, v8 encodes it to', () => {
    const enc = new RecordEncoder(64);
    let n = 0;
    let shared = 0;
    for (const r of labRecords()) {
      const v8 = v8Bytes(r);
      const mine = enc.encode(r);
      expect(mine).toBeDefined();
      const back: unknown = deserialize(mine ?? v8);
      expect(back).toStrictEqual(deserialize(v8));
      expect(shape(back)).toBe(shape(deserialize(v8)));
      if (shape(back).includes('#')) shared++;
      // and a record read back (what a restored cell's record looks like) the same
      expect(shape(deserialize(enc.encode(back) ?? new Uint8Array()))).toBe(shape(back));
      n++;
    }
    expect(n).toBe(480);
    expect(shared).toBeGreaterThan(0); // silent channels share the empty dedup record
  });

  it('writes the values v8 writes, shared objects once, and a view as its own bytes', () => {
    const enc = new RecordEncoder(8);
    const shared = { x: 1 };
    const big = new Float64Array(1_000).fill(7);
    // v8's bytes, where its representation is known (no arrays: their elements' kind decides how v8 writes them)
    const values: unknown[] = [
      { t: new Float64Array([1, NaN, -0, Infinity]), a: shared, b: shared, c: { d: shared }, f: new Float32Array(0), g: shared },
      { a: 0, b: -0, c: 1, d: -1, e: 2 ** 31 - 1, f: -(2 ** 31), g: 2 ** 31, h: 0.1, i: NaN, j: -Infinity, k: Number.MAX_VALUE, l: Number.MIN_VALUE },
      { a: '', b: 'a', c: 'é', d: '€', e: 'a€', f: '€ab', g: 'x'.repeat(300), h: '\u00ff', i: '\u0100', j: 'é€é€é€' },
      { 0: 'zero', 7: 'seven', 4294967295: 'not an index', '01': 'a string', k: undefined, n: null, t: true, f: false },
      Object.assign(Object.create(null) as object, { z: 1 }),
      { a: new Int32Array([1, -2]), b: new Uint8Array([3]), c: new Uint16Array([4]), d: new Int8Array([-5]), e: new Int16Array([-6]), f: new Uint32Array([7]) },
      { nested: { deeper: { deepest: { x: 'y' } } } },
    ];
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    values.push(cycle);
    for (const v of values) expect(Buffer.from(enc.encode(v) ?? []).toString('hex'), shape(v)).toBe(v8Bytes(v).toString('hex'));
    // arrays: the same values and sharing
    const arrays: unknown[] = [
      [shared, [shared, { shared }], new Float64Array([2]), []],
      [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 0.5, NaN, undefined, null, 'é€'],
      // eslint-disable-next-line no-sparse-arrays -- a hole
      [1, , 3],
    ];
    for (const a of arrays) expect(shape(deserialize(enc.encode(a) ?? new Uint8Array()))).toBe(shape(deserialize(v8Bytes(a))));
    // a view into a larger buffer: its own 16 bytes, not the 8 KB under it
    const view = big.subarray(10, 12);
    const bytes = enc.encode({ view }) ?? new Uint8Array();
    expect(bytes.length).toBeLessThan(64);
    expect(deserialize(bytes)).toStrictEqual({ view: new Float64Array([7, 7]) });
  });

  it('refuses what is not plain data', () => {
    const enc = new RecordEncoder();
    class Part {
      x = 1;
    }
    for (const v of [
      new Map(),
      new Set(),
      new Date(0),
      new Part(),
      Buffer.from('ab'),
      () => 1,
      Symbol('s'),
      1n,
      new ArrayBuffer(8),
      new DataView(new ArrayBuffer(8)),
    ])
      expect(enc.encode({ ok: 1, v }), typeof v).toBeUndefined();
    // and goes on with the next record
    expect(deserialize(enc.encode({ ok: 1 }) ?? new Uint8Array())).toStrictEqual({ ok: 1 });
  });
});
