/**
 * Merges time-sorted lanes (one per source and channel) into one event-time sequence. Ties are broken by
 * lane index, so the caller decides the order at equal timestamps (`CHANNEL_RANK` first, then source).
 * Items stay queued until the caller knows no source can still produce an earlier one (the horizon: the
 * smallest newest-timestamp over the sources that have not ended).
 */
export class TimeMerge<T extends { readonly ts: number }> {
  private readonly items: T[][];
  private readonly heads: number[];
  private queued = 0;

  constructor(readonly lanes: number) {
    this.items = Array.from({ length: lanes }, () => []);
    this.heads = new Array<number>(lanes).fill(0);
  }

  push(lane: number, item: T): void {
    this.items[lane]!.push(item);
    this.queued++;
  }

  get size(): number {
    return this.queued;
  }

  /** Appends every queued item with ts < horizon (all of them for Infinity) to `out`, in (ts, lane) order. */
  drain(horizon: number, out: T[]): void {
    const items = this.items;
    const heads = this.heads;
    const n = this.lanes;
    for (;;) {
      let best = -1;
      let bt = Infinity;
      for (let k = 0; k < n; k++) {
        const q = items[k]!;
        const h = heads[k]!;
        if (h < q.length) {
          const t = q[h]!.ts;
          if (t < bt || best < 0) {
            bt = t;
            best = k;
          }
        }
      }
      if (best < 0 || !(bt < horizon)) break;
      out.push(items[best]![heads[best]!]!);
      heads[best]!++;
      this.queued--;
    }
    for (let k = 0; k < n; k++) {
      const h = heads[k]!;
      const q = items[k]!;
      if (h === q.length) {
        if (h > 0) {
          items[k] = [];
          heads[k] = 0;
        }
      } else if (h > 4096) {
        items[k] = q.slice(h);
        heads[k] = 0;
      }
    }
  }
}
