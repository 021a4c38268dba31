import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OneSourceMerge } from '../../src/adapters/recorded-queue.js';
import { TimeMerge } from '../../src/domain/merge.js';

interface Item {
  readonly ts: number;
  readonly id: number;
}

/** A push into a lane, or a drain up to a horizon (Infinity: the end of the file). */
type Op = { readonly push: number; readonly ts: number } | { readonly drain: number };

/** Rows of one file as `recordedReadings` feeds them: each row's channels in lane order at its ts, a drain after some rows at the newest ts so far. */
const rowsArb = fc.array(
  fc.record({
    dt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 }), fc.integer({ min: -3, max: -1 })),
    lanes: fc.subarray([0, 1, 2, 3], { minLength: 1 }),
    drain: fc.boolean(),
  }),
  { maxLength: 60 },
);

interface Row {
  readonly dt: number;
  readonly lanes: readonly number[];
  readonly drain: boolean;
}

function opsOf(rows: readonly Row[], forward: boolean): Op[] {
  const ops: Op[] = [];
  let ts = 1000;
  let newest = -Infinity;
  for (const r of rows) {
    ts += forward ? Math.abs(r.dt) : r.dt;
    for (const lane of r.lanes) ops.push({ push: lane, ts });
    newest = Math.max(newest, ts);
    if (r.drain) ops.push({ drain: newest });
  }
  ops.push({ drain: Infinity });
  return ops;
}

function run(ops: readonly Op[], merge: { push(lane: number, item: Item): void; drain(h: number, out: Item[]): void }): Item[][] {
  const drained: Item[][] = [];
  let id = 0;
  for (const op of ops) {
    if ('push' in op) merge.push(op.push, { ts: op.ts, id: id++ });
    else {
      const out: Item[] = [];
      merge.drain(op.drain, out);
      drained.push(out);
    }
  }
  return drained;
}

describe('OneSourceMerge', () => {
  it('drains what TimeMerge drains, in the same order, for a file that runs forward (equal timestamps included)', () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const ops = opsOf(rows, true);
        expect(run(ops, new OneSourceMerge<Item>(4))).toEqual(run(ops, new TimeMerge<Item>(4)));
      }),
      { numRuns: 500 },
    );
  });

  it('and for a file that goes back in time (the real merge takes over with what is queued)', () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const ops = opsOf(rows, false);
        expect(run(ops, new OneSourceMerge<Item>(4))).toEqual(run(ops, new TimeMerge<Item>(4)));
      }),
      { numRuns: 500 },
    );
  });

  it('orders one instant by lane, first in first out within a lane', () => {
    const m = new OneSourceMerge<Item>(4);
    for (const [lane, id] of [
      [1, 0],
      [2, 1],
      [0, 2],
      [1, 3],
      [2, 4],
    ] as const)
      m.push(lane, { ts: 5, id });
    m.push(1, { ts: 6, id: 5 });
    const out: Item[] = [];
    m.drain(6, out);
    expect(out.map((i) => i.id)).toEqual([2, 0, 3, 1, 4]);
    const rest: Item[] = [];
    m.drain(Infinity, rest);
    expect(rest.map((i) => i.id)).toEqual([5]);
  });

  it('refuses a lane it does not have', () => {
    expect(() => {
      new OneSourceMerge<Item>(4).push(4, { ts: 1, id: 0 });
    }).toThrow(RangeError);
  });
});
