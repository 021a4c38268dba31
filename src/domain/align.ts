/**
 * Event-time alignment of one cell's channels.
 *
 * Readings are buffered in event-time order and released once the cell's watermark passes them.
 * watermark = min over the cell's live channels of (latest timestamp seen on the channel) − lateness.
 * A channel from which nothing has arrived for the idle timeout (processing time, from the caller's
 * clock) is idle and does not hold the watermark back, so one silent stream cannot stall the cell;
 * when every channel is idle, everything buffered is released. Processing time, not event time,
 * decides idleness: a device that publishes in batches is late in event time but not silent.
 *
 * Readings at or behind the watermark are late: they are reported (kept aside by the caller), never
 * folded in and never silently dropped. Exact duplicates (QoS 1 redelivery: same channel, timestamp,
 * value) are recognised while the original is buffered, and once released by the channel's compact memory
 * of what it released (dedup.ts: runs of evenly spaced timestamps, a whole redelivered batch and more).
 * Equal timestamps with different values (a cycler's step change) are kept, in arrival order. Memory is
 * bounded by `maxBuffered`.
 */
import { EMPTY_DEDUP_STATE, ReleasedReadings, type DedupState } from './dedup.js';
import { channelCode, ReadingBuffer, ReleasedReadingColumns } from './reading-buffer.js';
import { TimeRing } from './ring.js';
import type { Channel, Reading } from './types.js';

export interface AlignerSettings {
  /** How far behind a channel's newest reading another reading may still arrive and be placed in order, ms. */
  readonly lateness_ms: number;
  /** A channel silent for this long (processing time) no longer holds the watermark, ms. */
  readonly idleTimeout_ms: number;
  /**
   * Released readings remembered per channel, at least, to recognise late duplicates: an irregular
   * channel's; a regularly sampled (or jittered) one's are remembered as runs of any length (see dedup.ts).
   */
  readonly dedupDepth: number;
  /** Hard cap on buffered readings per cell; beyond it the oldest are released early (counted). */
  readonly maxBuffered: number;
}

export const DEFAULT_LATENESS_MS = 2_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
export const DEFAULT_DEDUP_DEPTH = 1_024;
export const DEFAULT_MAX_BUFFERED = 50_000;

export type AlignOutcome = 'accepted' | 'duplicate' | 'late';

/** The channels' indices, as the buffer codes them (`channelCode`). */
const CHANNEL_INDEX: Record<Channel, number> = { pressure: 0, current: 1, voltage: 2, step: 3 };
/**
 * Readings of different channels stamped at the same instant are ordered: a cycler's step change first,
 * then the current (it decides what the instant is), then voltage and pressure. Readings of one channel
 * with equal timestamps keep their arrival order (a cycler logs two rows at a step change). See ReadingBuffer.
 */
const N_CHANNELS = 4;
/** Where the Reading-object forms of release, tick and flush collect the numbers first (synchronous: one for all). */
const SCRATCH = new ReleasedReadingColumns();
/** Where {@link EventTimeAligner.offer} puts a Reading's time and value for `offerPair`. */
const ONE_PAIR: number[] = new Array<number>(2).fill(NaN);
export interface AlignerSnapshot {
  readonly buffered: Reading[];
  readonly watermark: number | null;
  readonly maxTs: (number | null)[];
  readonly arrivedAt: (number | null)[];
  readonly lastArrival: number | null;
  /**
   * Per channel, what it released, for duplicate detection: runs (dedup.ts), or in state written before
   * them the last released (ts, value) pairs (typed arrays since state format 4), restored into runs.
   */
  readonly recent: (DedupState | { ts: ArrayLike<number>; value: ArrayLike<number> })[];
  readonly forcedReleases: number;
}

/** Each value, null where it is not finite (a checkpoint's form of "none yet"); a loop, not Array.from with a function (~1 µs a call). */
function finiteOrNull(a: Float64Array): (number | null)[] {
  const out: (number | null)[] = [];
  for (const m of a) out.push(Number.isFinite(m) ? m : null);
  return out;
}

