/**
 * What one channel of a cell has released, remembered compactly to recognise a redelivery (QoS 1: the
 * same channel, timestamp and value again) of readings the aligner has already let go.
 *
 * **Timestamps as runs.** A regularly sampled channel releases an arithmetic progression of timestamps:
 * it is kept as runs (start, step, count), a new run where the progression breaks (a hole, a change of
 * rate, an irregular reading). A regular channel holds one run whatever its length (a month at 10 Hz
 * included), plus one per hole. There, "was a reading at this instant released?" is answered exactly: a
 * reading at an instant never released (a hole: a message lost on the way and sent again after newer ones,
 * or between two samples) is late, not a duplicate.
 *
 * A device that stamps readings with its own clock jitters around its rate (the simulator: ±20 ms at
 * 10 Hz): its timestamps are no progression. Its stretches without a hole are kept as spans (start,
 * length, count): a run of fewer than {@link REGULAR_RUN} readings whose next reading breaks the
 * progression but follows at a like step (within a factor {@link HOLE_FACTOR}) becomes a span, which goes
 * on while each step stays within {@link HOLE_FACTOR} times its mean step. Any instant inside a span
 * can hold a released reading: a reading in a hole (a step longer than that, one missing sample at ±20 %
 * jitter) is late. Inside a span, a reading is a duplicate only if a fingerprint (32 bits of its timestamp
 * and value) is among those of the first readings of the channel's latest `depth` instants (further rows at an
 * instant are instant values, below; 4 bytes an instant; a
 * channel without a span keeps the last {@link REGULAR_RUN}: 32 bytes): a load cell that flushes readings from hours ago lands between released ones
 * and is late, as it should be (late.csv shows it); a redelivery of a jittered channel older than `depth`
 * readings is counted late too, the conservative side. A channel whose steps vary more (event-triggered
 * logging) falls back to runs of two readings or more.
 *
 * The edge takes up to 100,000 readings a message (MAX_BATCH_READINGS) and Mosquitto keeps 20 messages in
 * flight to a client (max_inflight_messages): a redelivered window, 2 M readings, is within one run or span
 * of a channel without holes, and within the same few runs after a restart (they are in the aligner's
 * snapshot).
 *
 * **Values.** Telling a redelivery from a genuinely different reading at an already released instant needs
 * the value at that instant: 8 bytes a reading, the 16 KB of the former ring for its 1,024 readings. A few
 * hundred bytes cannot hold 100,000 readings' values (any per-reading check with a false-match rate ε
 * takes log2(1/ε) bits a reading). So values are kept exactly only where they matter, and bounded elsewhere:
 * - where one instant holds several readings (a cycler's step change: two rows at one timestamp, different
 *   values, both kept by the aligner), every value of the instant, for the latest {@link INSTANT_VALUES}
 *   such readings: a reading at such an instant is a duplicate only if its value is one of them, and late
 *   otherwise;
 * - for every run, the range of its values (float32, rounded outwards): a reading at a run's instant is a
 *   duplicate if its value lies in the range (exact for a run of one reading). A redelivery always does; a
 *   genuinely different reading at an instant already released inside a run's range is counted a
 *   duplicate instead of late. Either way it is not folded in (it is behind the watermark): only the late
 *   side output (`oep_late`, late.csv) misses it.
 *
 * Bounded: at most `⌊depth / 2⌋ + 1` runs per channel (so at least `depth` readings of any channel,
 * however irregular; see `alignment.dedupDepth`), the oldest run dropped first; allocated on the first
 * reading and grown by doubling. Cost: 40 bytes a run (start, step or −length, count; the range's float32
 * values as doubles) and 16 bytes an instant value. Released readings come in event-time order (the aligner's), which keeps the
 * runs sorted.
 */

import { FingerprintRing } from './fingerprints.js';
import { InstantValues } from './instant-values.js';

