/**
 * One cell's readings waiting for the watermark, in event-time order, held as numbers in a typed array
 * rather than as the Reading objects that came in: those die young (at the next scavenge) instead of
 * waiting here, with the readings of every other cell published in between, until the old space has to
 * collect them. With many cells a reading waits for as many messages as there are cells; objects kept
 * that long were 19 % of the daemon's CPU in garbage collection. Released readings leave as numbers too
 * ({@link ReleasedReadingColumns}), which the lab hands to the core; a Reading is made only when asked.
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
/** Numbers an insert moves in a loop of its own rather than by copyWithin (32 readings). */
const SHORT_MOVE = 32 * STRIDE;
/** Where {@link ReadingBuffer.insert} puts a Reading's time and value for `insertPair`. */
const ONE_PAIR: number[] = new Array<number>(2).fill(NaN);

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
    const pair = ONE_PAIR;
    pair[0] = r.ts;
    pair[1] = r.value;
    return this.insertPair(r.cell, channelCode(r.channel), pair, 0, r.cycleIndex ?? NaN);
  }

  /**
   * {@link insert} of a reading given as numbers: its time at `pairs[k]`, its value at `pairs[k + 1]`
   * (`code`: its channel's code, `cyc`: its cycle index or NaN). The MQTT edge hands a batch's numbers
   * through without making a Reading of each; they are read here, not passed: a double passed to a call
   * is boxed (a heap object each).
   */
  insertPair(cell: string, code: number, pairs: readonly number[], k: number, cyc: number): boolean {
    const ts = pairs[k] ?? NaN;
    const value = pairs[k + 1] ?? NaN;
    const rank = TIE_RANK_BY_CODE[code] ?? 0;
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
    // An exact duplicate has this channel, so this tie rank: it is not among the readings walked over (later, or
    // of another channel at this time), but among those at this time just before i.
    for (let j = i - 1; j >= head; j--) {
      const at = j * STRIDE;
      if (d[at + TS] !== ts) break;
      if (d[at + CHANNEL] === code && d[at + VALUE] === value && Object.is(d[at + CYCLE], cyc)) return false;
    }
    if (this.end * STRIDE === d.length) {
      i = this.makeRoom(i);
      d = this.d;
    }
    if (i < this.end) {
      // A few readings (another channel's batch at the same times) are moved by hand: copyWithin is a call into C++.
      const from = i * STRIDE;
      const to = this.end * STRIDE;
      if (to - from <= SHORT_MOVE) for (let x = to - 1; x >= from; x--) d[x + STRIDE] = d[x] ?? NaN;
      else d.copyWithin(from + STRIDE, from, to);
    }
    const at = i * STRIDE;
    d[at + TS] = ts;
    d[at + VALUE] = value;
    d[at + CYCLE] = cyc;
    d[at + CHANNEL] = code;
    this.end++;
    this.cell = cell;
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

  /** The cell of the buffered readings ('' before the first). */
  get cellId(): string {
    return this.cell;
  }

  /** Moves the readings at or before `w` to `out` (oldest first), as numbers. */
  shiftThrough(w: number, out: ReleasedReadingColumns): void {
    const d = this.d;
    let h = this.head;
    let last = h;
    while (last < this.end && (d[last * STRIDE + TS] ?? Infinity) <= w) last++;
    let k = out.n;
    out.reserve(k + last - h);
    // Copied in this loop rather than a call per reading: a double passed to a call is boxed, a heap object each.
    const { code, ts, value, cycle } = out;
    for (; h < last; h++, k++) {
      const at = h * STRIDE;
      code[k] = d[at + CHANNEL] ?? 0;
      ts[k] = d[at + TS] ?? NaN;
      value[k] = d[at + VALUE] ?? NaN;
      cycle[k] = d[at + CYCLE] ?? NaN;
    }
    out.n = k;
    if (h === this.end) h = this.end = 0;
    this.head = h;
  }

  private reading(i: number): Reading {
    const at = i * STRIDE;
    const d = this.d;
    return readingOf(this.cell, d[at + CHANNEL] ?? 0, d[at + TS] ?? NaN, d[at + VALUE] ?? NaN, d[at + CYCLE] ?? NaN);
  }

  /** The buffered readings, oldest first (copies). */
  toReadings(): Reading[] {
    const out: Reading[] = [];
    for (let i = this.head; i < this.end; i++) out.push(this.reading(i));
    return out;
  }
}

/** A reading from its numbers (`code`: the channel's code; `cyc`: the cycle index, NaN for none). */
export function readingOf(cell: string, code: number, ts: number, value: number, cyc: number): Reading {
  const channel = CHANNELS[code] ?? 'pressure';
  return Number.isNaN(cyc) ? { cell, channel, ts, value } : { cell, channel, ts, value, cycleIndex: cyc };
}

/**
 * Readings released by an aligner, oldest first, as columns of numbers: the lab hands them to the cell's core
 * one by one without making an object of each (one set of columns, reused from call to call).
 */
export class ReleasedReadingColumns {
  /** Readings held. */
  n = 0;
  /** Per reading: its channel's code ({@link CHANNEL_CODE}), time, value, cycle index (NaN: none). */
  code: Uint8Array = new Uint8Array(FIRST_SIZE);
  ts: Float64Array = new Float64Array(FIRST_SIZE);
  value: Float64Array = new Float64Array(FIRST_SIZE);
  cycle: Float64Array = new Float64Array(FIRST_SIZE);

  /** Makes room for `size` readings in all, keeping those held. */
  reserve(size: number): void {
    if (size > this.ts.length) this.grow(size);
  }

  /** The channel of reading k. */
  channel(k: number): Channel {
    return CHANNELS[this.code[k] ?? 0] ?? 'pressure';
  }

  /** Reading k as a Reading of `cell`. */
  reading(cell: string, k: number): Reading {
    return readingOf(cell, this.code[k] ?? 0, this.ts[k] ?? NaN, this.value[k] ?? NaN, this.cycle[k] ?? NaN);
  }

  private grow(atLeast: number): void {
    let size = this.ts.length * 2;
    while (size < atLeast) size *= 2;
    const code = new Uint8Array(size);
    code.set(this.code);
    this.code = code;
    this.ts = grown(this.ts, size);
    this.value = grown(this.value, size);
    this.cycle = grown(this.cycle, size);
  }
}

function grown(a: Float64Array, size: number): Float64Array {
  const b = new Float64Array(size);
  b.set(a);
  return b;
}