export class EventTimeAligner {
  private buf = new ReadingBuffer();
  private wm = -Infinity;
  private readonly maxTs = new Float64Array(N_CHANNELS).fill(-Infinity);
  private lastArrival = -Infinity;
  private readonly arrivedAt = new Float64Array(N_CHANNELS).fill(-Infinity);
  /**
   * Per channel, what it released (duplicate detection), made at the channel's first released reading: most
   * cells publish two of the four channels, and an unused channel's empty record was ~0.2 KB a cell.
   */
  private readonly recent: (ReleasedReadings | undefined)[] = [undefined, undefined, undefined, undefined];
  /** Readings released early because the buffer hit `maxBuffered`. */
  forcedReleases = 0;

  constructor(private readonly settings: AlignerSettings) {}

  get watermark(): number {
    return this.wm;
  }

  /** Readings waiting for the watermark. */
  get buffered(): number {
    return this.buf.size;
  }

  /** Processing time of the latest arrival on a channel (−Infinity if none since start or restart). */
  arrivalOf(channel: Channel): number {
    return this.arrivedAt[CHANNEL_INDEX[channel]] ?? -Infinity;
  }

  /** Processing time of the latest arrival on any channel. */
  get lastArrivalAt(): number {
    return this.lastArrival;
  }

  /** Newest event time seen on any channel (−Infinity before the first reading). */
  get newestTs(): number {
    let m = -Infinity;
    for (const t of this.maxTs) if (t > m) m = t;
    return m;
  }

  /**
   * Offers one reading. Released readings (event-time order) are appended to `out`.
   * @param now processing time (ms) of the arrival, from the caller's clock.
   */
  push(r: Reading, now: number, out: Reading[]): AlignOutcome {
    const o = this.offer(r, now);
    this.release(now, out);
    return o;
  }

  /**
   * Takes one reading into the buffer without moving the watermark (a batch of readings is offered,
   * then released once: the watermark is computed per batch, not per reading).
   */
  offer(r: Reading, now: number): AlignOutcome {
    const pair = ONE_PAIR;
    pair[0] = r.ts;
    pair[1] = r.value;
    return this.offerPair(r.cell, channelCode(r.channel), pair, 0, r.cycleIndex ?? NaN, now);
  }

  /**
   * {@link offer} of a reading given as numbers: its cell, its channel's code (`channelCode`), its time at
   * `pairs[k]` and value at `pairs[k + 1]`, its cycle index (NaN: none). The MQTT edge hands a batch's
   * numbers through without making a Reading of each (read here, not passed: a double passed is boxed).
   */
  offerPair(cell: string, code: number, pairs: readonly number[], k: number, cyc: number, now: number): AlignOutcome {
    this.arrive(code, now);
    return this.placePair(cell, code, pairs, k, cyc);
  }

  /**
   * The arrival of readings of channel `code` at processing time `now` (what {@link offerPair} notes first):
   * once for a batch of one channel that arrives at once, then {@link placePair} for each of its readings, the
   * same as {@link offerPair} for each (a second arrival at the same `now` changes nothing), without passing
   * `now` per reading (a double passed to a call is boxed: a heap object each).
   */
  arrive(code: number, now: number): void {
    const first = this.lastArrival === -Infinity;
    if (first || now - this.lastArrival >= this.settings.idleTimeout_ms) {
      // A cell's first reading, or the first after the whole cell went silent (a paused publisher, a
      // broker or network outage, a device that publishes a batch every few minutes; everything buffered
      // was released): pressure and current (the two the method needs) hold the watermark until they have
      // shown up or stayed silent for the idle timeout, so that whichever device happens to publish first
      // does not make the other's readings late (the current's, lost, would lose charge and make the
      // voltage seen under a held charge current look like a hard short). After a silence only a channel
      // the cell has published holds (a cell without a load cell is not held at every batch). Voltage and
      // step are optional and sparse (a step reading comes at a step change only): they do not hold.
      for (const c of [CHANNEL_INDEX.pressure, CHANNEL_INDEX.current]) if (first || this.maxTs[c] !== -Infinity) this.arrivedAt[c] = now;
    }
    this.lastArrival = now;
    this.arrivedAt[code] = now;
  }

