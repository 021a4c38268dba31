/**
 * The pressure track keeps only what a boundary still to be resolved can read (dropBefore), with the same
 * answers as a track that keeps its last `capacity` samples, and a processor's results unchanged by it.
 */
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { cellSettings } from '../support/cell-settings.js';
import { CellProcessor, newOutput } from '../../src/domain/cell-processor.js';
import { PressureTrack, type Lookup } from '../../src/domain/pressure-track.js';
import type { Reading } from '../../src/domain/types.js';

/** A small deterministic generator (tests must not depend on Math.random's sequence). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}

describe('PressureTrack.dropBefore', () => {
  it('answers every lookup at or after the instant as a track that drops nothing, across growth, wrap-around and capacity', () => {
    for (const capacity of [1, 7, 40, 4096]) {
      const rnd = lcg(capacity);
      const kept = new PressureTrack(5_000, capacity);
      const full = new PressureTrack(5_000, capacity);
      let t = 0;
      let horizon = 0;
      for (let i = 0; i < 3_000; i++) {
        // Gaps of 0 (equal times) to 8 s: some longer than the 5 s gap limit.
        t += Math.floor(rnd() * 4) * Math.floor(rnd() * 2_700);
        // The instant never goes back (no new boundary is older than it), by fits and starts, sometimes far behind the newest sample.
        if (rnd() < 0.05) horizon = Math.max(horizon, t - Math.floor(rnd() * 60_000));
        if (kept.full) kept.dropBefore(horizon);
        kept.add(t, i);
        full.add(t, i);
        for (const q of [horizon, horizon + 1_234, t - 3_000, t, t + 1_000]) {
          if (q < horizon) continue;
          const want: Lookup = full.valueAt(q);
          expect(kept.valueAt(q), `capacity ${capacity}, sample ${i}, t ${q}`).toEqual(want);
          expect(kept.valueAt(q, true)).toEqual(full.valueAt(q, true));
        }
      }
      expect(kept.count).toBeLessThanOrEqual(full.count);
    }
  });

  it('keeps the newest sample before the instant, drops nothing for NaN, and shrinks its buffers', () => {
    const t = new PressureTrack(10_000, 4_096);
    for (let i = 0; i < 1_000; i++) t.add(i * 1_000, i);
    t.dropBefore(NaN);
    expect(t.count).toBe(1_000);
    t.dropBefore(990_500);
    expect(t.toJSON()).toEqual({
      ts: [990_000, 991_000, 992_000, 993_000, 994_000, 995_000, 996_000, 997_000, 998_000, 999_000],
      p: [990, 991, 992, 993, 994, 995, 996, 997, 998, 999],
    });
    expect(t.valueAt(990_500)).toEqual({ kind: 'value', p: 990.5 });
    // 10 samples left in a buffer grown to 1,024: back to 64 slots (a quarter used at most), so `full` comes again soon.
    for (let i = 0; i < 54; i++) t.add(1_000_000 + i, 0);
    expect(t.full).toBe(true);
  });
});

/** 6 h of 1 Hz pressure and current: a square wave of 20 min steps, a glitch, a 3 min current silence, a 1 min pressure gap. */
function lab(): Reading[] {
  const out: Reading[] = [];
  const T0 = Date.UTC(2026, 0, 1);
  for (let s = 0; s < 6 * 3_600; s++) {
    const inStep = s % 2_400;
    const i = s % 4_800 < 2_400 ? 0.65 : inStep < 1_200 ? -0.65 : 0;
    const ts = T0 + s * 1_000;
    if (s < 9_000 || s > 9_060) out.push({ cell: 'c1', channel: 'pressure', ts, value: 15 + Math.sin(s / 500) });
    const silent = s > 12_000 && s < 12_180;
    const glitch = s >= 3_000 && s < 3_004;
    if (!silent) out.push({ cell: 'c1', channel: 'current', ts: ts + 400, value: glitch ? 0 : i });
  }
  return out;
}

