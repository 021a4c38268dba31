/**
 * Publishing to MQTT from oep's own tools: {@link Publisher} (QoS 1, bounded in flight) for every
 * message, and {@link WindowPublisher} on top of it for readings under the wire contract (`oep replay`,
 * `oep follow`): JSON batches per `<prefix>/<cell>/<channel>`, cut into event-time windows.
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
import type { EdgeReading } from '../ingest/canonical.js';
import { MAX_EPOCH_MS, MIN_EPOCH_MS } from '../ingest/epoch.js';
import { CHANNEL_RANK } from '../readers/readings.js';

/** Waits `ms`, or less if `signal` aborts (resolves either way). */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted === true) {
      resolve();
      return;
    }
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Default event-time span of a publish window, ms (the daemon's default lateness is 2000 ms). */
export const DEFAULT_WINDOW_MS = 1_000;
/** Most readings in one message (the wire contract accepts 100,000). */
export const DEFAULT_MAX_BATCH = 5_000;
/** Publishes awaiting their PUBACK before the publisher waits. */
export const DEFAULT_INFLIGHT = 200;

/** A file whose readings fall outside the wire contract's 2000–2100 time range (a file without a clock). */
export class TimeRangeError extends Error {
  override readonly name = 'TimeRangeError';
}

/** Throws {@link TimeRangeError} unless `ts` can go on the wire; `fileName` names the file in the message. */
export function checkWireTime(ts: number, fileName: string): void {
  if (ts >= MIN_EPOCH_MS && ts < MAX_EPOCH_MS) return;
  throw new TimeRangeError(
    `${fileName}: a reading at ${ts} ms (${new Date(ts).toISOString()}) is outside the wire contract's 2000–2100 range: ` +
      'the file has no clock of its own; give its time zero with --start <ISO-8601>',
  );
}

/**
 * The one MQTT publisher of oep's own tools (replay, follow, simulate): QoS 1 messages written in call
 * order on one connection (so the broker delivers them in that order), at most `inflight` awaiting
 * their PUBACK before `publish` waits.
 */
export class Publisher {
  private inflight: Promise<unknown>[] = [];
  messages = 0;

  constructor(
    private readonly client: MqttClient,
    private readonly inflightMax = DEFAULT_INFLIGHT,
  ) {}

  async publish(topic: string, payload: string, retain = false): Promise<void> {
    this.inflight.push(this.client.publishAsync(topic, payload, { qos: 1, retain }));
    this.messages++;
    if (this.inflight.length >= this.inflightMax) await this.flush();
  }

  /** Waits for every PUBACK. */
  async flush(): Promise<void> {
    const all = this.inflight;
    this.inflight = [];
    await Promise.all(all);
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
  private readonly out: Publisher;
  private pending: EdgeReading[] = [];
  private windowEnd = -Infinity;
  readings = 0;

  constructor(
    client: MqttClient,
    private readonly o: WindowPublisherOptions,
    /** Called before a window is sent with its end (event time); may wait (real-time pacing). */
    private readonly beforeWindow?: (windowEnd: number) => Promise<void>,
  ) {
    this.window_ms = o.window_ms ?? DEFAULT_WINDOW_MS;
    this.maxBatch = o.maxBatch ?? DEFAULT_MAX_BATCH;
    this.out = new Publisher(client, o.inflight ?? DEFAULT_INFLIGHT);
  }

  /** Messages sent so far. */
  get messages(): number {
    return this.out.messages;
  }

  async add(items: readonly EdgeReading[]): Promise<void> {
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
    await this.out.flush();
  }

  private async send(): Promise<void> {
    const items = this.pending;
    this.pending = [];
    await this.beforeWindow?.(this.windowEnd);
    // Per topic, in (rank, first appearance) order; each topic's readings keep their order.
    const topics = new Map<string, { rank: number; batch: WirePayload[] }>();
    for (const it of items) {
      const topic = `${this.o.topicPrefix}/${it.cell}/${it.channel}`;
      let t = topics.get(topic);
      if (t === undefined) topics.set(topic, (t = { rank: CHANNEL_RANK[it.channel], batch: [] }));
      t.batch.push(wirePayload(it));
    }
    const ordered = [...topics].sort((a, b) => a[1].rank - b[1].rank);
    for (const [topic, { batch }] of ordered) {
      for (let i = 0; i < batch.length; i += this.maxBatch) {
        const part = batch.length <= this.maxBatch ? batch : batch.slice(i, i + this.maxBatch);
        this.readings += part.length;
        await this.out.publish(topic, JSON.stringify(part));
      }
    }
  }
}

/** One reading as it goes on the wire (`unit` and `cycle` only when present). */
interface WirePayload {
  readonly ts: number;
  readonly value: number;
  readonly unit?: string;
  readonly cycle?: number;
}

function wirePayload(r: EdgeReading): WirePayload {
  if (r.cycle !== undefined)
    return r.unit === undefined ? { ts: r.ts, value: r.value, cycle: r.cycle } : { ts: r.ts, value: r.value, unit: r.unit, cycle: r.cycle };
  return r.unit === undefined ? { ts: r.ts, value: r.value } : { ts: r.ts, value: r.value, unit: r.unit };
}
