/**
 * The latest messages the journal took, to recognise the broker's redelivery of one after a crash (its
 * PUBACK was held when the daemon died): a copy of each, its digest taken only when asked.
 */
import { createHash } from 'node:crypto';

/**
 * Digests of the latest journaled messages kept to recognise the broker's redelivery of one (its PUBACK
 * held when the daemon died): more than a broker keeps in flight to one client (Mosquitto: 20 by default).
 */
export const RECENT_DIGESTS = 1_024;
/** Digest of one message (topic and payload), to recognise a redelivery. */
export function messageDigest(topic: string, payload: Buffer): string {
  return createHash('sha1').update(topic).update('\0').update(payload).digest('base64');
}

/**
 * Room for one message's topic (UTF-8) and payload in {@link RecentMessages}' copy of the latest ones, bytes
 * (a 10-reading batch is ~400); a larger message is digested when it comes.
 */
export const RECENT_SLOT_BYTES = 1_024;

/**
 * The latest journaled messages (at most {@link RECENT_DIGESTS}, oldest overwritten), each with its digest
 * once asked: a digest is needed only for a message the broker marks as sent again (after a crash) and for
 * a checkpoint, so the hot path copies the message's bytes instead of hashing each (a SHA-1 per message
 * was 4 % of the daemon's CPU). A copy into one buffer allocated once, not a reference: the payload is a
 * view of the socket's read buffer and the topic a new string, and 1,024 of them kept alive outlast a
 * young-generation collection, are copied by it and promoted, with the read buffers they hold (measured in
 * the sweep at 1,000 cells: ~10 % of the daemon's CPU, README, Benchmark).
 */
export class RecentMessages {
  /** Slot k's bytes at k × RECENT_SLOT_BYTES: the topic, then the payload; allocated at the first message. */
  private arena: Buffer | undefined;
  /** Per slot, the topic's and the payload's byte lengths; −1: the slot holds a digest (or nothing). */
  private readonly topicBytes = new Int32Array(RECENT_DIGESTS).fill(-1);
  private readonly payloadBytes = new Int32Array(RECENT_DIGESTS);
  private readonly digests: (string | undefined)[] = [];
  /** Slot of the next entry. */
  private next = 0;
  private count = 0;

  /** A message whose digest is taken when asked (at once if it does not fit a slot). */
  add(topic: string, payload: Buffer): void {
    const i = this.put(undefined);
    // A UTF-16 unit is at most 3 bytes of UTF-8.
    if (topic.length * 3 + payload.length > RECENT_SLOT_BYTES) {
      this.digests[i] = messageDigest(topic, payload);
      return;
    }
    const arena = (this.arena ??= Buffer.allocUnsafe(RECENT_DIGESTS * RECENT_SLOT_BYTES));
    const at = i * RECENT_SLOT_BYTES;
    const t = arena.write(topic, at);
    payload.copy(arena, at + t);
    this.topicBytes[i] = t;
    this.payloadBytes[i] = payload.length;
  }

  /** A digest already taken (read back from a checkpoint or the journal). */
  addDigest(digest: string): void {
    this.put(digest);
  }

  /** Takes the next slot (the oldest entry's, once full) for `digest`; returns it. */
  private put(digest: string | undefined): number {
    const i = this.next;
    this.digests[i] = digest;
    this.topicBytes[i] = -1;
    this.next = i + 1 === RECENT_DIGESTS ? 0 : i + 1;
    if (this.count < RECENT_DIGESTS) this.count++;
    return i;
  }

  private digestAt(i: number): string {
    let d = this.digests[i];
    if (d === undefined) {
      const t = this.topicBytes[i] ?? -1;
      const arena = this.arena;
      // {@link messageDigest} of the slot's copy: the same bytes (update of a string hashes its UTF-8).
      if (t < 0 || arena === undefined) d = messageDigest('', Buffer.alloc(0));
      else {
        const at = i * RECENT_SLOT_BYTES;
        const end = at + t + (this.payloadBytes[i] ?? 0);
        d = createHash('sha1')
          .update(arena.subarray(at, at + t))
          .update('\0')
          .update(arena.subarray(at + t, end))
          .digest('base64');
      }
      this.digests[i] = d;
      this.topicBytes[i] = -1;
    }
    return d;
  }

  /** Whether one of the latest messages has this digest. */
  has(digest: string): boolean {
    for (let k = 0; k < this.count; k++) if (this.digestAt(k) === digest) return true;
    return false;
  }

  /** The digests, oldest first, each once. */
  list(): string[] {
    const out = new Set<string>();
    const first = this.count < RECENT_DIGESTS ? 0 : this.next;
    for (let k = 0; k < this.count; k++) out.add(this.digestAt((first + k) % RECENT_DIGESTS));
    return [...out];
  }

  clear(): void {
    this.digests.length = 0;
    this.topicBytes.fill(-1);
    this.next = this.count = 0;
  }
}
