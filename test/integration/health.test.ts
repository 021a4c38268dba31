/**
 * The daemon's health over HTTP, against real services: a real Mosquitto, the daemon, VictoriaMetrics as its
 * InfluxDB, and the HealthServer on a free port. Readings are published with exactly known outcomes
 * (accepted, duplicate, late, bare, rejected by reason); the /metrics scrape must show exactly those numbers.
 * /readyz must flip to 503 when the broker stops and when InfluxDB stops, and back to 200 when they return.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../pipelines/daemon.js';
import { healthSourceFor } from '../../pipelines/health.js';
import { HealthServer } from '../../src/adapters/health-server.js';
import { createLogger } from '../../src/adapters/log.js';
import { parseConfig } from '../../src/config/schema.js';
import { parsePrometheus, type PromScrape } from '../support/prometheus.js';
import { startMosquitto, startVictoriaMetrics, type MosquittoHandle, type VmHandle } from '../support/services.js';
import { until } from '../support/square-cells.js';

const LATENESS_MS = 2_000;
/** An hour ago, on a whole second: event time clearly apart from arrival time. */
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const DAY_MS = 86_400_000;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const json = (v: unknown): string => JSON.stringify(v);

/*
 * Cell h1 (deterministic event times):
 *   60 current readings T0…T0+59 s, 120 pressure readings T0…T0+59.5 s       → 180 accepted; watermark T0+57 s
 *   the 60 current readings again (QoS 1 redelivery)                          → 60 duplicate
 *   10 pressure readings a day earlier (a device flushing an old buffer)      → 10 late
 *   a batch of 3 current readings, the middle one in psi                      → 2 accepted, 1 unknown_unit
 *   then one message each: invalid_json, schema, bad_timestamp ×2, unit_not_for_channel
 * Watermark after all: min(current T0+62 s, pressure T0+59.5 s) − 2 s = T0+57.5 s; newest T0+62 s → lag 4.5 s;
 * buffered (ts > watermark): current 58, 59, 60, 62 s and pressure 58, 58.5, 59, 59.5 s → 8.
 *
 * Cell h2: 5 pressure readings T0…T0+4 s, a bare current number (stamped on arrival), a step batch of two bare
 * numbers (2 × schema), a current batch of one good reading and one with a string value (1 accepted, 1 schema)
 *   → accepted 7, bare 1, rejected schema 3; watermark = T0+4 s − 2 s; buffered 4 (pressure 3 s, 4 s; current 5 s, bare).
 */
const CURRENT_H1 = range(60).map((i) => ({ ts: T0 + i * 1000, value: 1.0, unit: 'mA' }));
const MESSAGES: { topic: string; payload: string }[] = [
  { topic: 'oep/h1/current', payload: json(CURRENT_H1) },
  { topic: 'oep/h1/pressure', payload: json(range(120).map((i) => ({ ts: T0 + i * 500, value: 15 + i * 0.001 }))) },
  { topic: 'oep/h1/current', payload: json(CURRENT_H1) },
  { topic: 'oep/h1/pressure', payload: json(range(10).map((i) => ({ ts: T0 - DAY_MS + i * 1000, value: 14.9 }))) },
  {
    topic: 'oep/h1/current',
    payload: json([
      { ts: T0 + 60_000, value: 1 },
      { ts: T0 + 61_000, value: 1, unit: 'psi' },
      { ts: T0 + 62_000, value: 1 },
    ]),
  },
  { topic: 'oep/h1/pressure', payload: '{"ts": 1' },
  { topic: 'oep/h1/pressure', payload: '{"value": 15}' },
  { topic: 'oep/h1/current', payload: json({ ts: 'not a date', value: 1 }) },
  { topic: 'oep/h1/current', payload: json({ ts: 12345, value: 1 }) },
  { topic: 'oep/h1/current', payload: json({ ts: T0 + 63_000, value: 1, unit: 'MPa' }) },
  { topic: 'oep/h2/pressure', payload: json(range(5).map((i) => ({ ts: T0 + i * 1000, value: 12 }))) },
  { topic: 'oep/h2/current', payload: '0.5' },
  { topic: 'oep/h2/step', payload: '[1, 2]' },
  {
    topic: 'oep/h2/current',
    payload: json([
      { ts: T0 + 5_000, value: 1 },
      { ts: T0 + 6_000, value: 'x' },
    ]),
  },
];

