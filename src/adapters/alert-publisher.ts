/**
 * The MQTT alert sink: each alert state change as an event on `<prefix>/<cell>/alerts` (QoS 1), and the
 * cell's alert state retained on `<prefix>/<cell>/status`, so a dashboard that connects later sees it.
 */
import { levels, worst, type AlertBook, type AlertEvent } from '../domain/alerts/lifecycle.js';
import type { LabEvent } from '../domain/lab.js';
import type { MqttAdapter } from './mqtt.js';
import type { Sink, SinkReport } from './sink.js';

export interface AlertPublisherOptions {
  readonly topicPrefix: string;
  /** The cell's alert book after the change (its worst level and the level of each kind go in the status). */
  readonly bookOf: (cell: string) => AlertBook;
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
    const book = this.o.bookOf(a.cell);
    this.send(`${prefix}/${a.cell}/alerts`, JSON.stringify({ ...a, time }), false);
    this.send(
      `${prefix}/${a.cell}/status`,
      JSON.stringify({ cell: a.cell, level: worst(book), kinds: levels(book), updated: time, lastMessage: a.message }),
      true,
    );
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
