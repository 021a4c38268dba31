/**
 * One cell's readings waiting for the watermark, in event-time order, held as numbers in a typed array
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
/**
 * `CHANNEL_CODE[channel]` by comparison: a lookup keyed by a varying name is a megamorphic load in V8, and a
 * reading meets five such lookups between a file and the core (perf: 3.5 % of `oep process`'s CPU).
 */
export function channelCode(channel: Channel): number {
  return channel === 'current' ? 1 : channel === 'voltage' ? 2 : channel === 'pressure' ? 0 : 3;
}
/** Tie rank by channel code: step, current, voltage, pressure. */
const TIE_RANK_BY_CODE = [3, 1, 2, 0];
const FIRST_SIZE = 16;
/** Numbers per reading in the buffer: time, value, cycle index (NaN: none), channel code. */
const STRIDE = 4;
const TS = 0;
const VALUE = 1;
const CYCLE = 2;
const CHANNEL = 3;
const EMPTY = new Float64Array(0);

/**
 * The readings sit side by side in one Float64Array ({@link STRIDE} numbers each): one allocation per growth
 * instead of four, and the fields an insert compares are in one cache line (with thousands of cells, a
 * cell's buffer is cold when its next message comes).
 */
export class ReadingBuffer {
  private d: Float64Array = EMPTY;
  /** First and one-past-last buffered reading, in readings (not numbers). */
  private head = 0;
  private end = 0;
  /** The cell of the readings (one buffer per cell). */
  private cell = '';

  get size(): number {
    return this.end - this.head;
  }

  /** Time of the k-th oldest reading (0 ≤ k < size). */
  tsAt(k: number): number {
    return this.d[(this.head + k) * STRIDE + TS] ?? NaN;
  }

  /** Time of the newest reading (−Infinity when empty). */
  get lastTs(): number {
    return this.end > this.head ? (this.d[(this.end - 1) * STRIDE + TS] ?? -Infinity) : -Infinity;
  }

  /** Stable insert in order; false if an exact duplicate (channel, time, value, cycle index) is buffered. */
  insert(r: Reading): boolean {
    const code = channelCode(r.channel);
    const rank = TIE_RANK_BY_CODE[code] ?? 0;
    const cyc = r.cycleIndex ?? NaN;
    const ts = r.ts;
    let d = this.d;
    const head = this.head;
    let i = this.end;
    // In-order arrival appends; otherwise walk back (disorder is bounded by the lateness).
    while (i > head) {
      const at = (i - 1) * STRIDE;
      const t = d[at + TS] ?? -Infinity;
      if (!(t > ts || (t === ts && (TIE_RANK_BY_CODE[d[at + CHANNEL] ?? 0] ?? 0) > rank))) break;
      i--;
    }
    for (let j = this.end - 1; j >= head; j--) {
      const at = j * STRIDE;
      const t = d[at + TS] ?? -Infinity;
      if (t < ts) break;
      if (t === ts && d[at + CHANNEL] === code && d[at + VALUE] === r.value && Object.is(d[at + CYCLE], cyc)) return false;
    }
    if (this.end * STRIDE === d.length) {
      i = this.makeRoom(i);
      d = this.d;
    }
    if (i < this.end) d.copyWithin((i + 1) * STRIDE, i * STRIDE, this.end * STRIDE);
    const at = i * STRIDE;
    d[at + TS] = ts;
    d[at + VALUE] = r.value;
    d[at + CYCLE] = cyc;
    d[at + CHANNEL] = code;
    this.end++;
    this.cell = r.cell;
    return true;
  }

  /** Full: moves the buffered readings to the front, or grows; returns where index `i` is now. */
  private makeRoom(i: number): number {
    const n = this.end - this.head;
    const cap = this.d.length / STRIDE;
    const from = this.head * STRIDE;
    const to = this.end * STRIDE;
    if (n * 2 > cap || cap === 0) {
      const grown = new Float64Array(Math.max(FIRST_SIZE, cap * 2) * STRIDE);
      grown.set(this.d.subarray(from, to));
      this.d = grown;
    } else {
      this.d.copyWithin(0, from, to);
    }
    const moved = i - this.head;
    this.head = 0;
    this.end = n;
    return moved;
  }

  /** Moves the readings at or before `w` to `out` (oldest first), as new Reading objects. */
  shiftThrough(w: number, out: Reading[]): void {
    let h = this.head;
    while (h < this.end && (this.d[h * STRIDE + TS] ?? Infinity) <= w) {
      out.push(this.reading(h));
      h++;
    }
    if (h === this.end) h = this.end = 0;
    this.head = h;
  }

  private reading(i: number): Reading {
    const at = i * STRIDE;
    const d = this.d;
    const channel = CHANNELS[d[at + CHANNEL] ?? 0] ?? 'pressure';
    const ts = d[at + TS] ?? NaN;
    const value = d[at + VALUE] ?? NaN;
    const cyc = d[at + CYCLE] ?? NaN;
    return Number.isNaN(cyc) ? { cell: this.cell, channel, ts, value } : { cell: this.cell, channel, ts, value, cycleIndex: cyc };
  }

  /** The buffered readings, oldest first (copies). */
  toReadings(): Reading[] {
    const out: Reading[] = [];
    for (let i = this.head; i < this.end; i++) out.push(this.reading(i));
    return out;
  }
}
