/**
 * The released-readings memory (src/domain/dedup.ts) and the aligner with it: a redelivered batch far
 * larger than the former 1,024-reading ring is recognised whole, a reading at an instant never released is
 * late, a cycler's two rows at one instant are both kept (and their redelivery recognised), jittered
 * timestamps are kept as spans (the simulator's readings are recognised again), irregular ones at least
 * `dedupDepth` deep, the state round-trips (and the rings of older
 * formats restore), and a regular channel costs a few hundred bytes (counted from the typed arrays held).
 */
import { deserialize, serialize } from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCellRecord } from '../../src/adapters/state-schema.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { DEFAULT_DEDUP_DEPTH, EventTimeAligner, type AlignerSettings } from '../../src/domain/align.js';
import { INSTANT_VALUES, ReleasedReadings } from '../../src/domain/dedup.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import { TimeRing } from '../../src/domain/ring.js';
import type { Channel, Reading } from '../../src/domain/types.js';
import { defaultSimCellSpec } from '../../src/sim/cell-spec.js';
import { simulateCells } from '../../src/sim/simulator.js';
import { rng } from '../support/hostile.js';

const S: AlignerSettings = { lateness_ms: 2_000, idleTimeout_ms: 30_000, dedupDepth: DEFAULT_DEDUP_DEPTH, maxBuffered: 200_000 };
const T0 = Date.UTC(2026, 5, 1);
const r = (channel: Channel, ts: number, value: number): Reading => ({ cell: 'c', channel, ts: T0 + ts, value });

/** A 1 Hz cell: pressure drifting, current switching between ±0.5 mA every 600 s with the cycler's two rows at each switch. */
function regularCell(from: number, n: number): Reading[] {
  const out: Reading[] = [];
  for (let s = from; s < from + n; s++) {
    const ts = s * 1000;
    const before = Math.floor((s - 1) / 600) % 2 === 0 ? 0.5 : -0.5;
    const now = Math.floor(s / 600) % 2 === 0 ? 0.5 : -0.5;
    if (s > 0 && s % 600 === 0) out.push(r('current', ts, before));
    out.push(r('current', ts, now), r('pressure', ts, 5 + Math.sin(s / 100) * 0.01 + s * 1e-7));
  }
  return out;
}

function offerAll(a: EventTimeAligner, readings: readonly Reading[], now: number, out: Reading[]): Map<string, number> {
  const tally = new Map<string, number>();
  for (const x of readings) {
    const o = a.offer(x, now);
    tally.set(o, (tally.get(o) ?? 0) + 1);
  }
  a.release(now, out);
  return tally;
}