export { INSTANT_VALUES } from './instant-values.js';
/** A step this many times a span's mean step (or a short progression's step) is a hole: the span ends. */
export const HOLE_FACTOR = 1.5;
/**
 * A progression this long is a regularly sampled channel: a reading off it starts a new run (the run stays
 * exact); off a shorter one, within {@link HOLE_FACTOR} steps, it makes the run a span (a jittered device
 * whose steps happened to repeat: stamps quantised to 10 ms at 10 Hz ± 20 ms repeat a step one time in nine).
 */
export const REGULAR_RUN = 8;
/** Runs allocated at a channel's first reading (a regular channel never needs more). */
const FIRST_RUNS = 2;
const RUN_F64 = 3;

/** A channel's released readings as plain data (oldest first). */
export interface DedupState {
  /** (start, step, count) per run, epoch ms; a span's step is minus its length (end − start). */
  readonly runs: Float64Array;
  /** (min, max) of each run's values. */
  readonly range: Float32Array;
  /** Every value of the latest instants with several readings. */
  readonly instants: { readonly ts: Float64Array; readonly value: Float64Array };
  /** The value of the last reading released (the first row of an instant that turns out to have several). */
  readonly last: number;
}

/** No instant with several readings: the record of most channels (one object for all, read only). */
const NO_INSTANTS: DedupState['instants'] = Object.freeze({ ts: new Float64Array(0), value: new Float64Array(0) });

/**
 * The record of a channel that released nothing yet (one object for all, read only): a checkpoint of 10,000
 * cells made a tracker and six typed arrays for each of their silent channels (voltage, step) to write it.
 */
export const EMPTY_DEDUP_STATE: DedupState = Object.freeze({ runs: new Float64Array(0), range: new Float32Array(0), instants: NO_INSTANTS, last: NaN });

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** The largest float32 ≤ v. */
function down32(v: number): number {
  const f = Math.fround(v);
  if (!(f > v)) return f;
  f32[0] = f;
  i32[0] = (i32[0] ?? 0) + (f > 0 ? -1 : 1);
  return f32[0];
}

/** The smallest float32 ≥ v. */
function up32(v: number): number {
  const f = Math.fround(v);
  if (!(f < v)) return f;
  f32[0] = f;
  i32[0] = Object.is(f, -0) || f === 0 ? 1 : (i32[0] ?? 0) + (f > 0 ? 1 : -1);
  return f32[0];
}

export class ReleasedReadings {
  readonly maxRuns: number;
  // Plain arrays of doubles, not typed arrays: a channel holds one or two runs, and a typed array costs
  // ~180 B of objects (the view and its ArrayBuffer) beside its data, an array 32 B (~0.8 KB a cell less).
  // `rng` holds float32 values (rounded outwards) as doubles, as the record's Float32Array has them.
  private run: number[] = [];
  private rng: number[] = [];
  /** Slot of the oldest run, and how many there are. */
  private first = 0;
  private n = 0;
  private lastTs = -Infinity;
  private lastValue = NaN;
  /** Made at the channel's first instant with several readings (most channels never have one). */
  private instants: InstantValues | undefined;
  /**
   * Fingerprints of the latest released readings: the last {@link REGULAR_RUN} of any channel (a short
   * progression may turn into a span), the last `depth` once the channel has a span.
   */
  private readonly fp: FingerprintRing;
  private readonly depth: number;

  /** @param depth readings of an irregular channel remembered at least (`alignment.dedupDepth`). */
  constructor(depth: number) {
    if (!(depth >= 1)) throw new RangeError(`dedup depth must be at least 1, got ${String(depth)}`);
    // every run but the newest holds two instants at least: ⌊depth / 2⌋ of them and the newest hold `depth`
    this.maxRuns = Math.floor(depth / 2) + 1;
    this.depth = depth;
    this.fp = new FingerprintRing(Math.min(depth, REGULAR_RUN));
  }

  /** Runs held. */
  get runs(): number {
    return this.n;
  }

  /** Bytes of the typed arrays held (what grows with the channel; the object itself is a few fields more). */
  get storedBytes(): number {
    return 8 * (this.run.length + this.rng.length) + (this.instants?.storedBytes ?? 0) + this.fp.storedBytes;
  }

