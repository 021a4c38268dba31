/**
 * The daemon's alert and status messages while the broker is away (real Mosquitto, stopped and started
 * again): at most `publishInflight` of them wait in MQTT.js, the others in the adapter's publish queue as
 * bytes, a cell's status waiting there is replaced by its next one; once the broker is back every alert
 * arrives, in order and as sent, and each cell's retained status is its latest. A queue given too few bytes
 * refuses events: counted, logged and on /metrics, never silently.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertPublisher, statusOf } from '../../src/adapters/alert-publisher.js';
import { HealthMetrics } from '../../src/adapters/health-metrics.js';
import { MqttAdapter } from '../../src/adapters/mqtt.js';
import type { AlertEvent, IncidentBook } from '../../src/domain/alerts/incidents.js';
import { incidentEvent } from '../support/alert-event.js';
import { startMosquitto, type MosquittoHandle } from '../support/services.js';
import { untilTrue } from '../support/until.js';

const CELLS = 40;
const EVENTS_PER_CELL = 50;
const INFLIGHT = 8;
const T0 = 1_760_000_000_000;

let broker: MosquittoHandle;

beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.stop();
});

async function connected(client: MqttClient): Promise<MqttClient> {
  if (!client.connected) await new Promise((resolve) => client.once('connect', resolve));
  return client;
}

/** MQTT.js's table of QoS 1 messages awaiting their PUBACK, in the adapter's client (private: reached for the test). */
function mqttJsOutgoing(adapter: MqttAdapter): number {
  const client: unknown = Reflect.get(adapter, 'client');
  const outgoing: unknown = typeof client === 'object' && client !== null ? Reflect.get(client, 'outgoing') : undefined;
  return typeof outgoing === 'object' && outgoing !== null ? Object.keys(outgoing).length : -1;
}

/** The k-th alert event of a cell (levels alternate, so each one escalates or eases), with a σ and a ≥ in its text. */
function eventOf(cell: string, k: number): AlertEvent {
  const level = k % 2 === 0 ? 'warning' : 'critical';
  const previous = k === 0 ? 'ok' : k % 2 === 0 ? 'critical' : 'warning';
  const message = `${cell}: pressure fell ${String(k)} kPa from the step's running maximum (σ 4 kPa, ≥ 3 counts)`;
  return incidentEvent({ cell, kind: 'pressure_drop', level, previous, t: T0 + k * 60_000, value: k, threshold: 10, unit: 'kPa', message }, k);
}

