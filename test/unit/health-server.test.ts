/** The health server over a hand-made source: readiness rules, metric values read at scrape time, alerts. */
import { afterEach, describe, expect, it } from 'vitest';
import { healthSourceFor, type HealthInputs } from '../../pipelines/health.js';
import { AlertTally } from '../../src/adapters/alert-tally.js';
import type { LabEvent } from '../../src/domain/lab.js';
import { readiness, type AlertCount, type CellHealth, type HealthSource, type InfluxHealth } from '../../src/adapters/health-metrics.js';
import { HealthServer } from '../../src/adapters/health-server.js';
import { parsePrometheus } from '../support/prometheus.js';
import { incidentEvent } from '../support/alert-event.js';

function fakeSource(): HealthSource & {
  connected: boolean;
  influxState: InfluxHealth | undefined;
  cellMap: Map<string, CellHealth>;
  alerts: AlertCount[];
  calls: number;
} {
  const s = {
    connected: true,
    influxState: undefined as InfluxHealth | undefined,
    cellMap: new Map<string, CellHealth>(),
    alerts: [] as AlertCount[],
    calls: 0,
    cells() {
      s.calls++;
      return s.cellMap.entries();
    },
    mqttConnected: () => s.connected,
    influx: () => s.influxState,
    alertsRaised: () => s.alerts,
    alertLevels: () => [
      { cell: 'fresh', kind: 'pressure_drop', level: 'critical' },
      { cell: 'fresh', kind: 'silence', level: 'ok' },
    ],
  };
  return s;
}

const counters = (accepted: number, rejected: Record<string, number> = {}): CellHealth['counters'] => ({
  accepted,
  duplicate: 0,
  late: 0,
  bare: 0,
  rejected,
  steps: 0,
  cycles: 0,
});

