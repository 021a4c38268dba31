import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventTimeAligner, type AlignerSettings } from '../../src/domain/align.js';
import { CHANNELS, type Channel, type Reading } from '../../src/domain/types.js';
import { CHANNEL_CODE, channelCode } from '../../src/domain/reading-buffer.js';
import { CHANNEL_RANK, channelRank } from '../../src/readers/readings.js';

const S: AlignerSettings = { lateness_ms: 2_000, idleTimeout_ms: 30_000, dedupDepth: 1_024, maxBuffered: 100_000 };
const T0 = Date.UTC(2026, 5, 1);
const r = (channel: Channel, ts: number, value: number): Reading => ({ cell: 'c', channel, ts: T0 + ts, value });

function run(a: EventTimeAligner, readings: Reading[]): { out: Reading[]; outcomes: string[] } {
  const out: Reading[] = [];
  const outcomes = readings.map((x) => a.push(x, 0, out));
  return { out, outcomes };
}

describe('EventTimeAligner', () => {
  it('releases in event-time order once both channels have passed the lateness bound', () => {
    const a = new EventTimeAligner(S);
    const { out } = run(a, [r('pressure', 0, 1), r('current', 500, 2), r('pressure', 100, 3), r('pressure', 3000, 4), r('current', 3000, 5)]);
    expect(out.map((x) => x.value)).toEqual([1, 3, 2]);
    a.flush(out);
    expect(out.map((x) => x.ts - T0)).toEqual([0, 100, 500, 3000, 3000]);
  });

  it('drops exact duplicates (buffered or already released) and counts late readings', () => {
    const a = new EventTimeAligner(S);
    const { outcomes } = run(a, [
      r('pressure', 0, 1),
      r('current', 0, 1),
      r('pressure', 0, 1), // duplicate while buffered
      r('pressure', 10_000, 2),
      r('current', 10_000, 2),
      r('pressure', 0, 1), // duplicate of a released reading
      r('pressure', 1_000, 9), // behind the watermark: late
    ]);
    expect(outcomes).toEqual(['accepted', 'accepted', 'duplicate', 'accepted', 'accepted', 'duplicate', 'late']);
  });

  it('keeps equal timestamps with different values, in arrival order (a cycler step change)', () => {
    const a = new EventTimeAligner(S);
    const out: Reading[] = [];
    a.push(r('current', 1000, -0.25), 0, out);
    a.push(r('current', 1000, 0), 0, out);
    a.flush(out);
    expect(out.map((x) => x.value)).toEqual([-0.25, 0]);
  });

  it('does not let a silent channel stall the cell (processing-time idle timeout)', () => {
    const a = new EventTimeAligner(S);
    const out: Reading[] = [];
    a.push(r('current', 0, 1), 0, out);
    // pressure keeps arriving, one reading per wall second; current went silent at wall time 0
    for (let t = 0; t <= 60_000; t += 1000) a.push(r('pressure', t, t), t, out);
    expect(a.watermark).toBe(T0 + 58_000);
    expect(out.length).toBe(60);
  });

  it('is not fooled by a batch publisher: a channel behind in event time but arriving is not idle', () => {
    const a = new EventTimeAligner(S);
    const out: Reading[] = [];
    // current arrives in 60 s batches, pressure one by one; both arrive every wall second
    for (let t = 0; t < 600_000; t += 1000) {
      if (t % 60_000 === 0) for (let k = 0; k < 60; k++) a.push(r('current', t + k * 1000, k), t, out);
      a.push(r('pressure', t, t), t, out);
    }
    expect(a.push(r('pressure', 598_000, 1), 600_000, out)).toBe('accepted');
  });

  it('after the whole cell was silent, the first channel back waits for the others (none of them late)', () => {
    const a = new EventTimeAligner(S);
    const out: Reading[] = [];
    for (let t = 0; t <= 10_000; t += 1000) for (const ch of ['voltage', 'current', 'pressure'] as const) a.push(r(ch, t, t), t, out);
    // the publisher pauses for longer than the idle timeout: everything buffered is released
    a.tick(60_000, out);
    expect(a.buffered).toBe(0);
    // it comes back and sends a batch per channel, voltage first, 100 ms of wall time apart
    const outcomes: string[] = [];
    for (const [k, ch] of (['voltage', 'current', 'pressure'] as const).entries())
      for (let t = 11_000; t <= 20_000; t += 1000) outcomes.push(a.push(r(ch, t, t), 70_000 + k * 100, out));
    expect(outcomes.every((o) => o === 'accepted')).toBe(true);
    a.flush(out);
    const times = out.map((x) => x.ts);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(out.filter((x) => x.channel === 'current')).toHaveLength(21);
  });

  it('releases everything when every channel has been silent for the idle timeout', () => {
    const a = new EventTimeAligner(S);
    const out: Reading[] = [];
    a.push(r('pressure', 0, 1), 1_000, out);
    a.push(r('current', 0, 1), 1_000, out);
    a.tick(20_000, out);
    expect(out).toHaveLength(0);
    a.tick(31_000, out);
    expect(out).toHaveLength(2);
  });

  it('stays bounded: beyond maxBuffered the oldest readings are released early and counted', () => {
    const a = new EventTimeAligner({ ...S, maxBuffered: 100, lateness_ms: 1e12 });
    const out: Reading[] = [];
    for (let t = 0; t < 1000; t++) a.push(r('pressure', t, t), 0, out);
    expect(a.buffered).toBeLessThanOrEqual(100);
    expect(a.forcedReleases).toBe(900);
    expect(out.map((x) => x.value)).toEqual([...Array(900).keys()]);
  });

  it('property: any arrival order within the lateness bound gives the same output as in-order arrival', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom<Channel>('pressure', 'current'), fc.integer({ min: 0, max: 1_000 })), { minLength: 1, maxLength: 200 }),
        fc.array(fc.integer({ min: 0, max: 1_500 }), { minLength: 200, maxLength: 200 }),
        (steps, delays) => {
          // Event times increase by the drawn step per channel; arrival time = event time + delay ≤ 1.5 s < lateness.
          const clock: Record<string, number> = { pressure: 0, current: 0 };
          const readings = steps.map(([ch, dt], k) => {
            clock[ch]! += dt + 1;
            return r(ch, clock[ch]!, k);
          });
          const inOrder = [...readings].sort((x, y) => x.ts - y.ts || x.value - y.value);
          const arrival = readings.map((x, k) => ({ x, at: x.ts + delays[k]! })).sort((p, q) => p.at - q.at || p.x.value - q.x.value);
          const a1 = new EventTimeAligner(S);
          const o1: Reading[] = [];
          for (const x of inOrder) a1.push(x, 0, o1);
          a1.flush(o1);
          const a2 = new EventTimeAligner(S);
          const o2: Reading[] = [];
          const outcomes = arrival.map(({ x }) => a2.push(x, 0, o2));
          a2.flush(o2);
          expect(outcomes.every((o) => o === 'accepted')).toBe(true);
          const key = (x: Reading): string => `${x.ts}/${x.channel}/${x.value}`;
          // Same multiset in the same event-time order (ties between channels at equal ts may swap).
          expect(o2.map((x) => x.ts)).toEqual(o1.map((x) => x.ts));
          expect(o2.map(key).sort()).toEqual(o1.map(key).sort());
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('EventTimeAligner at a cell start', () => {
  it('waits for both pressure and current before the watermark moves, so the slower device is not late', () => {
    const a = new EventTimeAligner(S);
    const out: Reading[] = [];
    for (let t = 0; t < 60_000; t += 100) a.push(r('pressure', t, t), 0, out);
    expect(out).toHaveLength(0);
    expect(a.push(r('current', 0, 1), 500, out)).toBe('accepted');
    expect(a.push(r('current', 10_000, 1), 500, out)).toBe('accepted');
    expect(out.map((x) => x.ts - T0)[0]).toBe(0);
    expect(out[out.length - 1]!.ts - T0).toBe(8_000);
  });

  it('stops waiting for a channel that never shows up after the idle timeout', () => {
    const a = new EventTimeAligner(S);
    const out: Reading[] = [];
    a.push(r('pressure', 0, 1), 0, out);
    a.push(r('pressure', 10_000, 2), 10_000, out);
    expect(out).toHaveLength(0);
    a.push(r('pressure', 30_000, 3), 30_000, out);
    expect(out.map((x) => x.value)).toEqual([1, 2]);
  });

  it('keeps no record of what a channel released until it releases something; its snapshot is the empty record, and a restore keeps it so', () => {
    const a = new EventTimeAligner(S);
    const { out } = run(a, [r('pressure', 0, 1), r('current', 0, 2), r('pressure', 5_000, 3), r('current', 5_000, 4)]);
    expect(out.length).toBeGreaterThan(0);
    const recent = Reflect.get(a, 'recent') as unknown[]; // eslint-disable-line @typescript-eslint/consistent-type-assertions -- the private field under test
    expect(recent.map((x) => x !== undefined)).toEqual([true, true, false, false]);
    const snap = a.snapshot();
    const empty = new EventTimeAligner(S).snapshot().recent[2];
    expect(snap.recent[2]).toEqual(empty);
    expect(snap.recent[3]).toEqual(empty);
    const back = EventTimeAligner.restore(S, snap);
    expect((Reflect.get(back, 'recent') as unknown[]).map((x) => x !== undefined)).toEqual([true, true, false, false]); // eslint-disable-line @typescript-eslint/consistent-type-assertions -- as above
    expect(back.snapshot()).toEqual(snap);
    // a duplicate of a released reading is still recognised after the restore; a reading at a released instant of an unused channel is late
    expect(back.push(r('pressure', 0, 1), 0, [])).toBe('duplicate');
    expect(back.push(r('voltage', 0, 3.7), 0, [])).toBe('late');
  });
});

describe('channel codes by comparison', () => {
  it('channelCode and channelRank give what the tables CHANNEL_CODE and CHANNEL_RANK hold, for every channel', () => {
    for (const ch of CHANNELS) {
      expect(channelCode(ch)).toBe(CHANNEL_CODE[ch]);
      expect(channelRank(ch)).toBe(CHANNEL_RANK[ch]);
    }
  });
});