  private slot(k: number): number {
    const i = this.first + k;
    const cap = this.rng.length >> 1;
    return i >= cap ? i - cap : i;
  }

  /** Remembers one released reading (event-time order). */
  push(ts: number, value: number): void {
    // the first reading of each instant (an instant's further rows are kept exactly: instant values)
    if (ts !== this.lastTs) this.fp.push(ts, value);
    if (this.n > 0) {
      if (ts === this.lastTs) {
        this.instant(ts, value);
        this.widen(this.slot(this.n - 1), value);
        this.lastValue = value;
        return;
      }
      // Out of order cannot come from the aligner; not remembered rather than unsorting the runs.
      if (!(ts > this.lastTs)) return;
      const s = this.slot(this.n - 1);
      if (this.extend(s * RUN_F64, ts)) {
        this.extended(s, ts, value);
        return;
      }
    }
    this.newRun(ts, value);
  }

  private spanFound(): void {
    this.fp.capacity = this.depth;
  }

  /** Whether the run at `o` takes `ts` (after its last reading): as the progression's next, or in its span. */
  private extend(o: number, ts: number): boolean {
    const r = this.run;
    const start = r[o] ?? NaN;
    const step = r[o + 1] ?? NaN;
    const count = r[o + 2] ?? 0;
    const dt = ts - this.lastTs;
    if (count === 1) {
      if (start + (ts - start) !== ts) return false;
      r[o + 1] = ts - start;
    } else if (step > 0) {
      // a progression; a reading off a short one, at a like step: a jittered device, a span from here (not
      // after a first step that was a hole: an isolated reading, a hole, then readings every second)
      const like = dt <= HOLE_FACTOR * step && dt * HOLE_FACTOR >= step;
      if (start + count * step !== ts && !(count < REGULAR_RUN && like)) return false;
      if (start + count * step !== ts) {
        r[o + 1] = start - ts;
        this.spanFound();
      }
    } else {
      if (!(dt <= (HOLE_FACTOR * -step) / (count - 1))) return false;
      r[o + 1] = start - ts;
    }
    r[o + 2] = count + 1;
    return true;
  }

  private extended(s: number, ts: number, value: number): void {
    this.widen(s, value);
    this.lastTs = ts;
    this.lastValue = value;
  }

  private widen(s: number, value: number): void {
    const r = this.rng;
    if (value < (r[2 * s] ?? NaN)) r[2 * s] = down32(value);
    if (value > (r[2 * s + 1] ?? NaN)) r[2 * s + 1] = up32(value);
  }

  private newRun(ts: number, value: number): void {
    const cap = this.rng.length >> 1;
    if (this.n === cap) {
      if (cap < this.maxRuns) this.grow(Math.min(this.maxRuns, Math.max(FIRST_RUNS, cap * 2)));
      else {
        // Full: the oldest run goes.
        this.first = this.first + 1 === cap ? 0 : this.first + 1;
        this.n--;
      }
    }
    const s = this.slot(this.n++);
    this.run[s * RUN_F64] = ts;
    this.run[s * RUN_F64 + 1] = 0;
    this.run[s * RUN_F64 + 2] = 1;
    this.rng[2 * s] = down32(value);
    this.rng[2 * s + 1] = up32(value);
    this.lastTs = ts;
    this.lastValue = value;
  }

  private grow(cap: number): void {
    const run = new Array<number>(cap * RUN_F64).fill(0);
    const rng = new Array<number>(cap * 2).fill(0);
    this.copyRuns(run, rng);
    this.run = run;
    this.rng = rng;
    this.first = 0;
  }

  /** The runs, oldest first, into `run` and `rng` from slot 0. */
  private copyRuns(run: Record<number, number>, rng: Record<number, number>): void {
    for (let k = 0; k < this.n; k++) {
      const s = this.slot(k);
      for (let j = 0; j < RUN_F64; j++) run[k * RUN_F64 + j] = this.run[s * RUN_F64 + j] ?? NaN;
      rng[2 * k] = this.rng[2 * s] ?? NaN;
      rng[2 * k + 1] = this.rng[2 * s + 1] ?? NaN;
    }
  }