describe('a cell processor with the trimmed track', () => {
  it('gives the same steps and cycles as with a track that keeps its last 4,096 samples, and holds a few samples', () => {
    const run = (trim: boolean): { json: string; cycles: number; p: CellProcessor; most: number } => {
      const p = new CellProcessor(cellSettings({ minStepDuration_ms: 60_000 }));
      // The reference never drops: `full` always false, the ring alone bounds it as before.
      if (!trim) Object.defineProperty(p.track, 'full', { value: false });
      const out = newOutput();
      let most = 0;
      for (const r of lab()) {
        p.process(r, out);
        most = Math.max(most, p.track.count);
      }
      p.finish(out);
      return { json: JSON.stringify({ steps: out.steps, cycles: out.cycles, stats: p.stats }), cycles: out.cycles.length, p, most };
    };
    const trimmed = run(true);
    const reference = run(false);
    expect(trimmed.json).toBe(reference.json);
    expect(trimmed.cycles).toBeGreaterThan(3);
    expect(reference.most).toBe(4_096);
    // The 3 min silence of the current and the 60 s candidates hold back a few hundred samples at most.
    expect(trimmed.most).toBeLessThan(300);
    expect(trimmed.p.track.count).toBeLessThan(20);
  });
});

describe('PressureTrack.revive', () => {
  it('reads a copy from before the track kept its own buffers (a TimeRing inside)', () => {
    // the TimeRing of that release: two arrays (tsBuf, valueBuf), a start and a count
    const tsBuf = new Float64Array(32);
    const valueBuf = new Float64Array(32);
    for (let i = 0; i < 20; i++) [tsBuf[i], valueBuf[i]] = [i * 1_000, i];
    const ring = { capacity: 4_096, tsBuf, valueBuf, start: 0, n: 20 };
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- v8.deserialize returns any
    const old = deserialize(serialize({ maxGap_ms: 5_000, capacity: 4_096, ring })) as object;
    const t = PressureTrack.revive(old);
    expect(t.count).toBe(20);
    expect(t.valueAt(10_500)).toEqual({ kind: 'value', p: 10.5 });
    t.add(20_000, 20);
    expect(t.lastTs).toBe(20_000);
    expect(Object.keys(t)).not.toContain('ring');
  });

  it('gives a copy of a current track its class back', () => {
    const t = new PressureTrack(5_000, 64);
    for (let i = 0; i < 100; i++) t.add(i * 1_000, i);
    const copy = PressureTrack.revive(deserialize(serialize(t)) as object);
    expect(copy.toJSON()).toEqual(t.toJSON());
    expect(copy.valueAt(99_000)).toEqual({ kind: 'value', p: 99 });
  });

  it('reads a copy from before the pairs shared one buffer (two arrays, tsBuf and pBuf, wrapped around)', () => {
    // a ring of 16 slots holding 12 samples from slot 10 on: 10..15, then 0..5
    const tsBuf = new Float64Array(16);
    const pBuf = new Float64Array(16);
    for (let k = 0; k < 12; k++) [tsBuf[(10 + k) % 16], pBuf[(10 + k) % 16]] = [k * 1_000, k];
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- v8.deserialize returns any
    const old = deserialize(serialize({ maxGap_ms: 5_000, capacity: 4_096, tsBuf, pBuf, start: 10, n: 12 })) as object;
    const t = PressureTrack.revive(old);
    expect(t.toJSON()).toEqual({ ts: Array.from({ length: 12 }, (_, k) => k * 1_000), p: Array.from({ length: 12 }, (_, k) => k) });
    expect(t.valueAt(6_500)).toEqual({ kind: 'value', p: 6.5 });
    for (let k = 12; k < 40; k++) t.add(k * 1_000, k);
    expect(t.valueAt(39_000)).toEqual({ kind: 'value', p: 39 });
    expect(Object.keys(t)).not.toContain('tsBuf');
  });
});