const EXPECTED = {
  h1: {
    accepted: 182,
    duplicate: 60,
    late: 10,
    bare: 0,
    rejected: { unknown_unit: 1, invalid_json: 1, schema: 1, bad_timestamp: 2, unit_not_for_channel: 1 },
    buffered: 8,
    lag_s: 4.5,
    newest_s: (T0 + 62_000) / 1000,
  },
  h2: { accepted: 7, duplicate: 0, late: 0, bare: 1, rejected: { schema: 3 }, buffered: 4 },
};

/** Publishes in order from one client (QoS 1, each acknowledged before the next: the broker keeps the order). */
async function publishInOrder(url: string, msgs: readonly { topic: string; payload: string }[]): Promise<{ from: number; to: number }> {
  const client = await mqtt.connectAsync(url, { clientId: `pub-health-${process.pid}`, clean: true });
  const from = Date.now();
  for (const m of msgs) await client.publishAsync(m.topic, m.payload, { qos: 1 });
  const to = Date.now();
  await client.endAsync();
  return { from, to };
}

async function get(url: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

describe('daemon health: /healthz, /readyz, /metrics against Mosquitto and VictoriaMetrics', () => {
  let broker: MosquittoHandle;
  let vm: VmHandle;
  let daemon: Daemon;
  let health: HealthServer;
  let base: string;
  let published: { from: number; to: number };
  const out = mkdtempSync(join(tmpdir(), 'oep-health-'));

  const scrape = async (): Promise<PromScrape> => {
    const r = await get(`${base}/metrics`);
    expect(r.status).toBe(200);
    return parsePrometheus(r.body);
  };

  beforeAll(async () => {
    [broker, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    const config = parseConfig({
      mqtt: { url: broker.url, clientId: 'oep-it-health' },
      influx: { url: vm.url, org: 'lab', bucket: 'oep', token: 'test', flushInterval_ms: 200 },
      output: { dir: out },
      // A long idle timeout: nothing is released behind the test's back, so "buffered" is exact.
      alignment: { lateness_ms: LATENESS_MS, idleTimeout_ms: 600_000 },
      health: { host: '127.0.0.1', port: 0 },
    });
    daemon = new Daemon({ config, log: createLogger('error') });
    await daemon.start();
    // The daemon's own health server (port 0: any free port), and a second one over the same daemon
    // with a short stall bound so that an InfluxDB outage shows within the test (default 30 s).
    expect(daemon.healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    health = new HealthServer(healthSourceFor(daemon, { influxStall_ms: 1_500 }), { host: '127.0.0.1', port: 0 });
    base = (await health.start()).url;
    published = await publishInOrder(broker.url, MESSAGES);
  });

  afterAll(async () => {
    await health?.stop();
    await daemon?.stop();
    await Promise.all([broker?.stop(), vm?.stop()]);
    rmSync(out, { recursive: true, force: true });
  });

  it('/healthz answers 200; unknown paths 404; other methods 405', async () => {
    const h = await get(`${base}/healthz`);
    expect(h.status).toBe(200);
    expect(JSON.parse(h.body)).toMatchObject({ status: 'ok' });
    expect((await get(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('/metrics counts exactly what was published: accepted, duplicate, late, bare, rejected by reason', async () => {
    const m = await until(
      async () => {
        const s = await scrape();
        return s.value('oep_mqtt_messages_received_total') === MESSAGES.length ? s : undefined;
      },
      20_000,
      `${MESSAGES.length} messages received`,
    );
    expect(m.types.get('oep_readings_accepted_total')).toBe('counter');
    expect(m.types.get('oep_watermark_lag_seconds')).toBe('gauge');
    for (const [cell, e] of Object.entries(EXPECTED)) {
      expect(m.value('oep_readings_accepted_total', { cell }), `${cell} accepted`).toBe(e.accepted);
      expect(m.value('oep_readings_duplicate_total', { cell }), `${cell} duplicate`).toBe(e.duplicate);
      expect(m.value('oep_readings_late_total', { cell }), `${cell} late`).toBe(e.late);
      expect(m.value('oep_readings_bare_total', { cell }), `${cell} bare`).toBe(e.bare);
      expect(m.value('oep_readings_buffered', { cell }), `${cell} buffered`).toBe(e.buffered);
      const rejected: Record<string, number> = {};
      for (const s of m.all('oep_readings_rejected_total', { cell })) rejected[s.labels.reason ?? ''] = s.value;
      expect(rejected, `${cell} rejected`).toEqual(e.rejected);
    }
    expect(m.value('oep_watermark_lag_seconds', { cell: 'h1' })).toBe(EXPECTED.h1.lag_s);
    expect(m.value('oep_newest_reading_timestamp_seconds', { cell: 'h1' })).toBe(EXPECTED.h1.newest_s);
    // h2's newest reading is the bare number, stamped with its arrival time.
    const newest2 = m.value('oep_newest_reading_timestamp_seconds', { cell: 'h2' })! * 1000;
    expect(newest2).toBeGreaterThanOrEqual(published.from);
    expect(newest2).toBeLessThanOrEqual(published.to + 1000);
    expect(m.value('oep_watermark_lag_seconds', { cell: 'h2' })).toBeCloseTo((newest2 - (T0 + 4_000 - LATENESS_MS)) / 1000, 6);
    expect(m.value('oep_mqtt_connected')).toBe(1);
    expect(m.value('oep_ready')).toBe(1);
    // No step has closed yet in this little data; steps/cycles agree with the daemon's own counters.
    for (const cell of ['h1', 'h2']) {
      expect(m.value('oep_steps_total', { cell })).toBe(daemon.lab.cell(cell).counters.steps);
      expect(m.value('oep_cycles_total', { cell })).toBe(daemon.lab.cell(cell).counters.cycles);
    }
    // Process metrics from prom-client.
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('/metrics follows the points toward InfluxDB: the late readings are written, none pending or dropped', async () => {
    const m = await until(
      async () => {
        const s = await scrape();
        const enq = s.value('oep_influx_points_enqueued_total') ?? 0;
        return enq >= EXPECTED.h1.late && s.value('oep_influx_points_written_total') === enq ? s : undefined;
      },
      20_000,
      'late readings written to InfluxDB',
    );
    // The only lab events so far are the 10 late readings (oep_late); nothing else has been written.
    expect(m.value('oep_influx_points_enqueued_total')).toBe(EXPECTED.h1.late);
    expect(m.value('oep_influx_points_pending')).toBe(0);
    expect(m.value('oep_influx_points_dropped_total')).toBe(0);
    expect(m.value('oep_influx_failing')).toBe(0);
    const late = readFileSync(join(out, 'late.csv'), 'utf8').trim().split('\n');
    expect(late).toHaveLength(1 + EXPECTED.h1.late);
    const r = await get(`${base}/readyz`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ready: true, reasons: [], pipeline: 'running', mqtt: 'connected', influx: 'ok' });
  });

  it('/readyz answers 503 while the broker is down and 200 once the daemon has reconnected', async () => {
    await broker.stop();
    const down = await until(
      async () => {
        const r = await get(`${base}/readyz`);
        return r.status === 503 ? r : undefined;
      },
      15_000,
      '/readyz 503 after the broker stopped',
    );
    expect(down.type).toContain('application/json');
    expect(JSON.parse(down.body)).toMatchObject({ ready: false, mqtt: 'disconnected', reasons: ['mqtt: not connected to the broker'] });
    expect((await scrape()).value('oep_mqtt_connected')).toBe(0);
    expect((await get(`${base}/healthz`)).status).toBe(200);
    await broker.restart();
    await until(async () => ((await get(`${base}/readyz`)).status === 200 ? true : undefined), 20_000, '/readyz 200 after the broker restarted');
    expect((await scrape()).value('oep_mqtt_connected')).toBe(1);
  });

  it('/readyz answers 503 while InfluxDB does not accept writes, and 200 once it does again', async () => {
    await vm.stop();
    // The per-cell counters (oep_ingest) are points for InfluxDB: now they cannot be written.
    await daemon.checkpoint();
    const down = await until(
      async () => {
        const r = await get(`${base}/readyz`);
        return r.status === 503 ? r : undefined;
      },
      15_000,
      '/readyz 503 after InfluxDB stopped',
    );
    expect(JSON.parse(down.body)).toMatchObject({ ready: false, mqtt: 'connected', influx: 'failing' });
    const m = await scrape();
    expect(m.value('oep_influx_failing')).toBe(1);
    expect(m.value('oep_influx_points_pending')).toBe(2);
    await vm.restart();
    await until(async () => ((await get(`${base}/readyz`)).status === 200 ? true : undefined), 30_000, '/readyz 200 after InfluxDB restarted');
    const after = await scrape();
    expect(after.value('oep_influx_points_pending')).toBe(0);
    expect(after.value('oep_influx_points_written_total')).toBe(EXPECTED.h1.late + 2);
    expect(after.value('oep_influx_points_dropped_total')).toBe(0);
  });
});
