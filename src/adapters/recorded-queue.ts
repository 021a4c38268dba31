/**
 * The merge of one recorded file's readings: what `TimeMerge` gives for a single source, without its
 * lanes while the file runs forward in time.
 *
 * One file pushes its readings in row order, each row's channels in rank order, so while its timestamps
 * never go back the push order already is the event-time order, except among readings of equal timestamp
 * (several rows at one instant), which `TimeMerge` orders by lane (channel rank), first in first out within
 * a lane. This queue keeps the readings in push order and sorts only such runs. The first reading that goes
 * back in time hands everything queued over to a real `TimeMerge` (lane by lane, in push order, so its
 * state is the one it would have had all along), which then does the rest.
 */
import { TimeMerge } from '../domain/merge.js';

/** What both merges do: `push` into a lane, `drain` everything earlier than a horizon, in (ts, lane) order. */
export interface LaneMerge<T extends { readonly ts: number }> {
  push(lane: number, item: T): void;
  drain(horizon: number, out: T[]): void;
}

/** Queued readings past which the drained head is cut off the arrays. */
const COMPACT_AFTER = 4096;

export class OneSourceMerge<T extends { readonly ts: number }> implements LaneMerge<T> {
  private items: T[] = [];
  private laneOf: number[] = [];
  private head = 0;
  private lastTs = -Infinity;
  private merge: TimeMerge<T> | undefined = undefined;

  constructor(readonly lanes: number) {}

  push(lane: number, item: T): void {
    // Back in time (or not a time at all): the real merge takes over.
    if (this.merge === undefined && !(item.ts >= this.lastTs)) this.handOver();
    if (this.merge !== undefined) {
      this.merge.push(lane, item);
      return;
    }
    if (!(lane >= 0 && lane < this.lanes)) throw new RangeError(`OneSourceMerge: lane ${String(lane)} of ${String(this.lanes)}`);
    this.items.push(item);
    this.laneOf.push(lane);
    this.lastTs = item.ts;
  }

  drain(horizon: number, out: T[]): void {
    if (this.merge !== undefined) {
      this.merge.drain(horizon, out);
      return;
    }
    const { items, laneOf } = this;
    let i = this.head;
    while (i < items.length) {
      const first = items[i];
      if (first === undefined || !(first.ts < horizon)) break;
      // A run of equal timestamps, in lane order when its lanes are not already ascending.
      let end = i + 1;
      let sorted = true;
      while (end < items.length && items[end]?.ts === first.ts) {
        if ((laneOf[end] ?? 0) < (laneOf[end - 1] ?? 0)) sorted = false;
        end++;
      }
      if (sorted) for (let k = i; k < end; k++) out.push(items[k] ?? first);
      else this.byLane(i, end, out);
      i = end;
    }
    this.head = i;
    if (i === items.length) {
      if (i > 0) this.reset();
    } else if (i > COMPACT_AFTER) {
      this.items = items.slice(i);
      this.laneOf = laneOf.slice(i);
      this.head = 0;
    }
  }

  /** items[from, to) (one timestamp) to `out` by lane, in push order within a lane. */
  private byLane(from: number, to: number, out: T[]): void {
    for (let lane = 0; lane < this.lanes; lane++)
      for (let k = from; k < to; k++) {
        const item = this.items[k];
        if (item !== undefined && this.laneOf[k] === lane) out.push(item);
      }
  }

  private reset(): void {
    this.items = [];
    this.laneOf = [];
    this.head = 0;
  }

  /** The file went back in time: what is queued goes to a real merge, which takes over. */
  private handOver(): void {
    const merge = new TimeMerge<T>(this.lanes);
    for (let k = this.head; k < this.items.length; k++) {
      const item = this.items[k];
      if (item !== undefined) merge.push(this.laneOf[k] ?? 0, item);
    }
    this.reset();
    this.merge = merge;
  }
}
