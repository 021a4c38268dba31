/**
 * The journal's memory of the latest messages (src/adapters/recent-messages.ts): each message's digest, taken
 * when asked from the copy of its bytes (or at once for a message larger than a slot), is the digest of the
 * message itself, through wrap-around, for any topic (UTF-8 of several bytes) and payload.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageDigest, RECENT_DIGESTS, RECENT_SLOT_BYTES, RecentMessages } from '../../src/adapters/recent-messages.js';

describe('recent messages', () => {
  it('knows the digest of each of the latest messages, whatever their size and topic, and forgets the older ones', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.uint8Array({ maxLength: 2 * RECENT_SLOT_BYTES })), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.integer({ min: 0, max: 2 * RECENT_DIGESTS }),
        (messages, before) => {
          const r = new RecentMessages();
          // Older traffic first (filler, wrapped around any number of times), then the messages under test.
          for (let k = 0; k < before; k++) r.add(`oep/f${k}/pressure`, Buffer.from(`[${k}]`));
          // The payload as MQTT.js hands it: a view into a larger buffer that is reused afterwards.
          const socket = Buffer.alloc(3 * RECENT_SLOT_BYTES);
          const digests = messages.map(([topic, bytes]) => {
            const payload = socket.subarray(7, 7 + bytes.length);
            payload.set(bytes);
            r.add(topic, payload);
            const d = messageDigest(topic, Buffer.from(bytes));
            socket.fill(0xff);
            return d;
          });
          for (const d of digests) expect(r.has(d)).toBe(true);
          expect(r.list().slice(-new Set(digests).size)).toEqual([...new Set(digests)]);
          expect(r.has(messageDigest('oep/none/pressure', Buffer.from('[]')))).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps the latest RECENT_DIGESTS, digests read back included, and nothing after clear', () => {
    const r = new RecentMessages();
    r.addDigest('from-a-checkpoint');
    for (let k = 0; k < RECENT_DIGESTS - 1; k++) r.add('oep/c/pressure', Buffer.from(String(k)));
    expect(r.has('from-a-checkpoint')).toBe(true);
    expect(r.has(messageDigest('oep/c/pressure', Buffer.from('0')))).toBe(true);
    r.add('oep/c/pressure', Buffer.from('last'));
    expect(r.has('from-a-checkpoint')).toBe(false);
    expect(r.list()).toHaveLength(RECENT_DIGESTS);
    expect(r.list().at(-1)).toBe(messageDigest('oep/c/pressure', Buffer.from('last')));
    r.clear();
    expect(r.list()).toEqual([]);
    expect(r.has(messageDigest('oep/c/pressure', Buffer.from('last')))).toBe(false);
  });
});
