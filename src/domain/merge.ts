/**
 * Merges time-sorted lanes (one per source and channel) into one event-time sequence. Ties are broken by
 * lane index, so the caller decides the order at equal timestamps (`CHANNEL_RANK` first, then source).
 * Items stay queued until the caller knows no source can still produce an earlier one (the horizon: the
 * smallest newest-timestamp over the sources that have not ended).
 */
/** One lane: its queued items and how many of them have been drained. */
interface Lane<T> {
  items: T[];
  head: number;
}

export class TimeMerge<T extends { readonly ts: number }> {
  private readonly queues: Lane<T>[];
  private queued = 0;

  constructor(readonly lanes: number) {
    this.queues = Array.from({ length: lanes }, () => ({ items: [], head: 0 }));
  }

  push(lane: number, item: T): void {
    const q = this.queues[lane];
    if (q === undefined) throw new RangeError(`TimeMerge: lane ${String(lane)} of ${String(this.lanes)}`);
    q.items.push(item);
    this.queued++;
  }

  get size(): number {
    return this.queued;
  }

  /** Appends every queued item with ts < horizon (all of them for Infinity) to `out`, in (ts, lane) order. */
  drain(horizon: number, out: T[]): void {
    const queues = this.queues;
    for (;;) {
      let best: Lane<T> | undefined;
      let bestItem: T | undefined;
      for (const q of queues) {
        const item = q.items[q.head];
        // Strictly earlier wins: at equal timestamps the lower lane (met first) keeps its place.
        if (item !== undefined && (bestItem === undefined || item.ts < bestItem.ts)) {
          best = q;
          bestItem = item;
        }
      }
      if (best === undefined || bestItem === undefined || !(bestItem.ts < horizon)) break;
      out.push(bestItem);
      best.head++;
      this.queued--;
    }
    for (const q of queues) {
      if (q.head === q.items.length) {
        if (q.head > 0) {
          q.items = [];
          q.head = 0;
        }
      } else if (q.head > 4096) {
        q.items = q.items.slice(q.head);
        q.head = 0;
      }
    }
  }
}
