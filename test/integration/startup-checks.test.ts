/**
 * `oep run`'s start-up checks and connection states through the real CLI (bin/oep.js run, a child
 * process), against a real Mosquitto, VictoriaMetrics (answers /api/v2/write) and InfluxDB 1.6 (has no
 * /api/v2/write: 404). No token-checking server is packaged here, so a tiny HTTP server in this test
 * answers 401 as InfluxDB 2.x does for a missing or refused token: a stand-in for that one answer.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startInfluxDB1, startMosquitto, startVictoriaMetrics, type Influx1Handle, type VmHandle } from '../support/services.js';
import { until } from '../support/square-cells.js';

const OEP = fileURLToPath(new URL('../../bin/oep.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'oep-startup-'));

interface Run {
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  stop(): Promise<number | null>;
  /** Resolves once the output contains `text` (the daemon still running unless it exited). */
  saw(text: string | RegExp, timeout_ms?: number): Promise<true>;
}

function run(config: string, args: readonly string[] = []): Run {
  const env: Record<string, string> = { OEP_LOG_LEVEL: 'info' };
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('OEP_')) env[k] = v;
  const configPath = join(dir, `oep-${String(Math.random()).slice(2)}.yaml`);
  writeFileSync(configPath, config);
  const proc = spawn(process.execPath, [OEP, 'run', '--config', configPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
  return {
    output: () => out,
    exited,
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
    saw: (text, timeout_ms = 20_000) =>
      until(
        () => Promise.resolve((typeof text === 'string' ? out.includes(text) : text.test(out)) ? true : undefined),
        timeout_ms,
        `${String(text)} in:\n${out}`,
      ),
  };
}

const count = (s: string, sub: string): number => s.split(sub).length - 1;

/** A stand-in for a token-checking InfluxDB 2.x: `status(n)` is the answer to the n-th write (0 = the probe). */
async function fakeInflux(status: (n: number) => number): Promise<{ url: string; writes: () => number; server: Server }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (!req.url?.startsWith('/api/v2/write')) {
        res.writeHead(404).end();
        return;
      }
      const s = status(n++);
      if (s === 204) res.writeHead(204).end();
      else {
        const message = s === 401 ? 'unauthorized access' : 'partial write: field type conflict';
        res.writeHead(s, { 'content-type': 'application/json' }).end(JSON.stringify({ code: s === 401 ? 'unauthorized' : 'invalid', message }));
      }
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${String(port)}`, writes: () => n, server };
}

describe('oep run: start-up checks', () => {
  let vm: VmHandle;
  let influx1: Influx1Handle;
  beforeAll(async () => {
    [vm, influx1] = await Promise.all([startVictoriaMetrics(), startInfluxDB1()]);
  });
  afterAll(async () => {
    await Promise.all([vm.stop(), influx1.stop()]);
  });

  it('refuses to start without a sink unless --no-output', async () => {
    const port = await freePort();
    const r = run(`mqtt: { url: "mqtt://127.0.0.1:${String(port)}" }\n`);
    expect(await r.exited).toBe(2);
    expect(r.output()).toContain(
      'oep run: nothing would be saved: the config has neither influx: nor output:; add one, or run with --no-output to compute and alert only\n',
    );
    const broker = await startMosquitto();
    try {
      const ok = run(`mqtt: { url: "${broker.url}" }\n`, ['--no-output']);
      await ok.saw('listening on');
      expect(await ok.stop()).toBe(0);
    } finally {
      await broker.stop();
    }
  });

  it('InfluxDB 1.6 (no /api/v2/write): exit 2 naming the cause', async () => {
    const r = run(`mqtt: { url: "mqtt://127.0.0.1:1" }\ninflux: { url: "${influx1.url}", bucket: oep }\n`);
    expect(await r.exited).toBe(2);
    expect(r.output()).toMatch(/^oep run: influx: no \/api\/v2\/write here \(HTTP 404: 404 page not found\): is this InfluxDB 1\.x\? /m);
  });

  it('a token the server refuses (401): exit 2 with the fix', async () => {
    const fake = await fakeInflux(() => 401);
    try {
      const r = run(`mqtt: { url: "mqtt://127.0.0.1:1" }\ninflux: { url: "${fake.url}", bucket: oep }\n`);
      expect(await r.exited).toBe(2);
      expect(r.output()).toContain(
        'oep run: influx: token missing or refused (HTTP 401: unauthorized access): set influx.token or OEP_INFLUX_TOKEN to a token that may write to bucket oep\n',
      );
    } finally {
      fake.server.close();
    }
  });

  it('InfluxDB down at start is an outage: one line, then it runs and keeps the points', async () => {
    const [mqttPort, influxPort] = [await freePort(), await freePort()];
    const broker = await startMosquitto({ port: mqttPort });
    try {
      const r = run(`mqtt: { url: "${broker.url}" }\ninflux: { url: "http://127.0.0.1:${String(influxPort)}", bucket: oep }\n`);
      await r.saw('listening on');
      expect(r.output()).toContain(
        `WARN  influx: http://127.0.0.1:${String(influxPort)}/ does not answer (ECONNREFUSED) at start; oep starts anyway: points wait in memory (up to 1000000 lines) and are sent when it answers\n`,
      );
      await r.stop();
    } finally {
      await broker.stop();
    }
  });

  it('a refusal while running keeps the points, is logged once and not retried as an outage', async () => {
    const fake = await fakeInflux((n) => (n === 0 ? 204 : 401));
    const broker = await startMosquitto();
    try {
      const state = mkdtempSync(join(dir, 'state-'));
      const r = run(
        `mqtt: { url: "${broker.url}" }\ninflux: { url: "${fake.url}", bucket: oep, flushInterval_ms: 100 }\nstate: { dir: "${state}", interval_s: 0.5 }\n`,
      );
      await r.saw('listening on');
      const pub = await mqtt.connectAsync(broker.url);
      await pub.publishAsync('oep/c1/current', JSON.stringify({ ts: Date.now(), value: 1 }), { qos: 1 });
      await pub.endAsync();
      await r.saw('waiting lines are kept (none dropped) and tried again every 60 s');
      const writesAtRefusal = fake.writes();
      await sleep(4_000); // 8 checkpoints, each appending lines: none sent, none logged
      expect(count(r.output(), 'token missing or refused')).toBe(1);
      expect(fake.writes()).toBe(writesAtRefusal);
      expect(await r.stop()).toBe(0);
      expect(r.output()).toMatch(/InfluxDB: 0 lines written, 0 not written, \d+ kept on disk for the next start/);
    } finally {
      fake.server.close();
      await broker.stop();
    }
  });
});