describe('HealthServer', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('readiness: MQTT connected, and InfluxDB ok or not configured', () => {
    const s = fakeSource();
    expect(readiness(s)).toEqual({ ready: true, reasons: [], pipeline: 'running', mqtt: 'connected', influx: 'not configured' });
    s.influxState = { enqueued: 5, written: 2, pending: 3, dropped: 0, failing: true };
    s.connected = false;
    const r = readiness(s);
    expect(r.ready).toBe(false);
    expect(r.reasons).toEqual(['mqtt: not connected to the broker', 'influx: writes are failing (3 lines pending)']);
    s.connected = true;
    s.influxState = { ...s.influxState, failing: false };
    expect(readiness(s).ready).toBe(true);
  });

  it('reads values at scrape time, one snapshot per scrape; labels escaped; absent lag before a watermark', async () => {
    const s = fakeSource();
    server = new HealthServer(s, { host: '127.0.0.1', port: 0, processMetrics: false });
    const { url } = await server.start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    s.cellMap.set('a"b\\c', { counters: counters(3, { schema: 2 }), watermark: 1_000, newestTs: 3_500, buffered: 4 });
    s.cellMap.set('fresh', { counters: counters(0), watermark: -Infinity, newestTs: 10_000, buffered: 1 });
    s.alerts = [
      { cell: 'fresh', kind: 'pressure_drop', level: 'warning', count: 2 },
      { cell: 'fresh', kind: 'ddpq_decline', level: 'critical', count: 1 },
    ];
    const calls = s.calls;
    const m = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
    expect(s.calls - calls).toBe(1);
    expect(m.value('oep_readings_accepted_total', { cell: 'a"b\\c' })).toBe(3);
    expect(m.value('oep_readings_rejected_total', { cell: 'a"b\\c', reason: 'schema' })).toBe(2);
    expect(m.value('oep_watermark_lag_seconds', { cell: 'a"b\\c' })).toBe(2.5);
    expect(m.value('oep_watermark_lag_seconds', { cell: 'fresh' })).toBeUndefined();
    expect(m.value('oep_readings_buffered', { cell: 'fresh' })).toBe(1);
    expect(m.value('oep_alerts_raised_total', { cell: 'fresh', kind: 'pressure_drop', level: 'warning' })).toBe(2);
    expect(m.value('oep_alerts_raised_total', { cell: 'fresh', kind: 'ddpq_decline', level: 'critical' })).toBe(1);
    expect(m.value('oep_alert_level', { cell: 'fresh', kind: 'pressure_drop' })).toBe(2);
    expect(m.value('oep_alert_level', { cell: 'fresh', kind: 'silence' })).toBe(0);
    expect(m.value('oep_influx_points_enqueued_total')).toBe(0);
    expect(m.value('process_resident_memory_bytes')).toBeUndefined();
    // Values follow the source; a cell that is gone disappears.
    s.cellMap.delete('fresh');
    s.cellMap.set('a"b\\c', { counters: counters(7), watermark: 2_000, newestTs: 3_000, buffered: 0 });
    const m2 = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
    expect(m2.value('oep_readings_accepted_total', { cell: 'a"b\\c' })).toBe(7);
    expect(m2.all('oep_readings_rejected_total')).toEqual([]);
    expect(m2.value('oep_readings_buffered', { cell: 'fresh' })).toBeUndefined();
  });

  it('/readyz: 503 with the reasons as JSON, 200 again when they are gone; HEAD has no body', async () => {
    const s = fakeSource();
    s.influxState = { enqueued: 1, written: 0, pending: 1, dropped: 0, failing: true };
    server = new HealthServer(s, { host: '127.0.0.1', port: 0, processMetrics: false });
    const { url } = await server.start();
    const r = await fetch(`${url}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ ready: false, influx: 'failing' });
    s.influxState = { ...s.influxState, written: 1, pending: 0, failing: false };
    const ok = await fetch(`${url}/readyz`, { method: 'HEAD' });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('');
  });

  it('start() fails loudly when the port is taken', async () => {
    server = new HealthServer(fakeSource(), { host: '127.0.0.1', port: 0, processMetrics: false });
    const { url } = await server.start();
    const port = Number(new URL(url).port);
    const second = new HealthServer(fakeSource(), { host: '127.0.0.1', port, processMetrics: false });
    await expect(second.start()).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+/);
  });
});

describe('healthSourceFor', () => {
  const daemonWith = (
    stats: { enqueued: number; written: number; pending: number; dropped: number } | undefined,
  ): { -readonly [K in keyof HealthInputs]: HealthInputs[K] } => ({
    lab: { cells: new Map() },
    mqtt: { connected: true, received: 0 },
    influxStats: stats,
  });

  it('without InfluxDB: influx() is undefined', () => {
    expect(healthSourceFor(daemonWith(undefined)).influx()).toBeUndefined();
  });

  it('InfluxDB counts as failing when points stay pending with nothing written for the stall bound', () => {
    let t = 0;
    const stats = { enqueued: 0, written: 0, pending: 0, dropped: 0 };
    const src = healthSourceFor(daemonWith(stats), { influxStall_ms: 1_000, now: () => t });
    expect(src.influx()?.failing).toBe(false);
    Object.assign(stats, { enqueued: 10, pending: 10 });
    t = 500;
    expect(src.influx()?.failing).toBe(false);
    t = 1_000;
    expect(src.influx()?.failing).toBe(true);
    // Some written: progress, not failing, even with more pending.
    Object.assign(stats, { enqueued: 20, written: 5, pending: 15 });
    t = 1_100;
    expect(src.influx()?.failing).toBe(false);
    t = 2_100;
    expect(src.influx()?.failing).toBe(true);
    Object.assign(stats, { written: 20, pending: 0 });
    expect(src.influx()?.failing).toBe(false);
  });

  it('reads the current alert levels from the cells’ alert books; raised alerts from the daemon’s tally', () => {
    const tally = new AlertTally();
    const alert = (kind: 'pressure_drop' | 'silence', level: 'ok' | 'warning' | 'critical', previous: 'ok' | 'warning' | 'critical'): LabEvent => ({
      type: 'alert',
      alert: incidentEvent({ cell: 'c1', kind, level, previous, t: 0, value: 1, threshold: 1, unit: 'kPa', message: '' }),
    });
    tally.write([
      alert('pressure_drop', 'warning', 'ok'),
      alert('pressure_drop', 'critical', 'warning'),
      alert('pressure_drop', 'warning', 'critical'),
      alert('pressure_drop', 'ok', 'warning'),
    ]);
    tally.write([alert('pressure_drop', 'warning', 'ok'), alert('silence', 'critical', 'ok')]);
    const aligner = { watermark: 0, newestTs: 0, buffered: 0, forcedReleases: 0 };
    const cells = new Map([
      ['c1', { counters: counters(0), aligner, alerts: { kinds: { pressure_drop: { level: 'warning' }, silence: { level: 'critical' } } } }],
    ]);
    const d: HealthInputs = { lab: { cells }, mqtt: { connected: true, received: 0 }, influxStats: undefined, alertTally: tally };
    const src = healthSourceFor(d);
    expect([...src.alertLevels!()]).toEqual([
      { cell: 'c1', kind: 'pressure_drop', level: 'warning' },
      { cell: 'c1', kind: 'silence', level: 'critical' },
    ]);
    expect([...src.alertsRaised!()]).toEqual([
      { cell: 'c1', kind: 'pressure_drop', level: 'warning', count: 2 },
      { cell: 'c1', kind: 'pressure_drop', level: 'critical', count: 1 },
      { cell: 'c1', kind: 'silence', level: 'critical', count: 1 },
    ]);
    // a daemon without a tally (a test double) exposes none
    expect([...healthSourceFor(daemonWith(undefined)).alertsRaised!()]).toEqual([]);
  });

  it('uses the daemon’s own influxFailing flag when it has one', () => {
    const d = daemonWith({ enqueued: 1, written: 1, pending: 0, dropped: 0 });
    d.influxFailing = true;
    expect(healthSourceFor(d).influx()?.failing).toBe(true);
  });

  it('readiness reflects a dead pipeline: 503 with the reason once the subscription errored or completed', () => {
    const d = daemonWith(undefined);
    expect(readiness(healthSourceFor(d))).toMatchObject({ ready: true, pipeline: 'running' });
    d.pipelineStopped = 'failed: Error: boom';
    expect(readiness(healthSourceFor(d))).toEqual({
      ready: false,
      reasons: ['pipeline: stopped: failed: Error: boom'],
      pipeline: 'stopped',
      mqtt: 'connected',
      influx: 'not configured',
    });
  });
});
