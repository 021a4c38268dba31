/**
 * The README's recipe as a user runs it: `oep simulate --url … --speed 3600` into `oep run`, both through the
 * launcher (bin/oep.js), with a real Mosquitto and VictoriaMetrics (`/api/v2/write`) and a config that keeps the
 * daemon's defaults (in particular `alignment.maxFutureSkew_ms`, 24 h). Before the simulator started in the past,
 * its clock passed the daemon's skew bound after 24 s at 3600× and every later reading was rejected as
 * `bad_timestamp`; this run lasts ≈ 28 s of wall time (≈ 28 h of event time), so that would fail here.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimulator } from '../../pipelines/simulate.js';
import { demoCells } from '../../src/sim/scenarios.js';
import { launchDaemon, listening, type DaemonProcess } from '../support/daemon-process.js';
import { parsePrometheus, type PromScrape } from '../support/prometheus.js';
import { freePort, readInfluxFields, startMosquitto, startVictoriaMetrics, type MosquittoHandle, type VmHandle } from '../support/services.js';
import { until } from '../support/square-cells.js';

const LAUNCHER = fileURLToPath(new URL('../../bin/oep.js', import.meta.url));
/** Two demo cells at 1C, every channel at 1 Hz: 21 cycles ≈ 27.6 h of event time, ≈ 600,000 readings. */
const CELLS = 2;
const CYCLES = 21;
const SIM_FLAGS = ['--speed', '3600', '--cells', String(CELLS), '--cycles', String(CYCLES), '--rate', '1', '--hz', '1'];

async function scrape(healthUrl: string): Promise<PromScrape> {
  const res = await fetch(`${healthUrl}/metrics`);
  return parsePrometheus(await res.text());
}

const sum = (s: PromScrape, name: string): number => s.all(name).reduce((a, x) => a + x.value, 0);

/** `node bin/oep.js simulate …` to its end: exit code and what it printed. */
function simulate(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const proc = spawn(process.execPath, [LAUNCHER, 'simulate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    proc.on('exit', (code) => {
      resolve({ code, stderr });
    }),
  );
}

