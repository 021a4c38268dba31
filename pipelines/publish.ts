/**
 * Publishing recorded readings under the wire contract (`oep replay`, `oep follow`): JSON batches per
 * `<prefix>/<cell>/<channel>`, cut into event-time windows.
 *
 * Why windows: the daemon's aligner places readings by event time and calls a reading late when it is at
 * or behind the cell's watermark (min over live channels of newest timestamp − lateness). Publishing one
 * window at a time, each window's channels in `CHANNEL_RANK` order (step, current, voltage, pressure),
 * with a window no longer than the daemon's `alignment.lateness_ms`, no reading can be late however the
 * channels go idle, and the aligner sees the readings in (time, channel rank) order: the order `oep
 * process` feeds the lab offline. Ties never straddle two windows (a window holds every reading with a
 * timestamp below its end).
 */
import type { MqttClient } from 'mqtt';
import type { Channel } from '../src/domain/types.js';
import { MAX_EPOCH_MS, MIN_EPOCH_MS } from '../src/ingest/payload.js';
import { CHANNEL_RANK, type ReadingSink } from '../src/readers/readings.js';
import type { PressureLogUnit } from '../src/readers/stream.js';
import { TimeMerge } from './merge.js';

/** Default event-time span of a publish window, ms (the daemon's default lateness is 2000 ms). */
/** Waits `ms`, or less if `signal` aborts (resolves either way). */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted === true) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export const DEFAULT_WINDOW_MS = 1_000;
/** Most readings in one message (the wire contract accepts 100,000). */
export const DEFAULT_MAX_BATCH = 5_000;
/** Publishes awaiting their PUBACK before the publisher waits. */
export const DEFAULT_INFLIGHT = 200;

/** One reading as it goes on the wire. */
export interface WireItem {
  readonly ts: number;
  readonly cell: string;
  readonly channel: Channel;
  readonly payload: { readonly ts: number; readonly value: number; readonly unit?: string; readonly cycle?: number };
}

/** A file whose readings fall outside the wire contract's 2000–2100 time range (a file without a clock). */
export class TimeRangeError extends Error {
  override readonly name = 'TimeRangeError';
}

/** Rows → wire items in merge lanes (lane = rank × sources + source), as `LaneSink` does for the lab. */
export class WireSink implements ReadingSink {
  newest = -Infinity;
  pressureUnit: PressureLogUnit = 'MPa';
  constructor(
    private readonly merge: TimeMerge<WireItem>,
    private readonly cell: string,
    private readonly source: number,
    private readonly sources: number,
    private readonly fileName: string,
  ) {}
  private push(channel: Channel, ts: number, payload: WireItem['payload']): void {
    if (!(ts >= MIN_EPOCH_MS && ts < MAX_EPOCH_MS)) {
      throw new TimeRangeError(
        `${this.fileName}: a reading at ${ts} ms (${new Date(ts).toISOString()}) is outside the wire contract's 2000–2100 range: ` +
          'the file has no clock of its own; give its time zero with --start <ISO-8601>',
      );
    }
    this.merge.push(CHANNEL_RANK[channel] * this.sources + this.source, { ts, cell: this.cell, channel, payload });
    if (ts > this.newest) this.newest = ts;
  }
  step(ts: number, step: number, cycle: number | undefined): void {
    this.push('step', ts, cycle === undefined ? { ts, value: step } : { ts, value: step, cycle });
  }
  current(ts: number, current_mA: number): void {
    this.push('current', ts, { ts, value: current_mA, unit: 'mA' });
  }
  voltage(ts: number, voltage_V: number): void {
    this.push('voltage', ts, { ts, value: voltage_V, unit: 'V' });
  }
  pressure(ts: number, value: number): void {
    this.push('pressure', ts, { ts, value, unit: this.pressureUnit });
  }
}

export interface WindowPublisherOptions {
  readonly topicPrefix: string;
  readonly window_ms?: number;
  readonly maxBatch?: number;
  readonly inflight?: number;
}

/**
 * Publishes sorted wire items window by window (QoS 1). `add` takes items in (ts, rank) order; a window
 * is sent once an item beyond its end arrives, or on `flush`. Messages are written in call order on one
 * connection, so the broker delivers them in that order.
 */
export class WindowPublisher {
  readonly window_ms: number;
  private readonly maxBatch: number;
  private readonly inflightMax: number;
  private pending: WireItem[] = [];
  private windowEnd = -Infinity;
  private inflight: Promise<unknown>[] = [];
  messages = 0;
  readings = 0;

  constructor(
    private readonly client: MqttClient,
    private readonly o: WindowPublisherOptions,
    /** Called before a window is sent with its end (event time); may wait (real-time pacing). */
    private readonly beforeWindow?: (windowEnd: number) => Promise<void>,
  ) {
    this.window_ms = o.window_ms ?? DEFAULT_WINDOW_MS;
    this.maxBatch = o.maxBatch ?? DEFAULT_MAX_BATCH;
    this.inflightMax = o.inflight ?? DEFAULT_INFLIGHT;
  }

  async add(items: readonly WireItem[]): Promise<void> {
    for (const it of items) {
      if (it.ts >= this.windowEnd) {
        if (this.pending.length > 0) await this.send();
        // Windows are aligned to multiples of the span, so the cut does not depend on where a run starts.
        this.windowEnd = (Math.floor(it.ts / this.window_ms) + 1) * this.window_ms;
      }
      this.pending.push(it);
    }
  }

  /** Sends the open window and waits for every PUBACK. */
  async flush(): Promise<void> {
    if (this.pending.length > 0) await this.send();
    await Promise.all(this.inflight);
    this.inflight = [];
  }

  private async send(): Promise<void> {
    const items = this.pending;
    this.pending = [];
    await this.beforeWindow?.(this.windowEnd);
    // Per topic, in (rank, first appearance) order; each topic's readings keep their order.
    const topics = new Map<string, { rank: number; batch: WireItem['payload'][] }>();
    for (const it of items) {
      const topic = `${this.o.topicPrefix}/${it.cell}/${it.channel}`;
      let t = topics.get(topic);
      if (t === undefined) topics.set(topic, (t = { rank: CHANNEL_RANK[it.channel], batch: [] }));
      t.batch.push(it.payload);
    }
    const ordered = [...topics].sort((a, b) => a[1].rank - b[1].rank);
    for (const [topic, { batch }] of ordered) {
      for (let i = 0; i < batch.length; i += this.maxBatch) {
        const part = batch.length <= this.maxBatch ? batch : batch.slice(i, i + this.maxBatch);
        this.inflight.push(this.client.publishAsync(topic, JSON.stringify(part), { qos: 1 }));
        this.messages++;
        this.readings += part.length;
        if (this.inflight.length >= this.inflightMax) {
          await Promise.all(this.inflight);
          this.inflight = [];
        }
      }
    }
  }
}

/** A fresh merge for `sources` sources. */
export function wireMerge(sources: number): TimeMerge<WireItem> {
  return new TimeMerge<WireItem>(4 * sources);
}