describe('released readings memory', () => {
  it('recognises the redelivery of 100,000 readings per channel after their release as duplicates, all of them', () => {
    const a = new EventTimeAligner(S);
    const out: Reading[] = [];
    const first = regularCell(0, 100_000);
    expect(offerAll(a, first, 0, out)).toEqual(new Map([['accepted', first.length]]));
    expect(offerAll(a, regularCell(100_000, 10), 1, out).get('accepted')).toBe(10 * 2);
    expect(out.length).toBeGreaterThanOrEqual(first.length); // the whole first batch is released
    expect(a.watermark).toBeGreaterThan(T0 + 99_999_000);
    // the broker sends the whole batch again (a QoS 1 redelivery)
    expect(offerAll(a, first, 2, out)).toEqual(new Map([['duplicate', first.length]]));
  });

  it('keeps a cycler step change (two rows at one instant) and recognises their redelivery; a third value there is late', () => {
    const a = new EventTimeAligner(S);
    const out: Reading[] = [];
    const batch = regularCell(0, 1_300);
    offerAll(a, batch, 0, out);
    offerAll(a, regularCell(1_300, 10), 1, out);
    const at600 = out.filter((x) => x.channel === 'current' && x.ts === T0 + 600_000).map((x) => x.value);
    expect(at600).toEqual([0.5, -0.5]);
    expect(offerAll(a, batch, 2, out)).toEqual(new Map([['duplicate', batch.length]]));
    expect(a.offer(r('current', 600_000, 0), 3)).toBe('late'); // neither row of that instant
    expect(a.offer(r('current', 1_200_000, 0.25), 3)).toBe('late');
  });

  it('counts a reading at an instant never released (a hole) as late, also inside the released span', () => {
    const a = new EventTimeAligner(S);
    const out: Reading[] = [];
    const batch = regularCell(0, 2_000).filter((x) => x.ts < T0 + 500_000 || x.ts >= T0 + 510_000);
    offerAll(a, batch, 0, out);
    offerAll(a, regularCell(2_000, 10), 1, out);
    expect(a.offer(r('pressure', 505_000, 5), 2)).toBe('late');
    expect(a.offer(r('pressure', 500_000, 5), 2)).toBe('late'); // one step past the run before the hole
    expect(a.offer(r('pressure', 499_500, 5), 2)).toBe('late'); // between two samples
    expect(a.offer(r('pressure', 510_000, 99), 2)).toBe('late'); // released instant, value far outside its run's
    expect(offerAll(a, batch, 2, out)).toEqual(new Map([['duplicate', batch.length]]));
  });

  it('keeps a jittered channel (the simulator: ±20 ms at 10 Hz) as spans: its redelivery is recognised, a reading in a hole is late', () => {
    const d = new ReleasedReadings(DEFAULT_DEDUP_DEPTH);
    const rand = rng(7);
    const pairs: [number, number][] = [];
    for (let k = 0; k < 200_000; k++) {
      if (k >= 100_000 && k < 100_003) continue; // three samples lost
      pairs.push([T0 + k * 100 + Math.round((2 * rand() - 1) * 20), rand()]);
    }
    for (const [ts, v] of pairs) d.push(ts, v);
    for (const [ts, v] of pairs.slice(-DEFAULT_DEDUP_DEPTH)) expect(d.has(ts, v)).toBe(true);
    // older readings inside a span are not told from a load cell's flush of old readings: late (the conservative side)
    expect(pairs.slice(0, -DEFAULT_DEDUP_DEPTH).filter(([ts, v]) => d.has(ts, v)).length).toBeLessThan(10);
    expect(d.has(T0 + 100_001 * 100, 0.5)).toBe(false); // in the hole: late
    expect(d.has(T0 + 199_000 * 100 + 50, 0.5)).toBe(false); // between two recent released samples of a span: late
    expect(d.runs).toBeLessThanOrEqual(4);
    expect(d.storedBytes).toBeLessThanOrEqual(4 * 40 + 4 * DEFAULT_DEDUP_DEPTH);
    // stamps quantised to 10 ms: steps repeat (short progressions), which still become spans
    const q = new ReleasedReadings(DEFAULT_DEDUP_DEPTH);
    const qts = Array.from({ length: 100_000 }, (_, k) => T0 + Math.round((k * 100 + (2 * rand() - 1) * 20) / 10) * 10);
    for (const ts of qts) q.push(ts, 1);
    for (const ts of qts.slice(-DEFAULT_DEDUP_DEPTH)) expect(q.has(ts, 1)).toBe(true);
    expect(q.runs).toBeLessThanOrEqual(4);
  });

  it('does not cover a hole after an isolated reading with a span', () => {
    const d = new ReleasedReadings(DEFAULT_DEDUP_DEPTH);
    d.push(T0, 1);
    for (let k = 0; k < 100; k++) d.push(T0 + 3_600_000 + k * 1000 + (k % 3) * 7, 1); // an hour later, jittered
    expect(d.has(T0 + 1_800_000, 1)).toBe(false);
    expect(d.has(T0 + 3_600_000 + 50_000 + 14, 1)).toBe(true); // k = 50
    expect(d.has(T0 + 3_600_000 + 50_500, 1)).toBe(false); // between two: late
  });

  it('keeps a regular channel exact past one odd reading: the odd one starts a new run', () => {
    const d = new ReleasedReadings(DEFAULT_DEDUP_DEPTH);
    for (let k = 0; k < 1_000; k++) d.push(T0 + k * 1000, 1);
    d.push(T0 + 999_400, 1); // a cycler's extra row between two samples
    for (let k = 1_000; k < 2_000; k++) d.push(T0 + k * 1000, 1);
    expect(d.has(T0 + 999_400, 1)).toBe(true);
    expect(d.has(T0 + 500_500, 1)).toBe(false); // between two samples of the first run: late
    expect(d.has(T0 + 1_500_500, 1)).toBe(false); // and of the one after the odd reading
    expect(d.has(T0 + 1_500_000, 1)).toBe(true);
  });

  it("recognises the simulator's readings sent again after release (the demo, and the fault runs of issue 11)", () => {
    const spec = defaultSimCellSpec('c');
    const a = new EventTimeAligner(S);
    const out: Reading[] = [];
    const all: Reading[] = [];
    for (const x of simulateCells([spec], { startTs: T0, seed: 3, cycles: 1 })) {
      all.push({ cell: 'c', channel: x.channel, ts: x.ts, value: x.value });
      if (all.length === 300_000) break;
    }
    offerAll(a, all, 0, out);
    a.flush(out);
    expect(out.length).toBe(all.length);
    // the latest dedupDepth readings of each channel, sent again: duplicates
    const later = new Map<Channel, number>();
    const again = all
      .slice()
      .reverse()
      .filter((x) => {
        const n = later.get(x.channel) ?? 0;
        later.set(x.channel, n + 1);
        return n < S.dedupDepth;
      })
      .reverse();
    expect(offerAll(a, again, 1, out)).toEqual(new Map([['duplicate', again.length]]));
    const bytes = a.snapshot().recent.map((x) => ('runs' in x ? x.runs.byteLength + x.range.byteLength + 2 * x.instants.ts.byteLength : Infinity));
    expect(Math.max(...bytes)).toBeLessThanOrEqual(1_000);
  });

  it('remembers at least dedupDepth readings of an irregular channel (event-triggered: steps from 10 ms to 10 s), in bounded memory', () => {
    const depth = 1_024;
    const d = new ReleasedReadings(depth);
    const rand = rng(11);
    const pairs: [number, number][] = [];
    let t = T0;
    for (let k = 0; k < 50_000; k++) {
      t += Math.round(10 * 1000 ** rand()); // log-uniform steps
      pairs.push([t, rand()]);
      d.push(t, pairs[k]![1]);
    }
    for (const [ts, v] of pairs.slice(-depth)) expect(d.has(ts, v)).toBe(true);
    expect(d.has(pairs[0]![0], pairs[0]![1])).toBe(false); // long forgotten: late, not a duplicate
    expect(d.runs).toBe(depth / 2 + 1);
    expect(d.storedBytes).toBe((depth / 2 + 1) * 40 + 4 * depth); // 24 KB with the spans' fingerprints
  });

  it('costs a few hundred bytes for a regular channel, a step-changing one included, and recognises a whole in-flight window again', () => {
    const a = new EventTimeAligner(S);
    const out: Reading[] = [];
    for (let k = 0; k < 10; k++) offerAll(a, regularCell(k * 100_000, 100_000), k, out);
    offerAll(a, regularCell(1_000_000, 10), 10, out);
    // Mosquitto's in-flight window (max_inflight_messages, 20) of the edge's largest batch (100,000
    // readings): 20 messages, 10 per channel, all sent again
    const window = regularCell(0, 1_000_000);
    expect(offerAll(a, window, 11, out)).toEqual(new Map([['duplicate', window.length]]));
    const pressure = new ReleasedReadings(DEFAULT_DEDUP_DEPTH);
    const current = new ReleasedReadings(DEFAULT_DEDUP_DEPTH);
    for (const x of out) (x.channel === 'pressure' ? pressure : current).push(x.ts, x.value);
    expect(out.length).toBeGreaterThan(2_000_000);
    expect(pressure.runs).toBe(1);
    expect(pressure.storedBytes).toBe(2 * 40 + 8 * 8); // the first allocation: two runs, and 8 fingerprints (a plain array: 8 bytes each)
    expect(current.runs).toBe(1);
    expect(current.storedBytes).toBe(2 * 40 + 8 * 8 + INSTANT_VALUES * 16); // plus the step changes' exact values: 400 bytes
    const recent = a.snapshot().recent.map((x) => ('runs' in x ? x.runs.byteLength + x.range.byteLength + x.instants.ts.byteLength * 2 : Infinity));
    expect(Math.max(...recent)).toBeLessThanOrEqual(2 * 32 + INSTANT_VALUES * 16); // as the aligner keeps them
  });

  it('property: every released reading is recognised, the state round-trips', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(0, 0, 1000, 1000, 1000, 2000, 1001, 7), fc.integer({ min: -3, max: 3 })), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 64 }),
        (steps, depth) => {
          const d = new ReleasedReadings(depth);
          const seen = new Map<number, Set<number>>();
          let t = T0;
          for (const [dt, v] of steps) {
            t += dt;
            d.push(t, v);
            let s = seen.get(t);
            if (s === undefined) seen.set(t, (s = new Set()));
            s.add(v);
          }
          const times = [...seen.keys()];
          // the newest `depth` readings are always remembered (as the former ring of `depth` pairs did), but
          // a further row at an instant only while it is among the latest INSTANT_VALUES such rows (then late)
          const pushed: { ts: number; v: number; row: number }[] = [];
          let u = T0;
          let rows = 0; // rows kept as instant values so far (the first further row of an instant adds two)
          for (const [dt, v] of steps) {
            u += dt;
            const prev = pushed.at(-1);
            const further = prev?.ts === u;
            if (prev !== undefined && further) rows += prev.row === -1 ? 2 : 1;
            pushed.push({ ts: u, v, row: further ? rows : -1 });
          }
          for (const p of pushed.slice(-depth)) if (p.row === -1 || rows - p.row < INSTANT_VALUES) expect(d.has(p.ts, p.v)).toBe(true);
          expect(d.has(t + 1000, 0)).toBe(false);
          expect(d.has(T0 - 1, 0)).toBe(false);
          const back = ReleasedReadings.fromState(depth, d.toState());
          expect(back.toState()).toEqual(d.toState());
          // fingerprints are not in the record: restored, a span's inside is late (never a duplicate the original would not call one)
          for (const ts of times) for (const v of [-3, 0, 3]) if (back.has(ts, v)) expect(d.has(ts, v)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('released readings in the aligner state', () => {
  it('round-trips through a checkpoint record (v8, schema) and restores the rings of earlier formats', () => {
    const cfg = parseConfig({ defaults: { activeMassG: 0.0179 } });
    const lab = new Lab((id) => resolveCell(cfg, id));
    const batch = regularCell(0, 5_000).map((x) => ({ ...x, cell: 'c1' }));
    const ev: LabEvent[] = [];
    lab.ingest('c1', batch, 0, ev);
    lab.ingest(
      'c1',
      regularCell(5_000, 10).map((x) => ({ ...x, cell: 'c1' })),
      1,
      ev,
    );
    const rec = lab.cellRecord('c1')!;
    const back = new Lab((id) => resolveCell(cfg, id));
    back.restoreRecord('c1', parseCellRecord('c1', deserialize(serialize(rec))));
    expect(back.cellRecord('c1')).toEqual(rec);
    for (const x of batch) expect(back.cell('c1').aligner.offer(x, 2)).toBe('duplicate');
    // format 3/4 records of the release before the runs: (ts, value) pairs per channel
    const pairs = rec.aligner.recent.map(() => ({ ts: [] as number[], value: [] as number[] }));
    for (const x of batch.slice(-1_000)) {
      const c = ['pressure', 'current', 'voltage', 'step'].indexOf(x.channel);
      pairs[c]!.ts.push(x.ts);
      pairs[c]!.value.push(x.value);
    }
    const old = new Lab((id) => resolveCell(cfg, id));
    old.restoreRecord('c1', parseCellRecord('c1', deserialize(serialize({ ...rec, aligner: { ...rec.aligner, recent: pairs } }))));
    for (const x of batch.slice(-1_000)) expect(old.cell('c1').aligner.offer(x, 2)).toBe('duplicate');
    expect(old.cell('c1').aligner.offer(batch[0]!, 2)).toBe('late');
  });

  it('revives a format-2 clone whose channels held rings of released pairs', () => {
    const a = new EventTimeAligner(S);
    const out: Reading[] = [];
    offerAll(a, regularCell(0, 100), 0, out);
    offerAll(a, regularCell(100, 10), 1, out);
    const clone = structuredClone(a) as unknown as Record<string, unknown>;
    const rings = [0, 1, 2, 3].map(() => new TimeRing(1_024));
    for (const x of out) rings[['pressure', 'current', 'voltage', 'step'].indexOf(x.channel)]!.push(x.ts, x.value);
    clone.recent = rings.map((ring) => ({ ring: structuredClone(ring) }));
    clone.buf = []; // format 2's buffer: an array of readings, released up to `head`
    clone.head = 0;
    const revived = EventTimeAligner.revive(deserialize(serialize(clone)) as object, S);
    for (const x of regularCell(0, 100)) expect(revived.offer(x, 2)).toBe('duplicate');
    expect(revived.offer(r('pressure', 50_500, 5), 2)).toBe('late');
  });
});
