import { describe, expect, it } from 'vitest';
import { TimeRing } from '../../src/domain/ring.js';
import { PressureTrack } from '../../src/domain/pressure-track.js';

function contents(r: TimeRing): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < r.size; k++) out.push([r.tsAt(k), r.valueAt(k)]);
  return out;
}

describe('TimeRing', () => {
  it('holds the last `capacity` pairs oldest first, across growth and wrap-around', () => {
    for (const capacity of [1, 5, 16, 17, 100, 1024]) {
      const r = new TimeRing(capacity);
      const expected: [number, number][] = [];
      for (let i = 0; i < 3 * capacity + 7; i++) {
        r.push(i, i * 10);
        expected.push([i, i * 10]);
        if (expected.length > capacity) expected.shift();
        if (i % 13 === 0 || i === 3 * capacity + 6) expect(contents(r)).toEqual(expected);
      }
      expect(r.size).toBe(capacity);
    }
  });

  it('allocates nothing before the first push and grows no larger than its capacity', () => {
    const r = new TimeRing(1000);
    expect(r.size).toBe(0);
    expect(r.tsAt(0)).toBeNaN();
    for (let i = 0; i < 20; i++) r.push(i, i);
    // 16 → 32 slots: a channel that published 20 readings holds 32, not 1000.
    expect(contents(r)).toHaveLength(20);
    expect(r.toJSON().ts[0]).toBe(0);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new TimeRing(0)).toThrow(/at least 1/);
  });
});

describe('PressureTrack on a lazily grown ring', () => {
  it('interpolates across the growth points and forgets what fell out of the ring', () => {
    const t = new PressureTrack(10_000, 40);
    for (let i = 0; i < 100; i++) t.add(i * 1000, i);
    expect(t.count).toBe(40);
    expect(t.valueAt(80_500)).toEqual({ kind: 'value', p: 80.5 });
    expect(t.valueAt(60_000)).toEqual({ kind: 'value', p: 60 });
    expect(t.valueAt(59_999)).toEqual({ kind: 'missing' });
    expect(t.valueAt(99_500)).toEqual({ kind: 'pending' });
    expect(t.toJSON().p).toHaveLength(40);
  });
});
