/**
 * The check of a restored cell record (state-schema.ts `parseCellRecord`: zod's compiled validator first, zod's
 * runtime parser for what it refuses) accepts exactly what zod's runtime parser of the record schema accepts.
 * The records of a busy lab (test/support/busy-lab.ts), as a restore decodes them, pass; every damaged copy of
 * them (each value in turn of another type, NaN, ±Infinity, absent, or an object given a key too many) is
 * refused exactly when the runtime parser refuses it, with a message that names where.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeRecord, encodeRecord } from '../../src/adapters/record-codec.js';
import { cellRecordSchema, parseCellRecord } from '../../src/adapters/state-schema.js';
import { feedBusy, newBusyLab } from '../support/busy-lab.js';

type Path = readonly (string | number)[];

/**
 * The path of every value in `v` (`v` itself first), objects' and arrays' insides included, typed arrays as one
 * value; of a long array's elements, the first two and the last (the others are alike).
 */
function paths(v: unknown, at: Path = []): Path[] {
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return [at];
  const keys = Array.isArray(v) ? [...new Set([0, 1, v.length - 1])].filter((i) => i >= 0 && i < v.length) : Object.keys(v);
  return [at, ...keys.flatMap((k) => paths(Reflect.get(v, k), [...at, k]))];
}

/** A deep copy of `v` (typed arrays copied) with the value at `path` replaced by `f(old)`, or removed when `f` gives REMOVE. */
const REMOVE = Symbol('remove');
function changed(v: unknown, path: Path, f: (old: unknown) => unknown): unknown {
  const copy = decodeRecord(encodeRecord(v));
  if (path.length === 0) return f(copy);
  const parent = path.slice(0, -1).reduce<unknown>((o, k) => Reflect.get(o as object, k), copy) as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  const next = f(parent[key]);
  if (next === REMOVE) Reflect.deleteProperty(parent, key);
  else parent[key] = next;
  return copy;
}

/** What a value is turned into (each in turn). */
const DAMAGE: readonly [string, (old: unknown) => unknown][] = [
  ['a string', () => 'x'],
  ['null', () => null],
  ['absent', () => REMOVE],
  ['NaN', () => NaN],
  ['Infinity', () => Infinity],
  ['a boxed number', (): unknown => Object(1)],
  ['an empty object', () => ({})],
  ['a Float64Array', () => new Float64Array(2)],
  ['a key too many', (old) => (typeof old === 'object' && old !== null && !Array.isArray(old) && !ArrayBuffer.isView(old) ? { ...old, extra: 1 } : old)],
];

function busyRecords(): [string, unknown][] {
  const lab = newBusyLab();
  feedBusy(lab, 0, 2_400);
  // as a restore has them: encoded and decoded (typed arrays of their own, no shared objects)
  return [...lab.cells.keys()].map((id) => [id, decodeRecord(encodeRecord(lab.cellRecord(id)))]);
}

describe('the check of a restored cell record', () => {
  it("compiles (zod's ahead-of-time compiler takes the whole schema: no part left to its runtime parser)", () => {
    expect(() => z.compile(cellRecordSchema, { strict: true })).not.toThrow();
  });

  it('passes the records of a busy lab', () => {
    const records = busyRecords();
    expect(records.length).toBe(5);
    for (const [id, r] of records) expect(parseCellRecord(id, r)).toBe(r);
  });

  it("refuses a damaged record exactly when zod's runtime parser does, naming where", () => {
    let refused = 0;
    let accepted = 0;
    const seen = new Set<string>();
    for (const [id, r] of busyRecords())
      for (const path of paths(r)) {
        // a path met in an earlier cell's record again is passed over
        if (seen.has(path.join('.'))) continue;
        seen.add(path.join('.'));
        for (const [what, f] of DAMAGE) {
          const damaged = changed(r, path, f);
          const where = `${id}: ${path.join('.')} made ${what}`;
          if (cellRecordSchema.safeParse(damaged).success) {
            expect(() => parseCellRecord(id, damaged), where).not.toThrow();
            accepted++;
            continue;
          }
          refused++;
          // the deepest key named on the path (an added key is named itself)
          const named = what === 'a key too many' ? 'extra' : [...path].reverse().find((k) => typeof k === 'string');
          expect(() => parseCellRecord(id, damaged), where).toThrow(named === undefined ? /does not match/ : new RegExp(`does not match[\\s\\S]*"${named}"`));
        }
      }
    // the parts of each kind were reached
    for (const p of [
      'aligner.recent.0.runs',
      'processor.step.curve.points.0.2',
      'processor.cycles.steps.0.kind',
      'gaps.tracks.0.steps',
      'counters.rejected',
      'failure',
    ])
      expect(seen.has(p), p).toBe(true);
    expect(refused).toBeGreaterThan(1_000);
    expect(accepted).toBeGreaterThan(100);
  });

  it('takes any number where the record has a time or a value (NaN, ±Infinity and -0 too), and nothing else there', () => {
    const [[id, r]] = busyRecords() as [[string, unknown]];
    const numbers = [
      'processor.prevT',
      'processor.step.tStart',
      'processor.step.curve.points.0.2',
      'processor.pending.t',
      'gaps.tracks.0.last',
      'aligner.watermark',
    ];
    const values: readonly unknown[] = [0, -0, 1.5, -1e300, NaN, Infinity, -Infinity, 'x', '1', Object(1), true, undefined, {}, [], 1n];
    for (const p of numbers) {
      const path = p.split('.').map((k) => (/^[0-9]+$/.test(k) ? Number(k) : k));
      for (const v of values) {
        // processor.pending.t is an array of numbers: its first element
        const at = p === 'processor.pending.t' ? [...path, 0] : path;
        const damaged = changed(r, at, () => v);
        const where = `${p} = ${typeof v === 'bigint' ? '1n' : String(v)}`;
        if (typeof v === 'number') expect(() => parseCellRecord(id, damaged), where).not.toThrow();
        else expect(() => parseCellRecord(id, damaged), where).toThrow(new RegExp(`"${String(at.findLast((k) => typeof k === 'string'))}"`));
      }
    }
  });
});
