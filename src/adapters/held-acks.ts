/**
 * PUBACKs held until the journal is durable up to their message: kept in the order of their sequence
 * numbers (which only grow), released in that order. Two arrays, not an object per message (the daemon
 * holds one per message received since the latest sync: thousands a second).
 */
export class HeldAcks {
  private seqs: number[] = [];
  private releases: ((() => void) | undefined)[] = [];
  /** The first still held. */
  private head = 0;

  /** How many are held. */
  get size(): number {
    return this.seqs.length - this.head;
  }

  /** Holds `release` until {@link releaseThrough} reaches `seq` (no lower than the latest one held). */
  hold(seq: number, release: () => void): void {
    this.seqs.push(seq);
    this.releases.push(release);
  }

  /** Calls, in order, every release held for a sequence number up to `seq`. */
  releaseThrough(seq: number): void {
    const seqs = this.seqs;
    const releases = this.releases;
    while (this.head < seqs.length && (seqs[this.head] ?? Infinity) <= seq) {
      const release = releases[this.head];
      releases[this.head++] = undefined;
      release?.();
    }
    if (this.head === seqs.length) {
      seqs.length = releases.length = this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > seqs.length) {
      seqs.splice(0, this.head);
      releases.splice(0, this.head);
      this.head = 0;
    }
  }
}