  /** A second (or further) reading at the last released instant: the instant's values, exactly. */
  private instant(ts: number, value: number): void {
    const instants = (this.instants ??= new InstantValues());
    if (instants.newest !== ts) instants.push(ts, this.lastValue);
    instants.push(ts, value);
  }

  /** Whether a reading with this timestamp and value was released (see the file's comment for how exactly). */
  has(ts: number, value: number): boolean {
    if (this.n === 0 || ts > this.lastTs) return false;
    const known = this.instants?.has(ts, value);
    if (known !== undefined) return known;
    const s = this.runAt(ts);
    if (s === undefined) return false;
    const inRange = value >= (this.rng[2 * s] ?? NaN) && value <= (this.rng[2 * s + 1] ?? NaN);
    // a span's instants are not kept: between its first and last, only the fingerprints of the latest readings tell
    if (!inRange || (this.run[s * RUN_F64 + 1] ?? 0) >= 0 || ts === this.run[s * RUN_F64]) return inRange;
    return this.fp.has(ts, value);
  }

  /** The slot of the run holding instant `ts`, if one does. */
  private runAt(ts: number): number | undefined {
    let lo = 0;
    let hi = this.n - 1;
    // the last run starting at or before ts
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.run[this.slot(mid) * RUN_F64] ?? NaN) <= ts) lo = mid;
      else hi = mid - 1;
    }
    const s = this.slot(lo);
    const start = this.run[s * RUN_F64] ?? NaN;
    const step = this.run[s * RUN_F64 + 1] ?? NaN;
    const count = this.run[s * RUN_F64 + 2] ?? 0;
    if (ts === start) return s;
    if (!(ts > start) || count < 2) return undefined;
    if (step < 0) return ts <= start - step ? s : undefined;
    const k = Math.round((ts - start) / step);
    return k < count && start + k * step === ts ? s : undefined;
  }

  /** Copies, oldest first. */
  toState(): DedupState {
    const runs = new Float64Array(this.n * RUN_F64);
    const range = new Float32Array(this.n * 2);
    this.copyRuns(runs, range);
    return { runs, range, instants: this.instants?.toState() ?? NO_INSTANTS, last: this.lastValue };
  }

  /** From {@link toState}'s copy, with the current depth (a smaller one keeps the newest runs). */
  static fromState(depth: number, st: DedupState): ReleasedReadings {
    const d = new ReleasedReadings(depth);
    const total = Math.min(Math.floor(st.runs.length / RUN_F64), st.range.length >> 1);
    const from = Math.max(0, total - d.maxRuns);
    d.n = total - from;
    if (d.n > 0) {
      d.run = Array.from({ length: d.n * RUN_F64 }, (_, k) => st.runs[from * RUN_F64 + k] ?? NaN);
      d.rng = Array.from({ length: d.n * 2 }, (_, k) => st.range[2 * from + k] ?? NaN);
      const o = (d.n - 1) * RUN_F64;
      const step = d.run[o + 1] ?? 0;
      d.lastTs = (d.run[o] ?? NaN) + (step < 0 ? -step : Math.max(0, (d.run[o + 2] ?? 1) - 1) * step);
      // fingerprints are not in the record: a restored span's instants are late until readings are released again
      for (let k = 0; k < d.n; k++) if ((d.run[k * RUN_F64 + 1] ?? 0) < 0) d.spanFound();
    }
    d.lastValue = st.last;
    const n = st.instants.ts.length;
    if (n > 0) {
      const instants = (d.instants = new InstantValues());
      for (let k = 0; k < n; k++) instants.push(st.instants.ts[k] ?? NaN, st.instants.value[k] ?? NaN);
    }
    return d;
  }

  /** From released (ts, value) pairs, oldest first (the exact rings of earlier state formats). */
  static fromPairs(depth: number, ts: ArrayLike<number>, value: ArrayLike<number>): ReleasedReadings {
    const d = new ReleasedReadings(depth);
    for (let k = 0; k < ts.length; k++) d.push(ts[k] ?? NaN, value[k] ?? NaN);
    return d;
  }
}
