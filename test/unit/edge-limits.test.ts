/**
 * Limits at the edge: a payload's size, depth, batch length and value count are checked on its raw bytes
 * before JSON.parse builds anything; ids with control characters are refused; details are clipped.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CellIngestSettings } from '../../src/ingest/canonical.js';
import { DEFAULT_EDGE_LIMITS, isValidCellId, MAX_BATCH_READINGS, parseMessage, type EdgeOptions } from '../../src/ingest/payload.js';
import { prescanJson } from '../../src/ingest/prescan.js';
import { MOLD_13MM_AREA_MM2 } from '../../src/domain/units.js';

const CELL: CellIngestSettings = { areaMm2: MOLD_13MM_AREA_MM2, currentSign: 1, defaultPressureUnit: 'MPa', defaultCurrentUnit: 'mA', defaultVoltageUnit: 'V' };
const T = Date.UTC(2026, 0, 1);
const parse = (topic: string, payload: string | Uint8Array, edge: EdgeOptions = {}) => parseMessage(topic, payload, T + 5, 'oep', () => CELL, edge);
const reasons = (topic: string, payload: string | Uint8Array, edge: EdgeOptions = {}) => parse(topic, payload, edge).rejections.map((r) => r.reason);
const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** The true nesting depth and top-level element count of a JSON value. */
function shape(v: unknown, depth = 0): { depth: number; values: number } {
  if (Array.isArray(v) || (typeof v === 'object' && v !== null)) {
    const children = Array.isArray(v) ? v : Object.values(v);
    let d = depth + 1;
    let values = Math.max(0, children.length - 1);
    for (const c of children) {
      const s = shape(c, depth + 1);
      d = Math.max(d, s.depth);
      values += s.values;
    }
    return { depth: d, values };
  }
  return { depth, values: 0 };
}

describe('prescan', () => {
  const loose = { maxDepth: 1e9, maxBatch: 1e9, maxValues: 1e9 };

  it('measures depth and refuses exactly beyond the bound, strings and escapes included', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 6 }), (v, maxDepth) => {
        const text = JSON.stringify(v);
        const { depth, values } = shape(v);
        const r = prescanJson(bytes(text), { ...loose, maxDepth });
        expect(r?.reason === 'too_deep').toBe(depth > maxDepth);
        const c = prescanJson(bytes(text), { ...loose, maxValues: 3 });
        expect(c?.reason === 'too_many_values').toBe(values > 3);
      }),
      { numRuns: 2_000 },
    );
  });

  it('counts a top-level batch without parsing it, ignoring commas inside strings and nested values', () => {
    const limits = { ...loose, maxBatch: 3 };
    expect(prescanJson(bytes('[1,2,3]'), limits)).toBeUndefined();
    expect(prescanJson(bytes('[1,2,3,4]'), limits)).toEqual({ reason: 'batch_too_large', count: 4 });
    expect(prescanJson(bytes('["a,b,c,d","\\",\\",",[1,2,3,4,5]]'), limits)).toBeUndefined();
    expect(prescanJson(bytes('{"a":1,"b":2,"c":3,"d":4}'), limits)).toBeUndefined();
  });

  it('stops at the bound: of 3 M nested brackets it reads the first maxDepth + 1 bytes, nothing more', () => {
    const deep = Buffer.alloc(3_000_000, '[');
    let reads = 0;
    // Counts the bytes the scan looks at (no clock: the bound is on the work, not on a machine's speed).
    const counted = new Proxy(deep, {
      get(target, key) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key) as unknown;
      },
    });
    expect(prescanJson(counted, DEFAULT_EDGE_LIMITS)).toEqual({ reason: 'too_deep', depth: DEFAULT_EDGE_LIMITS.maxDepth + 1 });
    expect(reads).toBe(DEFAULT_EDGE_LIMITS.maxDepth + 1);
  });
});

