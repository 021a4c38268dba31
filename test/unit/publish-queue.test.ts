/**
 * The publish queue's order and bookkeeping over many chunks: events of random sizes (some past the 64 KB
 * chunk), statuses of random cells, acknowledgements in random order, a client that fails at once. Every
 * event leaves once, in order, byte for byte; a cell's status leaves at its first place with its latest
 * payload; the counts add up. (The queue with real Mosquitto: test/integration/publish-queue.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { PublishQueue } from '../../src/adapters/publish-queue.js';
import { Prng } from '../../src/sim/prng.js';

interface Out {
  topic: string;
  payload: string;
  retain: boolean;
}

function text(rand: () => number, n: number): string {
  const alphabet = 'abcσ≥xyz{}":, 0123456789';
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)] ?? 'a';
  return s;
}

describe('PublishQueue', () => {
  it('sends events in order and byte for byte, one status per cell at its first place, over many chunks', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const prng = new Prng(seed);
      const rand = (): number => prng.uniform();
      const sent: Out[] = [];
      const pending: ((e?: Error | null) => void)[] = [];
      // The order the queue must keep: events as queued; a status at the place it was first queued (while it waited).
      const expected: Out[] = [];
      const waiting = new Map<string, Out>();
      const q = new PublishQueue(
        (topic, payload, retain, done) => {
          sent.push({ topic, payload: payload.toString('utf8'), retain });
          if (retain) waiting.delete(topic);
          pending.push(done);
        },
        { maxInflight: 1 + Math.floor(rand() * 20) },
      );
      let superseded = 0;
      for (let k = 0; k < 3_000; k++) {
        const r = rand();
        if (r < 0.6) {
          const big = rand() < 0.01;
          const o = { topic: `oep/c${String(k % 37)}/alerts`, payload: text(rand, big ? 70_000 : 1 + Math.floor(rand() * 900)), retain: false };
          q.event(o.topic, o.payload);
          expected.push(o);
        } else if (r < 0.9) {
          const topic = `oep/c${String(Math.floor(rand() * 25))}/status`;
          const payload = text(rand, 1 + Math.floor(rand() * 600));
          const w = waiting.get(topic);
          if (w !== undefined) {
            w.payload = payload;
            superseded++;
          } else {
            const o = { topic, payload, retain: true };
            expected.push(o);
            waiting.set(topic, o);
          }
          q.latest(topic, payload);
        } else {
          // some acknowledgements, in any order
          for (let n = Math.floor(rand() * 10); n > 0 && pending.length > 0; n--) {
            const [done] = pending.splice(Math.floor(rand() * pending.length), 1);
            done?.(rand() < 0.05 ? new Error('refused') : undefined);
          }
        }
      }
      q.release();
      expect(sent.length).toBe(expected.length);
      expect(sent).toEqual(expected);
      expect(q.counts).toMatchObject({ accepted: expected.length + superseded, superseded, queued: 0, queuedBytes: 0, dropped: 0 });
      for (const done of pending.splice(0)) done();
      expect(q.counts.inflight).toBe(0);
      expect(q.counts.acked + q.counts.failed).toBe(expected.length);
    }
  });

  it('goes on when the client fails every message at once (a stopped adapter)', () => {
    let calls = 0;
    const q = new PublishQueue(
      (_topic, _payload, _retain, done) => {
        calls++;
        done(new Error('stopped'));
      },
      { maxInflight: 2 },
    );
    for (let k = 0; k < 100; k++) q.event('oep/x/alerts', `{"k":${String(k)}}`);
    q.latest('oep/x/status', '{}');
    expect(calls).toBe(101);
    expect(q.counts).toMatchObject({ accepted: 101, failed: 101, inflight: 0, queued: 0 });
  });
});
