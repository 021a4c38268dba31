/**
 * The aligner's buffer (src/domain/reading-buffer.ts) against a plain model of what it promises: readings in
 * time order, at equal times by the channel's tie rank (step, current, voltage, pressure), then in arrival
 * order; an exact duplicate (channel, time, value, cycle index) of a buffered reading is refused. Random
 * arrivals with many equal times (channels published in batches at the same instants, as the benchmark's
 * pressure and current are), repeated values and redeliveries, released part by part.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReadingBuffer, ReleasedReadingColumns } from '../../src/domain/reading-buffer.js';

const TIE_RANK = [3, 1, 2, 0];

interface Entry {
  readonly code: number;
  readonly ts: number;
  readonly value: number;
  readonly cyc: number;
}

/** The model: a sorted array, a linear search for duplicates. */
function modelInsert(m: Entry[], e: Entry): boolean {
  if (m.some((x) => x.ts === e.ts && x.code === e.code && x.value === e.value && Object.is(x.cyc, e.cyc))) return false;
  let i = m.length;
  while (i > 0) {
    const x = m[i - 1];
    if (x === undefined || !(x.ts > e.ts || (x.ts === e.ts && (TIE_RANK[x.code] ?? 0) > (TIE_RANK[e.code] ?? 0)))) break;
    i--;
  }
  m.splice(i, 0, e);
  return true;
}

const entry = fc.record({
  code: fc.integer({ min: 0, max: 3 }),
  ts: fc.integer({ min: 0, max: 40 }),
  value: fc.constantFrom(0, 1, 2.5, -0.65),
  cyc: fc.constantFrom(NaN, NaN, 3),
});
/** An arrival: one reading, a batch of one channel at consecutive times, or a release up to a time. */
const op = fc.oneof(
  entry.map((e) => ({ insert: [e] })),
  fc
    .record({ code: fc.integer({ min: 0, max: 3 }), from: fc.integer({ min: 0, max: 40 }), n: fc.integer({ min: 1, max: 40 }), value: fc.constantFrom(0, 1) })
    .map(({ code, from, n, value }) => ({ insert: Array.from({ length: n }, (_, k) => ({ code, ts: from + k, value, cyc: NaN })) })),
  fc.integer({ min: -1, max: 40 }).map((w) => ({ release: w })),
);

describe('ReadingBuffer', () => {
  it('keeps time, tie-rank and arrival order and refuses exact duplicates, as the plain model does', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const b = new ReadingBuffer();
        const model: Entry[] = [];
        const out = new ReleasedReadingColumns();
        const released: Entry[] = [];
        const expected: Entry[] = [];
        for (const o of ops) {
          if ('insert' in o) {
            for (const e of o.insert) expect(b.insertPair('c', e.code, [e.ts, e.value], 0, e.cyc)).toBe(modelInsert(model, e));
          } else {
            out.n = 0;
            b.shiftThrough(o.release, out);
            for (let k = 0; k < out.n; k++)
              released.push({ code: out.code[k] ?? -1, ts: out.ts[k] ?? NaN, value: out.value[k] ?? NaN, cyc: out.cycle[k] ?? NaN });
            while (model.length > 0 && (model[0]?.ts ?? Infinity) <= o.release) expected.push(model.shift() as Entry);
          }
          expect(b.size).toBe(model.length);
        }
        expect(released).toEqual(expected);
        expect(b.toReadings().map((r) => [r.ts, r.value, r.channel])).toEqual(
          model.map((e) => [e.ts, e.value, ['pressure', 'current', 'voltage', 'step'][e.code]]),
        );
      }),
      { numRuns: 3_000 },
    );
  });
});
