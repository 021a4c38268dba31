/**
 * The hard-short and voltage-stall detectors on the shapes real cells have: a charge whose current falls (step
 * end, CC→CV) drops the voltage by the ohmic drop without a short; a LiFePO4 plateau stays flat for hours on a
 * healthy cell; a symmetric Li|Li cell has no rising CC voltage at all. And the shapes they must still catch.
 */
import { describe, expect, it } from 'vitest';
import { feedHardShort, HARD_SHORT_DEFAULTS, newHardShortState } from '../../../src/domain/alerts/hard-short.js';
import { feedVoltageStall, newVoltageStallState, restoreVoltageStallState, VOLTAGE_STALL_DEFAULTS } from '../../../src/domain/alerts/voltage-stall.js';

const HS = HARD_SHORT_DEFAULTS;

describe('hard short', () => {
  /** Feeds [t_ms, V, mA] samples of a charge; returns the largest value signalled. */
  const peak = (samples: [number, number, number][]): number => {
    const s = newHardShortState();
    let m = 0;
    for (const [t, v, i] of samples) m = Math.max(m, feedHardShort(s, t, v, i, true, HS)?.value ?? 0);
    return m;
  };

  it('a voltage fall while the charge current holds is a hard short', () => {
    expect(
      peak([
        [0, 4.0, 1.0],
        [1_000, 4.001, 1.0],
        [2_000, 3.7, 1.0],
      ]),
    ).toBeCloseTo(301, 0);
  });

  it('the ohmic drop as the current falls is not (the Maccor file: 9.68 A → 2.42 A → 2.94 A, 4.148 → 4.046 V in 40 ms)', () => {
    const maccor: [number, number, number][] = [
      [0, 4.13504, 9680.0],
      [8_950, 4.14015, 9680.9],
      [13_720, 4.14534, 9680.0],
      [18_490, 4.14801, 2420.0],
      [18_530, 4.04593, 2944.2],
      [48_530, 4.10018, 7403.1],
    ];
    expect(peak(maccor)).toBe(0);
    // and a CC-CV charge whose current tapers slowly: the voltage is held, nothing to see
    const taper: [number, number, number][] = Array.from({ length: 60 }, (_, k) => [k * 1_000, 4.2 - (k % 2) * 0.001, 10 * 0.97 ** k]);
    expect(peak(taper)).toBeLessThan(HS.warn_mV);
  });

  it('the current level ages out: a fall long after the current settled at a lower level counts again', () => {
    expect(
      peak([
        [0, 4.0, 10],
        [1_000, 4.0, 2],
        [6_000, 4.0, 2],
        [12_000, 4.0, 2],
        [13_000, 3.9, 2],
      ]),
    ).toBeCloseTo(100, 0);
  });

  it('a state from an older snapshot (no current level) still works', () => {
    const s = { lastT: 0, lastV: 4.0 };
    expect(feedHardShort(s, 1_000, 3.8, 1, true, HS)?.value).toBeCloseTo(200, 6);
  });
});

const VS = VOLTAGE_STALL_DEFAULTS;
const MIN = 60_000;
const HOUR = 60 * MIN;

/** One charge episode (samples every minute for `hours`), voltage v(minutes since start); then 2 h of rest. */
function charge(start: number, hours: number, v: (min: number) => number): [number, number][] {
  return Array.from({ length: hours * 60 + 1 }, (_, k) => [start + k * MIN, v(k)]);
}

/** Runs episodes (one per cycle, reference cycle 2) through the detector; the largest value per episode. */
function stall(episodes: ((min: number) => number)[], hours = 10): number[] {
  const s = newVoltageStallState();
  return episodes.map((v, k) => {
    let m = 0;
    for (const [t, volts] of charge(k * (hours + 2) * HOUR, hours, v)) m = Math.max(m, feedVoltageStall(s, t, volts, true, k + 1, 2, VS)?.value ?? 0);
    return m;
  });
}

/** LiFePO4-like: 3.20 → 3.30 V over the first half hour, a plateau rising 2 mV/h for 8 h, then up to 3.65 V. */
const lfp = (plateau_h: number) => (m: number) =>
  m < 30
    ? 3.2 + (0.1 * m) / 30
    : m < 30 + plateau_h * 60
      ? 3.3 + ((m - 30) / 60) * 0.002
      : Math.min(3.65, 3.3 + plateau_h * 0.002 + (m - 30 - plateau_h * 60) * 0.01);
/** NMC-like: a steady rise 3.6 → 4.2 V over 8 h, then the CV hold. */
const nmc = (m: number) => Math.min(4.2, 3.6 + (0.6 * m) / 480);

describe('voltage stall', () => {
  it('a steadily rising CC charge is quiet; a stall below the top alerts', () => {
    const stalled = (m: number) => Math.min(4.0, nmc(m)); // stalls 200 mV under its top from 6.7 h on
    const peaks = stall([nmc, nmc, nmc, stalled]);
    expect(peaks.slice(0, 3)).toEqual([0, 0, 0]);
    expect(peaks[3]).toBeGreaterThan(VS.crit_min);
  });

  it("a LiFePO4 plateau (5 mV in 2.5 h) is the cell's own: quiet; a stall well beyond it alerts", () => {
    const peaks = stall([lfp(7), lfp(7), lfp(7), lfp(7.5), (m) => Math.min(3.3005, lfp(7)(m))], 12);
    expect(peaks.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(peaks[4]).toBeGreaterThan(VS.warn_min);
  });

  it('a symmetric Li|Li cell (flat ±20 mV overpotential) is never judged', () => {
    const lili = (k: number) => (m: number) => 0.03 + 0.01 * Math.sin(m / 17 + k) - 0.00002 * m;
    expect(stall([lili(0), lili(1), lili(2), lili(3), lili(4)])).toEqual([0, 0, 0, 0, 0]);
  });

  it('a state from an older snapshot starts learning afresh', () => {
    const old = { episodeStart: 0, lastCharging: 0, episodeMax: 4.1, top: 4.2, mark: 4.0, markT: 0 };
    const s = restoreVoltageStallState(old);
    expect(s.plateau_ms).toBeNaN();
    expect(s.top).toBe(4.2);
  });
});