describe('README recipe: oep simulate into oep run, out of the box', () => {
  let broker: MosquittoHandle;
  let vm: VmHandle;
  let daemon: DaemonProcess | undefined;

  beforeAll(async () => {
    [broker, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
  }, 60_000);

  afterAll(async () => {
    if (daemon?.proc.exitCode === null) {
      daemon.proc.kill('SIGTERM');
      await daemon.exited;
    }
    await Promise.all([broker.stop(), vm.stop()]);
  });

  it('20 cycles per cell at 3600×: no reading rejected, every cycle in the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-recipe-'));
    const port = await freePort();
    const config = join(dir, 'oep.yaml');
    // What a user writes: the broker, the database, files, /metrics. Only the idle timeout is shortened, so the
    // last readings are released 5 s (not 30 s) after the simulator stops.
    writeFileSync(
      config,
      [
        `mqtt: { url: "${broker.url}" }`,
        `influx: { url: "${vm.url}", org: lab, bucket: oep, token: t, flushInterval_ms: 200 }`,
        `output: { dir: "${join(dir, 'out')}" }`,
        `health: { port: ${port} }`,
        'alignment: { idleTimeout_ms: 5000 }',
        '',
      ].join('\n'),
    );
    daemon = launchDaemon(config);
    await listening(daemon);
    const healthUrl = `http://127.0.0.1:${port}`;

    const t0 = Date.now();
    const sim = await simulate(['--url', broker.url, ...SIM_FLAGS]);
    const wall_s = (Date.now() - t0) / 1000;
    expect(sim.code, sim.stderr).toBe(0);
    // It says where its clock starts, and why.
    expect(sim.stderr).toMatch(
      /oep simulate: event time starts at \S+Z, 2[5-9]\.\d h ago \(the simulated span of the run\): at 3600× it reaches the wall clock/,
    );
    const published = Number(/oep simulate: (\d+) readings in \d+ messages/.exec(sim.stderr)?.[1]);
    expect(published).toBeGreaterThan(500_000);
    // Past the 24 s after which the old start (now) ran more than 24 h ahead of the wall clock.
    expect(wall_s).toBeGreaterThan(25);

    // Every published reading accepted (none rejected, none late), every cell's 20 closed cycles counted.
    const m = await until(
      async () => {
        const s = await scrape(healthUrl);
        return sum(s, 'oep_readings_accepted_total') + sum(s, 'oep_readings_rejected_total') + sum(s, 'oep_readings_late_total') >= published ? s : undefined;
      },
      90_000,
      'the daemon to account for every published reading',
    );
    const rejected = m.all('oep_readings_rejected_total').filter((x) => x.value > 0);
    expect(rejected).toEqual([]);
    expect(m.value('oep_messages_rejected_unattributed_total') ?? 0).toBe(0);
    expect(sum(m, 'oep_readings_late_total')).toBe(0);
    expect(sum(m, 'oep_readings_accepted_total')).toBe(published);
    const ids = Array.from({ length: CELLS }, (_, i) => `cell-${String(i + 1).padStart(2, '0')}`);
    const closed = CYCLES - 1; // the last cycle stays open: no charge follows it
    await until(
      async () => {
        const s = await scrape(healthUrl);
        return ids.every((cell) => s.value('oep_cycles_total', { cell }) === closed) && (s.value('oep_influx_points_pending') ?? 1) === 0 ? true : undefined;
      },
      60_000,
      `${closed} closed cycles per cell, written out`,
    );

    // Read back from VictoriaMetrics: every closed cycle of every cell, once, with its areal Δ(ΔP_Q) (no mass configured).
    const rows = await readInfluxFields(vm, 'oep_cycle', ['cycle', 'ddp_q_MPa_cm2_per_mAh']);
    for (const cell of ids) {
      const mine = rows.filter((r) => r.tags.cell === cell);
      expect(mine.map((r) => r.fields.cycle)).toEqual(Array.from({ length: closed }, (_, i) => i + 1));
      expect(mine.filter((r) => r.duplicates !== undefined)).toEqual([]);
      expect(mine.every((r) => Number.isFinite(r.fields.ddp_q_MPa_cm2_per_mAh))).toBe(true);
      // Stamped in the past, as the simulator said: no cycle ends after the wall clock.
      expect(Math.max(...mine.map((r) => r.ts))).toBeLessThanOrEqual(Date.now());
    }
    process.stderr.write(`README recipe: ${published} readings, ${CELLS}×${closed} cycles, simulator ${wall_s.toFixed(1)} s\n`);
  }, 180_000);
  it('--start now warns that the run will pass the skew bound; a bad --rate is a usage error (exit 2)', async () => {
    const closed = `mqtt://127.0.0.1:${await freePort()}`;
    const now = await simulate(['--url', closed, '--start', 'now', ...SIM_FLAGS]);
    expect(now.stderr).toMatch(
      /oep simulate: event time starts at \S+Z; it runs up to 2[5-9]\.\d h ahead of the wall clock: a daemon rejects readings more than alignment\.maxFutureSkew_ms \(default 24 h\) ahead of arrival/,
    );
    expect(now.code).toBe(1); // nothing listens there
    const bad = await simulate(['--url', closed, '--rate', '0']);
    expect(bad).toEqual({ code: 2, stderr: 'oep simulate: --rate must be a positive number, got 0\n' });
  });

  it('held at the wall clock: a start 10 min ago at 3600x publishes nothing stamped after its arrival, and catches up to it', async () => {
    const sub = await mqtt.connectAsync(broker.url, { clientId: `recipe-sub-${process.pid}`, clean: true });
    let ahead = 0;
    let newest = 0;
    sub.on('message', (_topic, payload) => {
      const arrival = Date.now();
      for (const r of JSON.parse(payload.toString()) as { ts: number }[]) {
        if (r.ts > arrival) ahead++;
        newest = Math.max(newest, r.ts);
      }
    });
    await sub.subscribeAsync('held/#', { qos: 1 });
    const cells = demoCells(1).map((c) => ({ ...c, rate_C: 1, formationRate_C: 1, pressureRate_Hz: 1, currentRate_Hz: 1, voltageRate_Hz: 1 }));
    const started = Date.now();
    const held = { maxTs: Date.now };
    await runSimulator({
      url: broker.url,
      topicPrefix: 'held',
      cells,
      speed: 3600,
      seed: 1,
      cycles: 3,
      startTs: started - 600_000,
      duration_ms: 3_000,
      ...held,
    });
    await new Promise((r) => setTimeout(r, 500));
    await sub.endAsync();
    expect(ahead).toBe(0);
    // Without the cap, 3 s at 3600x from 10 min ago would have run about 2.8 h past the wall clock.
    expect(newest).toBeGreaterThan(started);
  });
});
