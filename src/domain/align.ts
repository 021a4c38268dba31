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
import { ReleasedReadings, type DedupState } from './dedup.js';
import { channelCode, ReadingBuffer } from './reading-buffer.js';
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
    const c = channelCode(r.channel);
    this.arrivedAt[c] = now;
    if (r.ts <= this.wm) {
      return this.recent[c]?.has(r.ts, r.value) === true ? 'duplicate' : 'late';
    }
    if (!this.insert(r)) return 'duplicate';
    if (r.ts > (this.maxTs[c] ?? Infinity)) this.maxTs[c] = r.ts;
    return 'accepted';
  }

  /** Moves the watermark for processing time `now` and appends what it releases to `out`. */
  release(now: number, out: Reading[]): void {
    this.advance(this.computeWatermark(now), out);
    if (this.buffered > this.settings.maxBuffered) this.forceRelease(out);
  }

  /** Re-evaluates idleness at processing time `now`: silent channels stop holding the watermark. */
  tick(now: number, out: Reading[]): void {
    if (this.buffered > 0) this.advance(this.computeWatermark(now), out);
  }

  /** Releases everything buffered (end of a file, or an idle cell). */
  flush(out: Reading[]): void {
    if (this.buffered === 0) return;
    this.advance(this.buf.lastTs, out);
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

  /** Stable insert in order; false if an exact duplicate is already buffered. */
  private insert(r: Reading): boolean {
    return this.buf.insert(r);
  }

  private advance(w: number, out: Reading[]): void {
    if (w <= this.wm) return;
    this.wm = w;
    const from = out.length;
    this.buf.shiftThrough(w, out);
    for (let k = from; k < out.length; k++) {
      const r = out[k];
      if (r === undefined) continue;
      const c = channelCode(r.channel);
      (this.recent[c] ??= new ReleasedReadings(this.settings.dedupDepth)).push(r.ts, r.value);
    }
  }

  private forceRelease(out: Reading[]): void {
    const excess = this.buffered - this.settings.maxBuffered;
    const before = out.length;
    this.advance(this.buf.tsAt(excess - 1), out);
    this.forcedReleases += out.length - before;
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
      maxTs: Array.from(this.maxTs, (m) => (Number.isFinite(m) ? m : null)),
      arrivedAt: Array.from(this.arrivedAt, (m) => (Number.isFinite(m) ? m : null)),
      lastArrival: Number.isFinite(this.lastArrival) ? this.lastArrival : null,
      // A channel that released nothing yet: the record of an empty one (the format does not change).
      recent: this.recent.map((r) => (r ?? new ReleasedReadings(this.settings.dedupDepth)).toState()),
      forcedReleases: this.forcedReleases,
    };
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
