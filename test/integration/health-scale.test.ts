/**
 * /metrics of a daemon with many cells, against a real Mosquitto: 1,500 cells, each fed readings with known
 * outcomes (accepted, duplicate, rejected by reason). Over the default bound (1,000 cells) a scrape has no
 * per-cell series, and the lab-wide sums must be exactly what was fed; a second health server over the same
 * daemon with `perCellMetrics: true` must give every cell's own numbers, and a bound at the cell count must
 * turn them on (one below: off). The journal's size and the last checkpoint are there with state on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
import { startMosquitto, type MosquittoHandle } from '../support/services.js';
import { until } from '../support/square-cells.js';

const CELLS = 1_500;
const LATENESS_MS = 2_000;
/** A minute ago, on a whole second: every cell is active (newest reading under 10 min old). */
const T0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;

interface Fed {
  accepted: number;
  duplicate: number;
  rejected: Record<string, number>;
  /** Newest event time minus watermark, s. */
  lag_s: number;
}

/**
 * Cell i: k = 1 + i % 3 current readings (1 s apart) and 2 pressure readings (T0, T0 + 0.5 s); every 5th cell
 * its current batch again (k duplicates); every 7th a truncated JSON payload; every 11th a reading in psi.
 */
function messagesOf(i: number): { msgs: { topic: string; payload: string }[]; fed: Fed } {
  const cell = `s${i}`;
  const k = 1 + (i % 3);
  const current = JSON.stringify(Array.from({ length: k }, (_, j) => ({ ts: T0 + j * 1000, value: 1 })));
  const msgs: { topic: string; payload: string }[] = [
    { topic: `oep/${cell}/current`, payload: current },
    {
      topic: `oep/${cell}/pressure`,
      payload: JSON.stringify([
        { ts: T0, value: 12 },
        { ts: T0 + 500, value: 12 },
      ]),
    },
  ];
  const fed: Fed = { accepted: k + 2, duplicate: 0, rejected: {}, lag_s: 0 };
  if (i % 5 === 0) {
    msgs.push({ topic: `oep/${cell}/current`, payload: current });
    fed.duplicate = k;
  }
  if (i % 7 === 0) {
    msgs.push({ topic: `oep/${cell}/pressure`, payload: '{"ts": 1' });
    fed.rejected.invalid_json = 1;
  }
  if (i % 11 === 0) {
    msgs.push({ topic: `oep/${cell}/current`, payload: JSON.stringify([{ ts: T0 + 10_000, value: 1, unit: 'psi' }]) });
    fed.rejected.unknown_unit = 1;
  }
  // Watermark = min(newest current, newest pressure) − lateness; lag = the newest of both − watermark.
  const [current_ms, pressure_ms] = [T0 + (k - 1) * 1000, T0 + 500];
  fed.lag_s = (Math.max(current_ms, pressure_ms) - (Math.min(current_ms, pressure_ms) - LATENESS_MS)) / 1000;
  return { msgs, fed };
}

const FEEDS = Array.from({ length: CELLS }, (_, i) => ({ cell: `s${i}`, ...messagesOf(i) }));
const MESSAGES = FEEDS.flatMap((f) => f.msgs);
const sum = (f: (x: Fed) => number): number => FEEDS.reduce((s, x) => s + f(x.fed), 0);