  /** The placement part of {@link offerPair}, after {@link arrive}. */
  placePair(cell: string, code: number, pairs: readonly number[], k: number, cyc: number): AlignOutcome {
    const c = code;
    const ts = pairs[k] ?? NaN;
    if (ts <= this.wm) {
      return this.recent[c]?.has(ts, pairs[k + 1] ?? NaN) === true ? 'duplicate' : 'late';
    }
    if (!this.buf.insertPair(cell, c, pairs, k, cyc)) return 'duplicate';
    if (ts > (this.maxTs[c] ?? Infinity)) this.maxTs[c] = ts;
    return 'accepted';
  }

  /** Moves the watermark for processing time `now` and appends what it releases to `out`. */
  release(now: number, out: Reading[]): void {
    this.asReadings(out, (cols) => {
      this.releaseValues(now, cols);
    });
  }

  /** {@link release}, the released readings appended to `out` as numbers. */
  releaseValues(now: number, out: ReleasedReadingColumns): void {
    this.advance(this.computeWatermark(now), out);
    if (this.buffered > this.settings.maxBuffered) this.forceRelease(out);
  }

  /** Re-evaluates idleness at processing time `now`: silent channels stop holding the watermark. */
  tick(now: number, out: Reading[]): void {
    this.asReadings(out, (cols) => {
      this.tickValues(now, cols);
    });
  }

  /** {@link tick}, the released readings appended to `out` as numbers. */
  tickValues(now: number, out: ReleasedReadingColumns): void {
    if (this.buffered > 0) this.advance(this.computeWatermark(now), out);
  }

  /** Releases everything buffered (end of a file, or an idle cell). */
  flush(out: Reading[]): void {
    this.asReadings(out, (cols) => {
      this.flushValues(cols);
    });
  }

  /** {@link flush}, the released readings appended to `out` as numbers. */
  flushValues(out: ReleasedReadingColumns): void {
    if (this.buffered === 0) return;
    this.advance(this.buf.lastTs, out);
  }

  /** What `release` releases into columns, appended to `out` as Reading objects. */
  private asReadings(out: Reading[], release: (cols: ReleasedReadingColumns) => void): void {
    const cols = SCRATCH;
    cols.n = 0;
    release(cols);
    const cell = this.buf.cellId;
    for (let k = 0; k < cols.n; k++) out.push(cols.reading(cell, k));
    cols.n = 0;
  }

  private computeWatermark(now: number): number {
    let w = Infinity;
    for (let c = 0; c < N_CHANNELS; c++) {
      const a = this.arrivedAt[c] ?? -Infinity;
      if (a === -Infinity || now - a >= this.settings.idleTimeout_ms) continue;
      const m = this.maxTs[c] ?? -Infinity;
      if (m < w) w = m;
    }
    // Every channel idle: release everything there is. (w = −Infinity: a channel not seen yet holds.)
    return w === Infinity ? this.newestTs : w - this.settings.lateness_ms;
  }

  private advance(w: number, out: ReleasedReadingColumns): void {
    if (w <= this.wm) return;
    this.wm = w;
    const from = out.n;
    this.buf.shiftThrough(w, out);
    const codes = out.code;
    const ts = out.ts;
    const values = out.value;
    for (let k = from; k < out.n; k++) {
      const c = codes[k] ?? 0;
      (this.recent[c] ??= new ReleasedReadings(this.settings.dedupDepth)).push(ts[k] ?? NaN, values[k] ?? NaN);
    }
  }

  private forceRelease(out: ReleasedReadingColumns): void {
    const excess = this.buffered - this.settings.maxBuffered;
    const before = out.n;
    this.advance(this.buf.tsAt(excess - 1), out);
    this.forcedReleases += out.n - before;
  }