describe('alert and status publishing while the broker is away', () => {
  it('keeps at most publishInflight in MQTT.js, the rest as bytes, one status per cell; then delivers every alert and the latest statuses', async () => {
    const cells = Array.from({ length: CELLS }, (_, c) => `q${String(c)}`);
    // A dashboard with a persistent session: what is published while it is away waits for it at the broker.
    const received = new Map<string, unknown[]>(cells.map((c) => [c, []]));
    const sub = await connected(mqtt.connect(broker.url, { clientId: 'pq-dashboard', clean: false, reconnectPeriod: 200 }));
    await sub.subscribeAsync({ 'oep/+/alerts': { qos: 1 } });
    sub.on('message', (topic, payload) => {
      received.get(topic.split('/')[1] ?? '')?.push(JSON.parse(payload.toString()));
    });

    const warnings: string[] = [];
    const adapter = new MqttAdapter({
      url: broker.url,
      topicPrefix: 'oep',
      clientId: 'pq-daemon',
      cleanSession: false,
      qos: 1,
      publishInflight: INFLIGHT,
      warn: (m) => warnings.push(m),
    });
    await adapter.start();
    const books = new Map<string, IncidentBook>(cells.map((c) => [c, { open: {} }]));
    const publisher = new AlertPublisher(adapter, { topicPrefix: 'oep', incidentsOf: (c) => books.get(c) ?? { open: {} } });

    await broker.stop();
    await untilTrue(
      () => !adapter.connected,
      10_000,
      () => 'the adapter to see the broker gone',
    );
    const sent = new Map<string, unknown[]>(cells.map((c) => [c, []]));
    const latest = new Map<string, string>();
    let eventBytes = 0;
    for (let k = 0; k < EVENTS_PER_CELL; k++) {
      for (const cell of cells) {
        const a = eventOf(cell, k);
        books.set(cell, { open: { pressure_drop: a.incident } });
        publisher.write([{ type: 'alert', alert: a }]);
        const payload = JSON.stringify({ ...a, time: new Date(a.t).toISOString() });
        sent.get(cell)?.push(JSON.parse(payload));
        eventBytes += 7 + Buffer.byteLength(`oep/${cell}/alerts`) + Buffer.byteLength(payload);
        latest.set(cell, JSON.stringify(statusOf(a, books.get(cell) ?? { open: {} }, undefined)));
      }
    }

    // The bound: MQTT.js holds INFLIGHT messages (the first ones), the queue the rest, statuses one per cell.
    const c = adapter.publishCounts;
    const total = CELLS * EVENTS_PER_CELL;
    expect(c.accepted).toBe(2 * total);
    expect(c.inflight).toBe(INFLIGHT);
    expect(mqttJsOutgoing(adapter)).toBe(INFLIGHT);
    const alertsInFlight = INFLIGHT / 2; // alert, status, alert, status, … of the first cells
    expect(c.queued).toBe(total - alertsInFlight + CELLS);
    expect(c.superseded).toBe(total - CELLS - alertsInFlight);
    const firstBytes = cells
      .slice(0, alertsInFlight)
      .reduce((n, cell) => n + 7 + Buffer.byteLength(`oep/${cell}/alerts`) + Buffer.byteLength(JSON.stringify(sent.get(cell)?.[0])), 0);
    expect(c.queuedBytes).toBe(eventBytes - firstBytes);
    expect(c.dropped).toBe(0);

    await broker.start();
    await untilTrue(
      () => adapter.publishCounts.acked === 2 * total - adapter.publishCounts.superseded,
      60_000,
      () => `every message acknowledged (${JSON.stringify(adapter.publishCounts)})`,
    );
    await untilTrue(
      () => [...received.values()].reduce((n, r) => n + r.length, 0) >= total,
      30_000,
      () => `${String(total)} alerts at the dashboard (${String([...received.values()].reduce((n, r) => n + r.length, 0))})`,
    );
    // Every alert, once, in order, as sent.
    for (const cell of cells) expect(received.get(cell)).toEqual(sent.get(cell));
    expect(adapter.publishCounts.failed).toBe(0);

    // Each cell's retained status is its latest (a newcomer gets the retained messages at once).
    const statuses = new Map<string, string>();
    const late = await connected(mqtt.connect(broker.url, { clientId: 'pq-newcomer', clean: true }));
    late.on('message', (topic, payload) => {
      const cell = topic.split('/')[1] ?? '';
      if (cell !== '_daemon') statuses.set(cell, payload.toString());
    });
    await late.subscribeAsync({ 'oep/+/status': { qos: 1 } });
    await untilTrue(
      () => statuses.size >= CELLS,
      10_000,
      () => `${String(CELLS)} retained statuses (${String(statuses.size)})`,
    );
    expect(statuses).toEqual(latest);

    expect(await publisher.close()).toEqual({ written: 2 * total - adapter.publishCounts.superseded, lost: 0 });
    expect(warnings.filter((w) => w.includes('DROPPED'))).toEqual([]);
    await adapter.stop();
    await Promise.all([sub.endAsync(), late.endAsync()]);
  }, 120_000);

  it('refuses events past publishQueueBytes: counted, logged, on /metrics; the rest still arrive', async () => {
    const warnings: string[] = [];
    const adapter = new MqttAdapter({
      url: broker.url,
      topicPrefix: 'oep',
      clientId: 'pq-daemon-small',
      cleanSession: true,
      qos: 1,
      publishInflight: 2,
      publishQueueBytes: 4_096,
      warn: (m) => warnings.push(m),
    });
    await adapter.start();
    await broker.stop();
    await untilTrue(
      () => !adapter.connected,
      10_000,
      () => 'the adapter to see the broker gone',
    );
    const payload = JSON.stringify({ text: 'x'.repeat(1_000) });
    for (let k = 0; k < 10; k++) adapter.publish(`oep/full/alerts`, payload);
    // two in MQTT.js, three of ~1 KB fill the 4 KB queue, five refused
    expect(adapter.publishCounts).toMatchObject({ accepted: 10, inflight: 2, queued: 3, dropped: 5 });
    expect(warnings.filter((w) => w.includes('DROPPED'))).toHaveLength(1);
    expect(warnings[0]).toMatch(/DROPPED 1 message\(s\) to publish \(latest on oep\/full\/alerts; 1 in all\)/);
    const metrics = new HealthMetrics({
      cells: () => [],
      mqttConnected: () => adapter.connected,
      influx: () => undefined,
      mqttPublishes: () => adapter.publishCounts,
    });
    const text = await metrics.text();
    expect(text).toMatch(/^oep_mqtt_publish_dropped_total 5$/m);
    expect(text).toMatch(/^oep_mqtt_publish_queued 3$/m);
    expect(text).toMatch(/^oep_mqtt_publish_inflight 2$/m);

    await broker.start();
    await untilTrue(
      () => adapter.publishCounts.acked === 5,
      60_000,
      () => `5 acknowledged (${JSON.stringify(adapter.publishCounts)})`,
    );
    expect(adapter.publishCounts).toMatchObject({ acked: 5, failed: 0, dropped: 5, inflight: 0, queued: 0, queuedBytes: 0 });
    await adapter.stop();
  }, 120_000);
});