describe(`/metrics of a daemon with ${CELLS.toLocaleString('en')} cells: lab-wide sums always, per-cell series as configured`, () => {
  let broker: MosquittoHandle;
  let daemon: Daemon;
  const servers: HealthServer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'oep-health-scale-'));

  const scrape = async (url: string): Promise<PromScrape> => {
    const r = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
    expect(r.status).toBe(200);
    return parsePrometheus(await r.text());
  };
  const serve = async (perCellMetrics: boolean | number): Promise<string> => {
    const s = new HealthServer(healthSourceFor(daemon), { host: '127.0.0.1', port: 0, perCellMetrics });
    servers.push(s);
    return (await s.start()).url;
  };

  beforeAll(async () => {
    broker = await startMosquitto();
    const config = parseConfig({
      mqtt: { url: broker.url, clientId: 'oep-it-health-scale' },
      state: { dir: join(dir, 'state') },
      // A long idle timeout: nothing is released behind the test's back, so "buffered" is every accepted reading.
      alignment: { lateness_ms: LATENESS_MS, idleTimeout_ms: 600_000 },
      health: { host: '127.0.0.1', port: 0 },
      // Named, as a lab runs them (cells the config does not name are capped at edge.maxUnknownCells).
      cells: FEEDS.map((f) => ({ id: f.cell })),
    });
    daemon = new Daemon({ config, log: createLogger('error') });
    await daemon.start();
    const client = await mqtt.connectAsync(broker.url, { clientId: `pub-health-scale-${process.pid}`, clean: true });
    // One client, QoS 1: the broker keeps the order, so each cell's rejections come after its first reading.
    await Promise.all(MESSAGES.map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })));
    await client.endAsync();
    const url = daemon.healthUrl ?? '';
    await until(
      async () => ((await scrape(url)).value('oep_mqtt_messages_received_total') === MESSAGES.length ? true : undefined),
      60_000,
      `${MESSAGES.length} messages received`,
    );
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await s.stop();
    await daemon?.stop();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('by default (more cells than the bound): no per-cell series, and lab-wide sums equal to what was fed', async () => {
    const m = await scrape(daemon.healthUrl ?? '');
    expect(m.samples.filter((s) => 'cell' in s.labels)).toEqual([]);
    expect(m.all('oep_readings_accepted_total')).toEqual([]);
    expect(m.value('oep_metrics_per_cell')).toBe(0);
    expect(m.value('oep_cells', { kind: 'configured' })).toBe(CELLS);
    expect(m.value('oep_cells_active')).toBe(CELLS);
    expect(m.value('oep_lab_readings_accepted_total')).toBe(sum((f) => f.accepted));
    expect(m.value('oep_lab_readings_duplicate_total')).toBe(sum((f) => f.duplicate));
    expect(m.value('oep_lab_readings_late_total')).toBe(0);
    expect(m.value('oep_lab_readings_rejected_total', { reason: 'invalid_json' })).toBe(sum((f) => f.rejected.invalid_json ?? 0));
    expect(m.value('oep_lab_readings_rejected_total', { reason: 'unknown_unit' })).toBe(sum((f) => f.rejected.unknown_unit ?? 0));
    expect(m.all('oep_lab_readings_rejected_total')).toHaveLength(2);
    expect(m.value('oep_lab_readings_buffered')).toBe(sum((f) => f.accepted));
    expect(m.value('oep_lab_watermark_lag_max_seconds')).toBe(Math.max(...FEEDS.map((f) => f.fed.lag_s)));
    expect(m.value('oep_lab_steps_total')).toBe(0);
    const open = { warning: 0, critical: 0 };
    for (const c of daemon.lab.cells.values())
      for (const a of Object.values(c.alerts.kinds)) if (a?.level === 'warning' || a?.level === 'critical') open[a.level]++;
    expect(m.value('oep_alerts_open', { level: 'warning' })).toBe(open.warning);
    expect(m.value('oep_alerts_open', { level: 'critical' })).toBe(open.critical);
    expect(m.value('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('the journal holds the messages since the last checkpoint; a checkpoint empties it and is timed', async () => {
    const before = await scrape(daemon.healthUrl ?? '');
    expect(before.value('oep_journal_bytes')).toBeGreaterThan(MESSAGES.reduce((s, m) => s + m.payload.length, 0));
    const first = before.value('oep_checkpoint_last_timestamp_seconds') ?? NaN;
    const t = Date.now();
    await daemon.checkpoint();
    const after = await scrape(daemon.healthUrl ?? '');
    expect(after.value('oep_journal_bytes')).toBe(0);
    // every PUBACK waited for an fdatasync of the journal (counted)
    expect(before.value('oep_journal_syncs_total')).toBeGreaterThan(0);
    expect(after.value('oep_journal_syncs_total')).toBeGreaterThanOrEqual(before.value('oep_journal_syncs_total') ?? Infinity);
    expect(after.value('oep_checkpoint_last_timestamp_seconds')).toBeGreaterThan(first);
    expect(after.value('oep_checkpoint_duration_seconds')).toBeGreaterThan(0);
    expect(after.value('oep_checkpoint_duration_seconds')).toBeLessThanOrEqual((Date.now() - t) / 1000);
    // Its longest piece of work in one turn of the event loop: part of the whole (counters a slice at a time, the state's slices).
    expect(after.value('oep_checkpoint_longest_block_seconds')).toBeGreaterThan(0);
    expect(after.value('oep_checkpoint_longest_block_seconds')).toBeLessThan(after.value('oep_checkpoint_duration_seconds') ?? 0);
    expect(after.value('oep_checkpoint_longest_block_max_seconds')).toBeGreaterThanOrEqual(after.value('oep_checkpoint_longest_block_seconds') ?? Infinity);
  });

  it('perCellMetrics: true gives every cell its own numbers, which add up to the lab-wide sums', async () => {
    const m = await scrape(await serve(true));
    expect(m.value('oep_metrics_per_cell')).toBe(1);
    expect(m.all('oep_readings_accepted_total')).toHaveLength(CELLS);
    // Each cell's samples, by metric name (and reason), read once: m.value() per cell would scan the scrape each time.
    const got = new Map<string, Record<string, number>>();
    for (const s of m.samples) {
      const cell = s.labels.cell;
      if (cell === undefined) continue;
      const row = got.get(cell) ?? {};
      row[s.labels.reason === undefined ? s.name : `${s.name}/${s.labels.reason}`] = s.value;
      got.set(cell, row);
    }
    for (const { cell, fed } of FEEDS) {
      const rejected = Object.fromEntries(Object.entries(fed.rejected).map(([reason, n]) => [`oep_readings_rejected_total/${reason}`, n]));
      expect(got.get(cell), cell).toMatchObject({
        oep_readings_accepted_total: fed.accepted,
        oep_readings_duplicate_total: fed.duplicate,
        oep_readings_late_total: 0,
        oep_readings_buffered: fed.accepted,
        oep_watermark_lag_seconds: fed.lag_s,
        ...rejected,
      });
      const reasons = Object.keys(got.get(cell) ?? {}).filter((k) => k.startsWith('oep_readings_rejected_total/'));
      expect(reasons.sort(), cell).toEqual(Object.keys(rejected).sort());
    }
    const total = (name: string): number => m.all(name).reduce((s, x) => s + x.value, 0);
    expect(total('oep_readings_accepted_total')).toBe(m.value('oep_lab_readings_accepted_total'));
    expect(total('oep_readings_rejected_total')).toBe(total('oep_lab_readings_rejected_total'));
  });

  it('a bound in cells: per-cell series while the lab holds at most that many', async () => {
    const [at, below] = await Promise.all([serve(CELLS), serve(CELLS - 1)]);
    const on = await scrape(at);
    expect(on.all('oep_readings_accepted_total')).toHaveLength(CELLS);
    const off = await scrape(below);
    expect(off.samples.filter((s) => 'cell' in s.labels)).toEqual([]);
    expect(off.value('oep_lab_readings_accepted_total')).toBe(on.value('oep_lab_readings_accepted_total'));
  });
});
