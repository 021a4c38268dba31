/**
 * The MQTT alert sink: each incident event (open, escalate, resolve) on `<prefix>/<cell>/alerts` (QoS 1),
 * and the cell's open incidents retained on `<prefix>/<cell>/status`, so a dashboard that connects later
 * sees them. During a maintenance silence the events are not sent; the status still follows (it says so).
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
  private sent = 0;
  private acked = 0;
  private failed = 0;

  constructor(
    private readonly mqtt: Pick<MqttAdapter, 'publish'>,
    private readonly o: AlertPublisherOptions,
  ) {}

  write(events: readonly LabEvent[]): void {
    for (const e of events) if (e.type === 'alert') this.publishAlert(e.alert);
  }

  private publishAlert(a: AlertEvent): void {
    const prefix = this.o.topicPrefix;
    const time = new Date(a.t).toISOString();
    if (!a.silenced) this.send(`${prefix}/${a.cell}/alerts`, JSON.stringify({ ...a, time }), false);
    this.send(`${prefix}/${a.cell}/status`, JSON.stringify(statusOf(a, this.o.incidentsOf(a.cell), this.o.silencedUntil?.(a.cell))), true);
  }

  private send(topic: string, payload: string, retain: boolean): void {
    this.sent++;
    this.mqtt.publish(topic, payload, { qos: 1, retain }, (e) => {
      if (e === undefined) this.acked++;
      else this.failed++;
    });
  }

  /** The MQTT client keeps its own queue across reconnects: nothing to wait for here. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Messages acknowledged, and those that failed or were still unacknowledged. */
  close(): Promise<SinkReport> {
    return Promise.resolve({ written: this.acked, lost: this.sent - this.acked });
  }

  /** Messages that failed so far. */
  get failures(): number {
    return this.failed;
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
