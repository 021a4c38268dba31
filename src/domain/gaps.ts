/**
 * Loss made visible: per cell and channel, holes in the event time of a channel's readings beyond its own
 * sample interval while current flows. A broker that drops messages (a queue overflowing while the
 * daemon is away), a device that stops logging, a batch lost on the way: each leaves such a hole, which
 * the aligner cannot see (it only orders what arrives).
 *
 * A channel's interval is the median of its last {@link INTERVAL_WINDOW} positive steps (robust to a
 * cycler's doubled rows at a step change and to jitter), recomputed every {@link INTERVAL_WINDOW}
 * readings. A step longer than {@link GAP_FACTOR} intervals (and at least {@link MIN_GAP_MS}) while the
 * cell's current is outside its deadband is a gap. At rest, devices may log sparsely on purpose: not counted.
 *
 * The counts are part of the cell's checkpoint record ({@link GapState}, with each channel's interval
 * window), so a restart (checkpoint, then the journal's replay) counts on from where it stopped, neither
 * from zero nor twice.
 */
import { channelCode } from './reading-buffer.js';
import type { Channel, Reading } from './types.js';

/** Steps of a channel over which its interval is taken (median). */
export const INTERVAL_WINDOW = 16;
/** A step this many intervals long is a gap (at least two readings missing). */
export const GAP_FACTOR = 3;
/** Shortest gap counted, ms (a 10 Hz channel missing two readings is not worth a warning). */
export const MIN_GAP_MS = 1_000;

/** One hole in a channel's readings. */
export interface Gap {
  readonly cell: string;
  readonly channel: Channel;
  /** Event time of the reading before the hole, and of the one after it, epoch ms. */
  readonly from: number;
  readonly to: number;
  /** The channel's interval when the hole was seen, ms. */
  readonly interval_ms: number;
  /** Readings estimated missing: (to − from) / interval − 1, rounded. */
  readonly missing: number;
}

interface ChannelTrack {
  last: number;
  interval_ms: number;
  readonly steps: number[];
  next: number;
}

/** A tracker as plain data (a checkpoint's `gaps`). */
export interface GapState {
  /** Per channel seen: its last reading's time, its interval (NaN until learnt) and the steps it is learnt from. */
  readonly tracks: readonly {
    readonly channel: Channel;
    readonly last: number;
    readonly interval_ms: number;
    readonly steps: readonly number[];
    readonly next: number;
  }[];
  readonly counts: Partial<Record<Channel, number>>;
  readonly missing: Partial<Record<Channel, number>>;
}

/** Where {@link median} sorts (a channel's steps are positive and finite: a typed array sorts them as numbers). */
const SCRATCH = new Float64Array(INTERVAL_WINDOW);

const median = (xs: readonly number[]): number => {
  const s = xs.length === SCRATCH.length ? SCRATCH : SCRATCH.subarray(0, xs.length);
  s.set(xs);
  s.sort();
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
};

export class GapTracker {
  private readonly tracks = new Map<Channel, ChannelTrack>();
  /** The same tracks by channel code (`channelCode`): a Map lookup by name per reading was ~1 % of the daemon's CPU. */
  private readonly byCode: (ChannelTrack | undefined)[] = [undefined, undefined, undefined, undefined];
  /** Gaps seen so far, per channel. */
  readonly counts: Partial<Record<Channel, number>> = {};
  /** Readings estimated missing in those gaps, per channel. */
  readonly missing: Partial<Record<Channel, number>> = {};

  constructor(readonly cell: string) {}

  /**
   * Hears one released reading (event-time order) and whether current flows; returns the gap it closes, if
   * it closes one.
   */
  observe(r: Reading, currentFlows: boolean): Gap | undefined {
    return this.observeAt(r.channel, r.ts, currentFlows);
  }

  /** {@link observe} of a reading's channel and time. */
  observeAt(channel: Channel, ts: number, currentFlows: boolean): Gap | undefined {
    const t = this.byCode[channelCode(channel)];
    if (t === undefined) {
      this.add(channel, { last: ts, interval_ms: NaN, steps: [], next: 0 });
      return undefined;
    }
    const dt = ts - t.last;
    const from = t.last;
    t.last = ts;
    if (dt <= 0) return undefined;
    const interval = t.interval_ms;
    const gap = currentFlows && Number.isFinite(interval) && dt > GAP_FACTOR * interval && dt >= MIN_GAP_MS;
    if (!gap) this.learn(t, dt);
    if (!gap) return undefined;
    const missing = Math.max(1, Math.round(dt / interval) - 1);
    this.counts[channel] = (this.counts[channel] ?? 0) + 1;
    this.missing[channel] = (this.missing[channel] ?? 0) + missing;
    return { cell: this.cell, channel, from, to: ts, interval_ms: interval, missing };
  }

  /** Copies. */
  toState(): GapState {
    return {
      tracks: [...this.tracks].map(([channel, t]) => ({ channel, last: t.last, interval_ms: t.interval_ms, steps: [...t.steps], next: t.next })),
      counts: { ...this.counts },
      missing: { ...this.missing },
    };
  }

  static fromState(cell: string, s: GapState): GapTracker {
    const g = new GapTracker(cell);
    for (const t of s.tracks) g.add(t.channel, { last: t.last, interval_ms: t.interval_ms, steps: [...t.steps], next: t.next });
    Object.assign(g.counts, s.counts);
    Object.assign(g.missing, s.missing);
    return g;
  }

  private add(channel: Channel, t: ChannelTrack): void {
    this.tracks.set(channel, t);
    this.byCode[channelCode(channel)] = t;
  }

  /** Adds a step to the channel's window; the median is taken again once the window has filled anew. */
  private learn(t: ChannelTrack, dt: number): void {
    if (t.steps.length < INTERVAL_WINDOW) t.steps.push(dt);
    else t.steps[t.next % INTERVAL_WINDOW] = dt;
    t.next++;
    if (t.next % INTERVAL_WINDOW === 0) t.interval_ms = median(t.steps);
  }
}