describe('oep run: InfluxDB refusing the data', () => {
  it('a batch refused for its data (400) is dropped, counted and said with the cause; the stop reports it lost, exit 1', async () => {
    const fake = await fakeInflux((n) => (n === 0 ? 204 : 400));
    const broker = await startMosquitto();
    try {
      const state = mkdtempSync(join(dir, 'state-'));
      // each checkpoint (every 0.5 s) writes the cell's oep_ingest counters
      const r = run(
        `mqtt: { url: "${broker.url}" }\ninflux: { url: "${fake.url}", bucket: oep, flushInterval_ms: 100 }\nstate: { dir: "${state}", interval_s: 0.5 }\n`,
      );
      await r.saw('listening on');
      const pub = await mqtt.connectAsync(broker.url);
      await pub.publishAsync('oep/c1/current', JSON.stringify({ ts: Date.now(), value: 1 }), { qos: 1 });
      await pub.endAsync();
      await r.saw(
        /the server refused the lines \(HTTP 400: partial write: field type conflict\); these lines are dropped \(counted in oep_influx_points_dropped_total/,
      );
      expect(await r.stop()).toBe(1);
      expect(r.output()).toMatch(/InfluxDB: 0 lines written, [1-9]\d* not written/);
    } finally {
      fake.server.close();
      await broker.stop();
    }
  });
});

describe('oep run: the broker', () => {
  it('unreachable at start: one line, keeps trying with backoff; lost and back: one line each, no line per attempt', async () => {
    const vm = await startVictoriaMetrics();
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${String(port)}`;
    const r = run(`mqtt: { url: "${url}" }\ninflux: { url: "${vm.url}", bucket: oep }\n`);
    try {
      await r.saw(
        `INFO  mqtt: cannot reach ${url} (connect ECONNREFUSED 127.0.0.1:${String(port)}); oep keeps trying (next try in 1 s, doubling up to 30 s)\n`,
      );
      await sleep(4_000); // attempts at 1 s and 3 s: counted, not logged
      expect(count(r.output(), ' mqtt: ')).toBe(1);
      expect(r.output()).not.toContain('listening on');
      const broker = await startMosquitto({ port });
      await r.saw('listening on');
      expect(r.output()).toMatch(new RegExp(`INFO  mqtt: back: connected to ${url} after \\d+ s and [2-9] attempts\\n`));
      await broker.stop();
      await r.saw(`INFO  mqtt: connection to ${url} lost; reconnecting, next try in 1 s, doubling up to 30 s\n`);
      const atLoss = r.output().length;
      await sleep(6_000); // attempts at 1, 3 s: one more line at most (the reason, ECONNREFUSED, is new)
      expect(count(r.output().slice(atLoss), ' mqtt: ')).toBeLessThanOrEqual(1);
      await broker.start();
      await r.saw(/mqtt: back: connected to .* after \d+ s and \d+ attempts\n[^]*$/);
      expect(await r.stop()).toBe(0);
    } finally {
      await r.stop();
      await vm.stop();
    }
  });

  it('credentials the broker refuses: the line names the keys to set, once, and oep keeps trying', async () => {
    const broker = await startMosquitto({ extraConfig: ['allow_anonymous false'] });
    const r = run(`mqtt: { url: "${broker.url}" }\n`, ['--no-output']);
    try {
      await r.saw(
        'INFO  mqtt: the broker refused the credentials (Connection refused: Not authorized): set mqtt.username and mqtt.password ' +
          '(or OEP_MQTT_USERNAME, OEP_MQTT_PASSWORD); oep keeps trying (next try in 1 s, doubling up to 30 s)\n',
      );
      await sleep(3_500); // attempts at 1 s and 3 s
      expect(count(r.output(), ' mqtt: ')).toBe(1);
      expect(await r.stop()).toBe(0);
    } finally {
      await broker.stop();
    }
  });

  it('--fail-fast: unreachable at start exits 1, the error printed once', async () => {
    const port = await freePort();
    const r = run(`mqtt: { url: "mqtt://127.0.0.1:${String(port)}" }\n`, ['--no-output', '--fail-fast']);
    expect(await r.exited).toBe(1);
    expect(count(r.output(), 'ECONNREFUSED')).toBe(1);
    expect(r.output()).toContain(`oep run: mqtt: cannot reach mqtt://127.0.0.1:${String(port)}: connect ECONNREFUSED 127.0.0.1:${String(port)}\n`);
  });
});
