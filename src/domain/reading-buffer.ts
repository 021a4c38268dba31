/**
 * One cell's readings waiting for the watermark, in event-time order, held as columns of typed arrays
 * rather than as the Reading objects that came in: those die young (at the next scavenge) instead of
 * waiting here, with the readings of every other cell published in between, until the old space has to
 * collect them. With many cells a reading waits for as many messages as there are cells; objects kept
 * that long were 19 % of the daemon's CPU in garbage collection. Released readings are made anew (the
 * core reads them and lets them go).
 *
 * Order: by time; at equal times by the channel's tie rank (see align.ts), then arrival order.
 */
import type { Channel, Reading } from './types.js';

const CHANNELS: readonly Channel[] = ['pressure', 'current', 'voltage', 'step'];
/** Index of each channel in {@link CHANNELS}. */
export const CHANNEL_CODE: Readonly<Record<Channel, number>> = { pressure: 0, current: 1, voltage: 2, step: 3 };
/** Tie rank by channel code: step, current, voltage, pressure. */
const TIE_RANK_BY_CODE = [3, 1, 2, 0];
const FIRST_SIZE = 16;
const EMPTY_F64 = new Float64Array(0);
const EMPTY_U8 = new Uint8Array(0);

export class ReadingBuffer {
  private ts: Float64Array = EMPTY_F64;
  private value: Float64Array = EMPTY_F64;
  /** The cycler's cycle index of a `step` reading; NaN: none. */
  private cycle: Float64Array = EMPTY_F64;
  private channel: Uint8Array = EMPTY_U8;
  private head = 0;
  private end = 0;
  /** The cell of the readings (one buffer per cell). */
  private cell = '';

  get size(): number {
    return this.end - this.head;
  }

  /** Time of the k-th oldest reading (0 ≤ k < size). */
  tsAt(k: number): number {
    return this.ts[this.head + k] ?? NaN;
  }

  /** Time of the newest reading (−Infinity when empty). */
  get lastTs(): number {
    return this.end > this.head ? (this.ts[this.end - 1] ?? -Infinity) : -Infinity;
  }

  /** Stable insert in order; false if an exact duplicate (channel, time, value, cycle index) is buffered. */
  insert(r: Reading): boolean {
    const code = CHANNEL_CODE[r.channel];
    const rank = TIE_RANK_BY_CODE[code] ?? 0;
    const cyc = r.cycleIndex ?? NaN;
    const ts = this.ts;
    const head = this.head;
    let i = this.end;
    // In-order arrival appends; otherwise walk back (disorder is bounded by the lateness).
    while (i > head) {
      const t = ts[i - 1] ?? -Infinity;
      if (!(t > r.ts || (t === r.ts && (TIE_RANK_BY_CODE[this.channel[i - 1] ?? 0] ?? 0) > rank))) break;
      i--;
    }
    for (let j = this.end - 1; j >= head; j--) {
      const t = ts[j] ?? -Infinity;
      if (t < r.ts) break;
      if (t === r.ts && this.channel[j] === code && this.value[j] === r.value && Object.is(this.cycle[j], cyc)) return false;
    }
    if (this.end === this.ts.length) i = this.makeRoom(i);
    if (i < this.end) {
      this.ts.copyWithin(i + 1, i, this.end);
      this.value.copyWithin(i + 1, i, this.end);
      this.cycle.copyWithin(i + 1, i, this.end);
      this.channel.copyWithin(i + 1, i, this.end);
    }
    this.ts[i] = r.ts;
    this.value[i] = r.value;
    this.cycle[i] = cyc;
    this.channel[i] = code;
    this.end++;
    this.cell = r.cell;
    return true;
  }

  /** Full: moves the buffered readings to the front, or grows; returns where index `i` is now. */
  private makeRoom(i: number): number {
    const n = this.end - this.head;
    const cap = this.ts.length;
    if (n * 2 > cap || cap === 0) {
      const size = Math.max(FIRST_SIZE, cap * 2);
      this.ts = grown(this.ts, size, this.head, this.end);
      this.value = grown(this.value, size, this.head, this.end);
      this.cycle = grown(this.cycle, size, this.head, this.end);
      const ch = new Uint8Array(size);
      ch.set(this.channel.subarray(this.head, this.end));
      this.channel = ch;
    } else {
      this.ts.copyWithin(0, this.head, this.end);
      this.value.copyWithin(0, this.head, this.end);
      this.cycle.copyWithin(0, this.head, this.end);
      this.channel.copyWithin(0, this.head, this.end);
    }
    const moved = i - this.head;
    this.head = 0;
    this.end = n;
    return moved;
  }

  /** Moves the readings at or before `w` to `out` (oldest first), as new Reading objects. */
  shiftThrough(w: number, out: Reading[]): void {
    let h = this.head;
    while (h < this.end && (this.ts[h] ?? Infinity) <= w) {
      out.push(this.reading(h));
      h++;
    }
    if (h === this.end) h = this.end = 0;
    this.head = h;
  }

  private reading(i: number): Reading {
    const channel = CHANNELS[this.channel[i] ?? 0] ?? 'pressure';
    const ts = this.ts[i] ?? NaN;
    const value = this.value[i] ?? NaN;
    const cyc = this.cycle[i] ?? NaN;
    return Number.isNaN(cyc) ? { cell: this.cell, channel, ts, value } : { cell: this.cell, channel, ts, value, cycleIndex: cyc };
  }

  /** The buffered readings, oldest first (copies). */
  toReadings(): Reading[] {
    const out: Reading[] = [];
    for (let i = this.head; i < this.end; i++) out.push(this.reading(i));
    return out;
  }
}

function grown(a: Float64Array, size: number, from: number, to: number): Float64Array {
  const b = new Float64Array(size);
  b.set(a.subarray(from, to));
  return b;
}