  /**
   * After a restart (state restored, journal replayed): every channel seen before counts as having
   * arrived at `now`, so the watermark is the one an uninterrupted run has (every channel live) and the
   * first tick does not release the buffer as if the cell were idle; a channel that stays silent goes idle
   * after the idle timeout as usual.
   */
  resumeAt(now: number): void {
    for (let c = 0; c < N_CHANNELS; c++) if ((this.maxTs[c] ?? -Infinity) !== -Infinity) this.arrivedAt[c] = now;
    if (this.newestTs !== -Infinity) this.lastArrival = now;
  }

  snapshot(): AlignerSnapshot {
    return {
      buffered: this.buf.toReadings(),
      watermark: Number.isFinite(this.wm) ? this.wm : null,
      maxTs: finiteOrNull(this.maxTs),
      arrivedAt: finiteOrNull(this.arrivedAt),
      lastArrival: Number.isFinite(this.lastArrival) ? this.lastArrival : null,
      recent: this.recentStates(),
      forcedReleases: this.forcedReleases,
    };
  }

  /** Each channel's dedup record; a channel that released nothing yet, the record of an empty one (the format does not change). */
  private recentStates(): AlignerSnapshot['recent'] {
    const out: AlignerSnapshot['recent'] = [];
    for (const r of this.recent) out.push(r?.toState() ?? EMPTY_DEDUP_STATE);
    return out;
  }

  /**
   * Gives a structured-clone copy of an aligner (e.g. from v8.deserialize) its class back, with the
   * current settings (a restart may come with a changed config).
   */
  static revive(o: object, settings: AlignerSettings): EventTimeAligner {
    // A structured clone is the aligner's own fields: giving it the class back makes it one again.
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- setPrototypeOf returns any
    const a = Object.setPrototypeOf(o, EventTimeAligner.prototype) as EventTimeAligner;
    // Format 2 kept each channel's last released readings in a ring: into runs.
    a.recent.forEach((r, c) => {
      const ring: unknown = r === undefined ? undefined : Reflect.get(r, 'ring');
      const { ts, value } = typeof ring === 'object' && ring !== null ? TimeRing.revive(ring).toArrays() : { ts: [], value: [] };
      a.recent[c] = ts.length === 0 ? undefined : ReleasedReadings.fromPairs(settings.dedupDepth, ts, value);
    });
    Object.defineProperty(a, 'settings', { value: settings });
    // Format 2 cloned the buffer as an array of readings (`buf`, released up to `head`): into columns.
    const old: unknown = Reflect.get(a, 'buf');
    const head: unknown = Reflect.get(a, 'head');
    if (Array.isArray(old)) {
      const buf = new ReadingBuffer();
      // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- format 2's buffer held the aligner's own readings
      for (const r of old.slice(typeof head === 'number' ? head : 0) as Reading[]) buf.insert(r);
      Reflect.deleteProperty(a, 'head');
      a.buf = buf;
    }
    // Arrival times are processing time of the previous run: start the startup hold afresh.
    a.lastArrival = -Infinity;
    a.arrivedAt.fill(-Infinity);
    return a;
  }

  static restore(settings: AlignerSettings, s: AlignerSnapshot): EventTimeAligner {
    const a = new EventTimeAligner(settings);
    for (const r of s.buffered) a.buf.insert(r);
    a.wm = s.watermark ?? -Infinity;
    s.maxTs.forEach((m, i) => {
      a.maxTs[i] = m ?? -Infinity;
    });
    s.arrivedAt.forEach((m, i) => {
      a.arrivedAt[i] = m ?? -Infinity;
    });
    a.lastArrival = s.lastArrival ?? -Infinity;
    s.recent.forEach((r, c) => {
      // A channel that had released nothing stays without a record until it does (as in a fresh aligner).
      if ('runs' in r ? r.runs.length === 0 && r.instants.ts.length === 0 : r.ts.length === 0) return;
      a.recent[c] = 'runs' in r ? ReleasedReadings.fromState(settings.dedupDepth, r) : ReleasedReadings.fromPairs(settings.dedupDepth, r.ts, r.value);
    });
    a.forcedReleases = s.forcedReleases;
    return a;
  }
}