describe('edge limits', () => {
  it('rejects by size before parsing', () => {
    const big = `[${Array.from({ length: 20 }, (_, k) => `{"ts":${T + k},"value":1}`).join(',')}]`;
    expect(reasons('oep/c1/pressure', big, { limits: { ...DEFAULT_EDGE_LIMITS, maxMessageBytes: 100 } })).toEqual(['too_large']);
    expect(parse('oep/c1/pressure', big).readings).toHaveLength(20);
  });

  it('rejects the payloads that exhausted the heap inside JSON.parse: 3 M deep, 3 M empty objects, a 1 M batch', () => {
    expect(reasons('oep/c1/pressure', Buffer.concat([Buffer.alloc(3_000_000, '['), Buffer.alloc(3_000_000, ']')]))).toEqual(['too_deep']);
    expect(reasons('oep/c1/pressure', `[${'{},'.repeat(2_000_000)}{}]`)).toEqual(['batch_too_large']);
    const r = parse('oep/c1/pressure', `[${`{"ts":${T},"value":1},`.repeat(MAX_BATCH_READINGS)}{"ts":${T},"value":1}]`);
    expect(r.rejections.map((x) => x.reason)).toEqual(['batch_too_large']);
    expect(r.readings).toEqual([]);
    expect(reasons('oep/c1/pressure', `{"ts":${T},"value":1,"x":[${'0,'.repeat(DEFAULT_EDGE_LIMITS.maxValues)}0]}`)).toEqual(['too_many_values']);
  });

  it('accepts a full batch of the largest size', () => {
    const r = parse(
      'oep/c1/pressure',
      `[${Array.from({ length: MAX_BATCH_READINGS }, (_, k) => `{"ts":${T + k},"value":12.3456789,"unit":"MPa"}`).join(',')}]`,
    );
    expect(r.rejections).toEqual([]);
    expect(r.readings).toHaveLength(MAX_BATCH_READINGS);
  });

  it('clips what it quotes: a 5 MB unit string does not reach the detail whole', () => {
    const unit = 'x'.repeat(5_000_000);
    const r = parse('oep/c1/pressure', `{"ts":${T},"value":1,"unit":"${unit}"}`);
    expect(r.rejections.map((x) => x.reason)).toEqual(['unknown_unit']);
    expect(r.rejections[0]!.detail.length).toBeLessThan(200);
    const ts = parse('oep/c1/pressure', `{"ts":"${unit}","value":1}`);
    expect(ts.rejections[0]!.detail.length).toBeLessThan(200);
    expect(parse('oep/c1/pressure', unit).rejections[0]!.detail.length).toBeLessThan(200);
    expect(parse(`oep/c1/${unit}`, '1').rejections[0]!.detail.length).toBeLessThan(200);
  });

  it('refuses cell ids with control characters, over 128 characters, or with + #, before anything else', () => {
    for (const id of ['a\nb', 'a\rb', 'a\u0000', 'tab\there', 'del\u007f', 'c1\u0085', 'x'.repeat(129), 'a+b', 'a#']) {
      expect(isValidCellId(id)).toBe(false);
      const r = parse(`oep/${id}/pressure`, `{"ts":${T},"value":1}`);
      expect(r.rejections).toEqual([expect.objectContaining({ cell: '?', reason: 'bad_cell_id' })]);
    }
    for (const id of ['c1', 'cell A', 'Zelle-ä', 'x'.repeat(128), 'a,b="c"']) expect(isValidCellId(id)).toBe(true);
  });

  it('asks admission before looking at the payload', () => {
    let asked = 0;
    const admit = (cell: string) => {
      asked++;
      return cell === 'ok' ? undefined : ('cell_not_allowed' as const);
    };
    expect(reasons('oep/stranger/pressure', '{', { admit })).toEqual(['cell_not_allowed']);
    expect(parse('oep/ok/pressure', `{"ts":${T},"value":1}`, { admit }).readings).toHaveLength(1);
    expect(asked).toBe(2);
  });

  it('never throws on hostile bytes: invalid UTF-8, BOM, NUL, huge numbers, every JSON type', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.string().map(bytes),
          fc.jsonValue().map((v) => bytes(JSON.stringify(v))),
        ),
        (p) => {
          const r = parse('oep/c1/current', p);
          expect(r.readings.length + r.rejections.length).toBeGreaterThanOrEqual(0);
          for (const x of r.rejections) expect(x.detail.length).toBeLessThan(400);
        },
      ),
      { numRuns: 3_000 },
    );
    expect(reasons('oep/c1/current', Buffer.from([0xef, 0xbb, 0xbf, 0x31]))).toEqual(['invalid_json']);
    expect(reasons('oep/c1/current', Buffer.from([0xff, 0xfe, 0x00]))).toEqual(['invalid_json']);
  });
});
