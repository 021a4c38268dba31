import { describe, expect, it } from 'vitest';
import { ALL_CELLS, MaintenanceSilences } from '../../src/domain/alerts/maintenance.js';
import { INSTANT_VALUES, InstantValues } from '../../src/domain/instant-values.js';

describe('maintenance silences', () => {
  it('covers a cell until its end, and every cell under ALL_CELLS; a past end lifts it', () => {
    const s = new MaintenanceSilences();
    expect(s.covers('a', 0)).toBe(false);
    s.set('a', 1_000);
    expect(s.of('a', 999)).toBe(1_000);
    expect(s.covers('a', 1_000)).toBe(false);
    expect(s.of('b', 0)).toBeUndefined();
    s.set(ALL_CELLS, 5_000);
    expect(s.of('b', 0)).toBe(5_000);
    // the later of the cell's own and the lab-wide end
    expect(s.of('a', 0)).toBe(5_000);
    s.set(ALL_CELLS, 0);
    s.set('a', -1);
    expect(s.covers('a', 0)).toBe(false);
    expect(s.covers('b', 0)).toBe(false);
  });
});

describe('instant values', () => {
  it('knows every value of the instants it holds, and nothing of an instant it lost to the overwrite', () => {
    const v = new InstantValues();
    expect(v.storedBytes).toBe(0);
    expect(v.has(1, 1)).toBeUndefined();
    v.push(10, 1.5);
    v.push(10, -2);
    expect(v.newest).toBe(10);
    expect(v.has(10, 1.5)).toBe(true);
    expect(v.has(10, -2)).toBe(true);
    expect(v.has(10, 3)).toBe(false);
    expect(v.has(11, 1.5)).toBeUndefined();
    // fill the ring: instant 10 is pushed out value by value
    for (let k = 0; k < INSTANT_VALUES - 1; k++) v.push(20 + k, k);
    // the oldest slot now holds instant 10's second value alone: a value still there is known; another
    // is no longer known to be absent (it may have been the overwritten one), so the runs decide
    expect(v.has(10, -2)).toBe(true);
    expect(v.has(10, 1.5)).toBeUndefined();
    expect(v.has(10, 7)).toBeUndefined();
    expect(v.has(20, 0)).toBe(true);
    expect(v.toState().ts.length).toBe(INSTANT_VALUES);
    expect(v.storedBytes).toBe(INSTANT_VALUES * 16);
  });
});
