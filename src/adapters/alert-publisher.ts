/**
 * The MQTT alert sink: each incident event (open, escalate, resolve) on `<prefix>/<cell>/alerts` (QoS 1),
 * and the cell's open incidents retained on `<prefix>/<cell>/status`, so a dashboard that connects later
 * sees them. During a maintenance silence the events are not sent; the status still follows (it says so).
 * Both go through the adapter's publish queue: events are never replaced; a status waiting there is replaced
 * by the cell's next one (the retained topic keeps only the latest anyway).
 */
import type { AlertEvent, IncidentBook } from '../domain/alerts/incidents.js';
import { LEVEL_RANK, type AlertLevel } from '../domain/alerts/lifecycle.js';
import type { LabEvent } from '../domain/lab.js';
import type { MqttAdapter } from './mqtt.js';
import type { Sink, SinkReport } from './sink.js';

export interface AlertPublisherOptions {
  readonly topicPrefix: string;
  /** The cell's open incidents after the event (they make the status). */
  readonly incidentsOf: (cell: string) => IncidentBook;
  /** Until when (epoch ms) a maintenance silence covers the cell, if it does. */
  readonly silencedUntil?: (cell: string) => number | undefined;
}

export class AlertPublisher implements Sink {
  readonly name = 'mqtt-alerts';

  constructor(
    private readonly mqtt: Pick<MqttAdapter, 'publish' | 'publishCounts'>,
    private readonly o: AlertPublisherOptions,
  ) {}

  write(events: readonly LabEvent[]): void {
    for (const e of events) if (e.type === 'alert') this.publishAlert(e.alert);
  }

  private publishAlert(a: AlertEvent): void {
    const prefix = this.o.topicPrefix;
    const time = new Date(a.t).toISOString();
    if (!a.silenced) this.mqtt.publish(`${prefix}/${a.cell}/alerts`, JSON.stringify({ ...a, time }));
    const status = statusOf(a, this.o.incidentsOf(a.cell), this.o.silencedUntil?.(a.cell));
    this.mqtt.publish(`${prefix}/${a.cell}/status`, JSON.stringify(status), { retain: true, latest: true });
  }

  /** The adapter's queue goes on across reconnects, and the adapter hands it all to mqtt.js when it stops: nothing to wait for here. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Messages acknowledged, and those that failed, were refused by a full queue or were still unacknowledged
   * (a status replaced by a newer one before it was sent counts as neither).
   */
  close(): Promise<SinkReport> {
    const c = this.mqtt.publishCounts;
    return Promise.resolve({ written: c.acked, lost: c.accepted - c.acked - c.superseded });
  }

  /** Messages that failed or were refused so far. */
  get failures(): number {
    const c = this.mqtt.publishCounts;
    return c.failed + c.dropped;
  }
}

/** The retained status of a cell: its worst open incident, each open incident, the latest event. */
export function statusOf(a: AlertEvent, book: IncidentBook, silencedUntil: number | undefined): object {
  let level: AlertLevel = 'ok';
  const kinds: Record<string, AlertLevel> = {};
  const incidents = Object.values(book.open).map((i) => {
    kinds[i.kind] = i.level;
    if (LEVEL_RANK[i.level] > LEVEL_RANK[level]) level = i.level;
    return { ...i };
  });
  return {
    cell: a.cell,
    level,
    kinds,
    incidents,
    updated: new Date(a.t).toISOString(),
    lastMessage: a.message,
    ...(silencedUntil !== undefined ? { silencedUntil: new Date(silencedUntil).toISOString() } : {}),
  };
}
