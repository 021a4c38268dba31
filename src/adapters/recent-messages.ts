/**
 * The latest messages the journal took, to recognise the broker's redelivery of one after a crash (its
 * PUBACK was held when the daemon died): a reference to each, its digest taken only when asked.
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
 * The latest journaled messages (at most {@link RECENT_DIGESTS}, oldest overwritten), each with its digest
 * once asked: a digest is needed only for a message the broker marks as sent again (after a crash) and for
 * a checkpoint, so the hot path keeps a reference to the message instead of hashing each (a SHA-1 per
 * message was 4 % of the daemon's CPU).
 */
export class RecentMessages {
  private readonly topics: (string | undefined)[] = [];
  private readonly payloads: (Buffer | undefined)[] = [];
  private readonly digests: (string | undefined)[] = [];
  /** Slot of the next entry. */
  private next = 0;
  private count = 0;

  /** A message whose digest is taken when asked. */
  add(topic: string, payload: Buffer): void {
    this.put(topic, payload, undefined);
  }

  /** A digest already taken (read back from a checkpoint or the journal). */
  addDigest(digest: string): void {
    this.put(undefined, undefined, digest);
  }

  private put(topic: string | undefined, payload: Buffer | undefined, digest: string | undefined): void {
    const i = this.next;
    this.topics[i] = topic;
    this.payloads[i] = payload;
    this.digests[i] = digest;
    this.next = i + 1 === RECENT_DIGESTS ? 0 : i + 1;
    if (this.count < RECENT_DIGESTS) this.count++;
  }

  private digestAt(i: number): string {
    let d = this.digests[i];
    if (d === undefined) {
      d = messageDigest(this.topics[i] ?? '', this.payloads[i] ?? Buffer.alloc(0));
      this.digests[i] = d;
      this.topics[i] = undefined;
      this.payloads[i] = undefined;
    }
    return d;
  }

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
    this.topics.length = this.payloads.length = this.digests.length = 0;
    this.next = this.count = 0;
  }
}
