/**
 * Real services for integration tests: Mosquitto, VictoriaMetrics and InfluxDB 1.x, each started by the
 * test itself on free 127.0.0.1 ports with its own temporary config and data folders. Nothing here uses the
 * default ports (1883 / 8428 / 8086 / 8088), so system services the Debian packages may have started are
 * never touched.
 *
 * A missing binary is a loud error naming the apt package (run `node scripts/ensure-services.mjs`), never a skip.
 * The binaries can be overridden with MOSQUITTO_BIN, VICTORIA_METRICS_BIN and INFLUXD_BIN.
 *
 * Every child is tracked: when the test process exits (or dies of SIGINT/SIGTERM/SIGHUP) the children still
 * running are SIGKILLed and the temporary folders this module created are removed.
 *
 * VictoriaMetrics quirks (v1.79.5 from Debian bookworm, verified by hand and in test/integration/services.test.ts):
 *  - An InfluxDB line `m,cell=a f=1,g=2 <ts>` becomes the series `m_f{cell="a"}` and `m_g{cell="a"}`
 *    (`-influxMeasurementFieldSeparator`, default `_`). A `db` label is added only for `/write?db=NAME`;
 *    `/api/v2/write?org=..&bucket=..` (what @influxdata/influxdb-client uses) adds no extra label.
 *  - Field types: floats and integers (`5i`) are stored as numbers, booleans as 1/0, and STRING FIELDS ARE
 *    STORED AS 0 (the text is lost, not dropped). Use tags or numeric fields for anything tests must read back.
 *  - VALUES ARE NOT STORED AS EXACT float64. VM keeps each value as a decimal mantissa: about 12-13
 *    significant digits survive (1/3 -> 0.333333333333, 1.0000000000000002 -> 1, 0.30000000000000004 -> 0.3),
 *    and the samples of one series that land in one block share a decimal exponent, so a small value next to a
 *    big one in the same series loses more (1.23456e-9 beside 1e9 comes back as 1e-9). Short decimals
 *    (-0.1, 3.25e-7, 1234.5678, integers up to 2^53) come back exactly. Compare computed values with `vmClose`,
 *    or use InfluxDB 1.x (`startInfluxDB1`, exact float64; `v2Url` takes @influxdata/influxdb-client writes).
 *  - Timestamps are kept with millisecond precision (`-influxTrimTimestamp=1ms`).
 *  - Past timestamps are accepted as far back as `-retentionPeriod` (set to 100y here). Future timestamps are
 *    accepted only up to now + 2 days; this limit is hard-coded in this version (there is no
 *    `-futureRetention` flag yet). Rows beyond it are DROPPED SILENTLY: the write still answers 204 and the
 *    only trace is a `cannot insert row with too big timestamp` warning in the VM log (see `logs()`).
 *  - No deduplication: writing the same series and timestamp twice keeps both samples (InfluxDB would keep the
 *    last one). `exportSeries` shows them all; `readInfluxFields` reports them in `duplicates`.
 *  - `/api/v1/export` without `end` misses the newest points, so `exportSeries` always passes start=0 and an
 *    end a few days in the future.
 *  - A write is readable right after `flush()` (`/internal/force_flush`) thanks to `-search.latencyOffset=0s`
 *    and `-search.disableCache`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// ---------------------------------------------------------------------------------------------------------
// Public types

export interface ServiceHandle {
  /** Base URL: `mqtt://127.0.0.1:PORT` or `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** SIGTERM, await exit; SIGKILL after 5 s. Idempotent. Data folders are kept (removed at process exit). */
  stop(): Promise<void>;
  /** Stop (if running) and start again on the same port with the same config and data. */
  restart(): Promise<void>;
  /** The last part of the process's stdout+stderr, for debugging failed tests. */
  logs(): string;
}

export interface MosquittoHandle extends ServiceHandle {
  readonly persistenceDir: string;
  readonly configPath: string;
  /** SIGKILL (no save of the persistence file), await exit. */
  kill(): Promise<void>;
  /** Start again after stop() or kill(), on the same port with the same config and data. */
  start(): Promise<void>;
}

export interface VmSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export interface VmHandle extends ServiceHandle {
  readonly dataDir: string;
  /** Separator between measurement and field in metric names (`-influxMeasurementFieldSeparator`). */
  readonly fieldSeparator: string;
  /** Make everything written so far visible to queries (`/internal/force_flush`). */
  flush(): Promise<void>;
  /** Raw `/api/v1/export?match[]=MATCH` over all time (start=0, end=now+3d). Does not flush. */
  exportSeries(match: string): Promise<VmSeries[]>;
}

export interface Influx1Handle extends ServiceHandle {
  readonly dataDir: string;
  /**
   * InfluxDB 1.6 has no `/api/v2/write` (404). This in-process proxy (own free port) turns
   * `POST /api/v2/write?org=..&bucket=DB[/RP]&precision=ns|us|ms|s` into `/write?db=DB&rp=RP&precision=..`, body
   * (gzip included) and answer passed through, and forwards every other path unchanged. Point
   * `new InfluxDB({ url: influx.v2Url, token: 'x' })` at it to write with the v2 client and read back exact float64
   * values with `query()`. The database (bucket) must exist: `query('', 'CREATE DATABASE name')`. It stays up across
   * `restart()` (answering 502 while influxd is down) and closes on `stop()`.
   */
  readonly v2Url: string;
  /**
   * Run InfluxQL against `db` with `epoch=ms` and return the parsed JSON. SELECT/SHOW go through GET, other
   * statements (CREATE DATABASE, DROP, ...) through POST as InfluxDB 1.x requires. Throws on an HTTP error or
   * when the top-level answer or any statement result carries an `error`.
   */
  query(db: string, q: string): Promise<unknown>;
  /** POST line protocol to `/write?db=DB&precision=PRECISION`; throws unless 204. */
  write(db: string, lines: string | readonly string[], precision?: 'ns' | 'u' | 'ms' | 's'): Promise<void>;
}

export interface InfluxRow {
  tags: Record<string, string>;
  /** Epoch milliseconds. */
  ts: number;
  /** Field name → value. When a (series, ts) has several samples this is the last one VM exported. */
  fields: Record<string, number>;
  /** Present only when some field has more than one sample at this (tags, ts): all of them, in export order. */
  duplicates?: Record<string, number[]>;
}

// ---------------------------------------------------------------------------------------------------------
// Binaries

interface BinarySpec {
  readonly name: string;
  readonly path: string;
  readonly aptPackage: string;
}

const MOSQUITTO: BinarySpec = { name: 'mosquitto', path: process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto', aptPackage: 'mosquitto' };
const VICTORIA_METRICS: BinarySpec = {
  name: 'victoria-metrics',
  path: process.env.VICTORIA_METRICS_BIN ?? '/usr/bin/victoria-metrics',
  aptPackage: 'victoria-metrics',
};
const INFLUXD: BinarySpec = { name: 'influxd', path: process.env.INFLUXD_BIN ?? '/usr/bin/influxd', aptPackage: 'influxdb' };

function requireBinary(bin: BinarySpec): void {
  try {
    accessSync(bin.path, fsConstants.X_OK);
  } catch {
    throw new Error(
      `Integration tests need ${bin.name}, but ${bin.path} is missing or not executable. ` +
        `Install the Debian package: \`apt-get install -y ${bin.aptPackage}\` ` +
        '(or run `node scripts/ensure-services.mjs` as root, which `npm test` does).',
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Cleanup at process exit

const liveChildren = new Set<ChildProcess>();
const ownedTempDirs = new Set<string>();
let exitHooksInstalled = false;

function cleanupSync(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  for (const dir of ownedTempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  ownedTempDirs.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      cleanupSync();
      process.removeListener(signal, onSignal);
      // Keep the default behaviour (die of the signal) unless somebody else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

async function makeTempDir(prefix: string): Promise<string> {
  installExitHooks();
  const dir = await mkdtemp(join(tmpdir(), `oep-${prefix}-`));
  ownedTempDirs.add(dir);
  return dir;
}

// ---------------------------------------------------------------------------------------------------------
// Ports

const handedOut = new Set<number>();

/** A TCP port on 127.0.0.1 that was free a moment ago (never the same one twice in this process). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const p = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => {
          resolve(p);
        });
      });
    });
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: could not find a free TCP port on 127.0.0.1');
}

function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => {
      done(false);
    });
    socket.once('connect', () => {
      done(true);
    });
    socket.once('error', () => {
      done(false);
    });
  });
}

async function httpStatus(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// A supervised child process

const LOG_LIMIT = 64 * 1024;
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const SETTLE_MS = 100;

class StartFailure extends Error {
  constructor(
    message: string,
    readonly exitedEarly: boolean,
  ) {
    super(message);
    this.name = 'StartFailure';
  }
}

class Supervised {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  /** Output of the current run only (what `isReady` sees). */
  private runOutput = '';
  private runs = 0;

  constructor(
    private readonly bin: BinarySpec,
    private readonly args: readonly string[],
    private readonly isReady: (runOutput: string) => Promise<boolean>,
    private readonly describe: string,
  ) {}

  logs(): string {
    return this.output;
  }

  private append(text: string): void {
    this.output += text;
    if (this.output.length > LOG_LIMIT) this.output = this.output.slice(-LOG_LIMIT);
    this.runOutput += text;
    if (this.runOutput.length > LOG_LIMIT) this.runOutput = this.runOutput.slice(-LOG_LIMIT);
  }

  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.describe} is already running`);
    installExitHooks();
    this.runs += 1;
    if (this.runs > 1) this.append(`----- restart #${this.runs - 1} -----\n`);
    this.runOutput = '';
    const child = spawn(this.bin.path, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    liveChildren.add(child);
    child.stdout?.on('data', (c: Buffer) => {
      this.append(c.toString('utf8'));
    });
    child.stderr?.on('data', (c: Buffer) => {
      this.append(c.toString('utf8'));
    });
    // A forgotten stop() must not keep the test worker alive; the exit hook kills the child anyway.
    child.unref();
    (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();

    let exitInfo: string | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `code ${String(code)}`;
        liveChildren.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = `spawn error: ${err.message}`;
        liveChildren.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });

    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exitInfo !== undefined) {
        throw new StartFailure(`${this.describe} exited during startup (${exitInfo}). Output:\n${this.runOutput}`, true);
      }
      if (await this.isReady(this.runOutput)) {
        // Someone else may be answering on the port we picked while our process fails to bind it: give a bind
        // failure a moment to show up as an exit (startWithRetry then tries another port).
        await sleep(SETTLE_MS);
        if (exitInfo === undefined) return;
        continue;
      }
      if (Date.now() > deadline) {
        const output = this.runOutput;
        await this.stop();
        throw new StartFailure(`${this.describe} was not ready after ${START_TIMEOUT_MS} ms. Output:\n${output}`, false);
      }
      await sleep(50);
    }
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      await this.exited;
    } finally {
      clearTimeout(killTimer);
    }
  }
}

/** Start, retrying on fresh ports when the process dies at once (another process grabbed the port). */
async function startWithRetry<T>(
  build: (attempt: number) => Promise<{ proc: Supervised; value: T; afterStart?: () => Promise<void> }>,
  retries: number,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const { proc, value, afterStart } = await build(attempt);
    try {
      await proc.start();
    } catch (err) {
      if (!(err instanceof StartFailure && err.exitedEarly && attempt < retries)) throw err;
      continue;
    }
    try {
      await afterStart?.();
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return value;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Mosquitto

/** A TLS listener's PEM files; with `requireCertificate`, clients must present a certificate signed by `ca`. */
export interface MosquittoTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly requireCertificate: boolean;
}

/**
 * A Mosquitto on a free port with persistence in a temp folder; `extraConfig` lines replace the defaults
 * with the same key (e.g. the queue limits of the shipped config/mosquitto.conf).
 */
export async function startMosquitto(
  opts: { port?: number; persistenceDir?: string; tls?: MosquittoTls; extraConfig?: readonly string[] } = {},
): Promise<MosquittoHandle> {
  requireBinary(MOSQUITTO);
  const dir = await makeTempDir('mosquitto');
  const persistenceDir = opts.persistenceDir ?? join(dir, 'persist');
  await mkdir(persistenceDir, { recursive: true });
  const persistDir = persistenceDir;
  const configPath = join(dir, 'mosquitto.conf');

  return startWithRetry(
    async () => {
      const port = opts.port ?? (await freePort());
      const lines = [
        `listener ${port} 127.0.0.1`,
        ...(opts.tls !== undefined
          ? [`cafile ${opts.tls.ca}`, `certfile ${opts.tls.cert}`, `keyfile ${opts.tls.key}`, `require_certificate ${String(opts.tls.requireCertificate)}`]
          : []),
        'allow_anonymous true',
        'persistence true',
        `persistence_location ${persistDir.endsWith('/') ? persistDir : `${persistDir}/`}`,
        'persistence_file mosquitto.db',
        // The broker writes its database on SIGTERM; the periodic autosave is only a safety net.
        'autosave_interval 60',
        // 0 = no limit: QoS 1/2 messages queued for offline persistent sessions are never dropped.
        'max_queued_messages 0',
        'max_queued_bytes 0',
        // persistent_client_expiration is left unset: persistent sessions never expire.
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        'log_type notice',
        'log_type information',
        'log_timestamp_format %H:%M:%S',
        // As root, mosquitto would otherwise drop to the `mosquitto` user and could not write our temp dir.
        ...(process.getuid?.() === 0 ? ['user root'] : []),
      ];
      const overridden = new Set((opts.extraConfig ?? []).map((l) => l.split(/\s+/)[0]));
      const config = [...lines.filter((l) => !overridden.has(l.split(/\s+/)[0])), ...(opts.extraConfig ?? []), ''].join('\n');
      await writeFile(configPath, config);
      // Ready once it says it is running (so a port taken by someone else is not mistaken for ours) and accepts TCP.
      const proc = new Supervised(
        MOSQUITTO,
        ['-c', configPath],
        async (out) => / running\b/.test(out) && (await tcpAccepts(port)),
        `mosquitto on 127.0.0.1:${port}`,
      );
      const handle: MosquittoHandle = {
        url: opts.tls !== undefined ? `mqtts://localhost:${port}` : `mqtt://127.0.0.1:${port}`,
        port,
        persistenceDir: persistDir,
        configPath,
        stop: () => proc.stop(),
        kill: () => proc.kill(),
        start: () => proc.start(),
        restart: async () => {
          await proc.stop();
          await proc.start();
        },
        logs: () => proc.logs(),
      };
      return { proc, value: handle };
    },
    opts.port === undefined ? 3 : 0,
  );
}

// ---------------------------------------------------------------------------------------------------------
// VictoriaMetrics

function isVmSeries(x: unknown): x is VmSeries {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return typeof o.metric === 'object' && o.metric !== null && Array.isArray(o.values) && Array.isArray(o.timestamps);
}

/** A request's answer, from fetch or from node:https. */
type HttpCall = (url: string, init?: { method?: string; body?: URLSearchParams; timeout_ms?: number }) => Promise<{ status: number; body: string }>;

/** fetch; or, for a server whose certificate `ca` signed, node:https with that CA (fetch cannot be given one). */
function httpCaller(ca: Buffer | undefined): HttpCall {
  if (ca === undefined)
    return async (url, init = {}) => {
      const res = await fetch(url, { method: init.method ?? 'GET', body: init.body, signal: AbortSignal.timeout(init.timeout_ms ?? 10_000) });
      return { status: res.status, body: await res.text() };
    };
  return (url, init = {}) =>
    new Promise((resolve, reject) => {
      const body = init.body?.toString();
      const headers = body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : undefined;
      const req = httpsRequest(url, { method: init.method ?? 'GET', ca, headers, timeout: init.timeout_ms ?? 10_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: text });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${url}: no answer`)));
      req.on('error', reject);
      req.end(body);
    });
}

/** TLS for VictoriaMetrics' HTTP listener (`-tls`): its certificate and key, and the CA that signed them (for this helper's own requests). */
export interface VmTls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export async function startVictoriaMetrics(opts: { readonly tls?: VmTls } = {}): Promise<VmHandle> {
  requireBinary(VICTORIA_METRICS);
  const dir = await makeTempDir('vm');
  const dataDir = join(dir, 'data');
  const fieldSeparator = '_';
  const call = httpCaller(opts.tls !== undefined ? await readFile(opts.tls.ca) : undefined);

  return startWithRetry(async () => {
    const port = await freePort();
    const url = `${opts.tls !== undefined ? 'https' : 'http'}://127.0.0.1:${port}`;
    const args = [
      ...(opts.tls !== undefined ? ['-tls', `-tlsCertFile=${opts.tls.cert}`, `-tlsKeyFile=${opts.tls.key}`] : []),
      `-storageDataPath=${dataDir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      // Test data goes back to 2019 and further; VM deletes (and refuses) points older than the retention.
      '-retentionPeriod=100y',
      // Make fresh points visible at once (defaults: 30s latency offset, response cache on).
      '-search.latencyOffset=0s',
      '-search.disableCache',
      `-influxMeasurementFieldSeparator=${fieldSeparator}`,
      // Small test disks: the default 10 MB reserve is fine, but never refuse writes on a nearly full /tmp.
      '-storage.minFreeDiskSpaceBytes=1MB',
      '-memory.allowedPercent=20',
    ];
    const proc = new Supervised(
      VICTORIA_METRICS,
      args,
      async () => {
        const r = await call(`${url}/health`, { timeout_ms: 2000 }).catch(() => undefined);
        return r?.status === 200 && r.body.trim() === 'OK';
      },
      `victoria-metrics on 127.0.0.1:${port}`,
    );

    const flush = async (): Promise<void> => {
      const res = await call(`${url}/internal/force_flush`);
      if (res.status < 200 || res.status >= 300) throw new Error(`VictoriaMetrics force_flush answered ${res.status}: ${res.body}`);
    };

    const exportSeries = async (match: string): Promise<VmSeries[]> => {
      const params = new URLSearchParams();
      params.append('match[]', match);
      params.append('start', '0');
      params.append('end', String(Math.ceil(Date.now() / 1000) + 3 * 86_400));
      const { status, body } = await call(`${url}/api/v1/export`, { method: 'POST', body: params });
      if (status < 200 || status >= 300) throw new Error(`VictoriaMetrics export of ${match} answered ${status}: ${body}`);
      const series: VmSeries[] = [];
      for (const line of body.split('\n')) {
        if (line.trim() === '') continue;
        const parsed: unknown = JSON.parse(line);
        if (!isVmSeries(parsed)) throw new Error(`unexpected VictoriaMetrics export line: ${line}`);
        series.push({
          metric: { ...parsed.metric },
          // Line protocol cannot carry NaN/Inf; anything non-numeric here is made NaN rather than crashing.
          values: parsed.values.map((v: unknown) => (typeof v === 'number' ? v : Number(v ?? NaN))),
          timestamps: parsed.timestamps.map((t: unknown) => Number(t)),
        });
      }
      return series;
    };

    const handle: VmHandle = {
      url,
      port,
      dataDir,
      fieldSeparator,
      stop: () => proc.stop(),
      restart: async () => {
        await proc.stop();
        await proc.start();
      },
      logs: () => proc.logs(),
      flush,
      exportSeries,
    };
    return { proc, value: handle };
  }, 3);
}

/**
 * Whether a value read back from VictoriaMetrics matches the float64 that was written, given VM's decimal storage
 * (see the header): relative error up to 1e-11, plus 1e-16 of the largest magnitude written to the same series
 * (`seriesMaxAbs`, for series mixing very different magnitudes). NaN matches NaN; infinities must match exactly.
 */
export function vmClose(actual: number, expected: number, seriesMaxAbs = 0): boolean {
  if (Object.is(actual, expected) || actual === expected) return true;
  if (Number.isNaN(actual) || Number.isNaN(expected)) return Number.isNaN(actual) && Number.isNaN(expected);
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) return false;
  return Math.abs(actual - expected) <= 1e-11 * Math.abs(expected) + 1e-16 * Math.abs(seriesMaxAbs);
}

function promLabelValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * Read back points written through InfluxDB line protocol: for each field F, export the series
 * `MEASUREMENT<sep>F` (filtered by `tagFilter`, exact label matches) and join them by (tags, timestamp).
 * Flushes first. Rows are sorted by timestamp, then by tags. A field absent from a row was not written for that
 * (tags, ts). The tags are all labels of the series except `__name__` (so a `db` label appears for `/write?db=`).
 */
export async function readInfluxFields(
  vm: VmHandle,
  measurement: string,
  fields: readonly string[],
  tagFilter: Record<string, string> = {},
): Promise<InfluxRow[]> {
  await vm.flush();
  const filters = Object.entries(tagFilter).map(([k, v]) => `${k}=${promLabelValue(v)}`);
  const rows = new Map<string, InfluxRow>();
  for (const field of fields) {
    const name = `${measurement}${vm.fieldSeparator}${field}`;
    const match = `{${[`__name__=${promLabelValue(name)}`, ...filters].join(',')}}`;
    for (const series of await vm.exportSeries(match)) {
      const tags: Record<string, string> = {};
      for (const key of Object.keys(series.metric).sort()) {
        if (key !== '__name__') tags[key] = series.metric[key] ?? '';
      }
      const tagKey = JSON.stringify(tags);
      series.timestamps.forEach((ts, i) => {
        const value = series.values[i] ?? NaN;
        const key = `${ts}\u0000${tagKey}`;
        let row = rows.get(key);
        if (!row) {
          row = { tags, ts, fields: {} };
          rows.set(key, row);
        }
        if (field in row.fields) {
          row.duplicates ??= {};
          const dup = (row.duplicates[field] ??= [row.fields[field] ?? NaN]);
          dup.push(value);
        }
        row.fields[field] = value;
      });
    }
  }
  return [...rows.values()].sort((a, b) => a.ts - b.ts || JSON.stringify(a.tags).localeCompare(JSON.stringify(b.tags)));
}

// ---------------------------------------------------------------------------------------------------------
// InfluxDB 1.x

function influxConfig(dir: string, httpPort: number, rpcPort: number): string {
  const q = (s: string): string => JSON.stringify(s);
  return `reporting-enabled = false
bind-address = ${q(`127.0.0.1:${rpcPort}`)}

[meta]
  dir = ${q(join(dir, 'meta'))}
  retention-autocreate = true
  logging-enabled = false

[data]
  dir = ${q(join(dir, 'data'))}
  wal-dir = ${q(join(dir, 'wal'))}
  index-version = "inmem"
  wal-fsync-delay = "0s"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = ${q(`127.0.0.1:${httpPort}`)}
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false
  unix-socket-enabled = false

[logging]
  level = "warn"
  suppress-logo = true

[ifql]
  enabled = false

[[graphite]]
  enabled = false

[[collectd]]
  enabled = false

[[opentsdb]]
  enabled = false

[[udp]]
  enabled = false

[continuous_queries]
  enabled = true
  log-enabled = false
`;
}

function influxErrors(json: unknown): string[] {
  if (typeof json !== 'object' || json === null) return [];
  const o = json as { error?: unknown; results?: unknown };
  const errors: string[] = [];
  if (typeof o.error === 'string') errors.push(o.error);
  if (Array.isArray(o.results)) {
    for (const r of o.results as unknown[]) {
      if (typeof r === 'object' && r !== null && typeof (r as { error?: unknown }).error === 'string') {
        errors.push((r as { error: string }).error);
      }
    }
  }
  return errors;
}

const V2_TO_V1_PRECISION: Record<string, string> = { ns: 'ns', us: 'u', ms: 'ms', s: 's' };

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Map one request for the v2 proxy onto influxd's 1.x API. Returns the target URL or an error answer. */
function v2ProxyTarget(influxUrl: string, reqUrl: string): { target: string } | { status: number; error: string } {
  const incoming = new URL(reqUrl, 'http://proxy');
  if (incoming.pathname !== '/api/v2/write') return { target: `${influxUrl}${incoming.pathname}${incoming.search}` };
  const bucket = incoming.searchParams.get('bucket') ?? '';
  if (bucket === '') return { status: 400, error: 'bucket is required' };
  const precision = V2_TO_V1_PRECISION[incoming.searchParams.get('precision') ?? 'ns'];
  if (precision === undefined) return { status: 400, error: `unsupported precision ${incoming.searchParams.get('precision')}` };
  const slash = bucket.indexOf('/');
  const params = new URLSearchParams({ db: slash < 0 ? bucket : bucket.slice(0, slash), precision });
  if (slash >= 0 && slash < bucket.length - 1) params.set('rp', bucket.slice(slash + 1));
  return { target: `${influxUrl}/write?${params.toString()}` };
}

function contentTypeIsJson(contentType: string | null): boolean {
  return contentType?.startsWith('application/json') ?? false;
}

async function handleV2Proxy(influxUrl: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const answer = (status: number, error: string): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'invalid', message: error, error }));
  };
  const mapped = v2ProxyTarget(influxUrl, req.url ?? '/');
  if ('error' in mapped) {
    answer(mapped.status, mapped.error);
    return;
  }
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'content-encoding', 'accept', 'accept-encoding']) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  let upstream: Response;
  try {
    upstream = await fetch(mapped.target, { method: req.method ?? 'GET', headers, body, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    answer(502, `influxd unreachable: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  let payload = Buffer.from(await upstream.arrayBuffer());
  // 1.x errors are {"error": "..."}; the v2 client builds its message from "message".
  if (!upstream.ok && contentTypeIsJson(upstream.headers.get('content-type'))) {
    try {
      const json = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
      if (typeof json.error === 'string' && json.message === undefined) {
        payload = Buffer.from(JSON.stringify({ code: upstream.status === 404 ? 'not found' : 'invalid', message: json.error, ...json }));
      }
    } catch {
      // not JSON after all: pass through
    }
  }
  const outHeaders: Record<string, string> = {};
  const contentType = upstream.headers.get('content-type');
  if (contentType) outHeaders['content-type'] = contentType;
  const influxError = upstream.headers.get('x-influxdb-error');
  if (influxError) outHeaders['x-influxdb-error'] = influxError;
  res.writeHead(upstream.status, outHeaders).end(upstream.status === 204 ? undefined : payload);
}

class V2Proxy {
  private server: Server | undefined;

  constructor(
    private readonly influxUrl: string,
    readonly port: number,
  ) {}

  async listen(): Promise<void> {
    if (this.server) return;
    const server = createHttpServer((req, res) => {
      handleV2Proxy(this.influxUrl, req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        resolve();
      });
    });
    server.unref();
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  }
}

export async function startInfluxDB1(): Promise<Influx1Handle> {
  requireBinary(INFLUXD);
  const dir = await makeTempDir('influxdb1');
  const configPath = join(dir, 'influxdb.conf');

  return startWithRetry(async () => {
    const port = await freePort();
    const rpcPort = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proxy = new V2Proxy(url, await freePort());
    await writeFile(configPath, influxConfig(dir, port, rpcPort));
    const proc = new Supervised(
      INFLUXD,
      ['-config', configPath],
      async () => (await httpStatus(`${url}/ping`))?.status === 204,
      `influxd on 127.0.0.1:${port}`,
    );

    const query = async (db: string, q: string): Promise<unknown> => {
      const params = new URLSearchParams({ db, q, epoch: 'ms' });
      const isRead = /^\s*(select|show)\b/i.test(q);
      const res = isRead
        ? await fetch(`${url}/query?${params.toString()}`, { signal: AbortSignal.timeout(10_000) })
        : await fetch(`${url}/query`, { method: 'POST', body: params, signal: AbortSignal.timeout(10_000) });
      const body = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        throw new Error(`InfluxDB query ${JSON.stringify(q)} answered ${res.status} with non-JSON: ${body}`);
      }
      const errors = influxErrors(json);
      if (!res.ok || errors.length > 0) {
        throw new Error(`InfluxDB query ${JSON.stringify(q)} failed (${res.status}): ${errors.join('; ') || body}`);
      }
      return json;
    };

    const write = async (db: string, lines: string | readonly string[], precision: 'ns' | 'u' | 'ms' | 's' = 'ms'): Promise<void> => {
      const body = typeof lines === 'string' ? lines : lines.join('\n');
      const params = new URLSearchParams({ db, precision });
      const res = await fetch(`${url}/write?${params.toString()}`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) });
      if (res.status !== 204) throw new Error(`InfluxDB write to ${db} answered ${res.status}: ${await res.text()}`);
    };

    const handle: Influx1Handle = {
      url,
      port,
      dataDir: dir,
      v2Url: `http://127.0.0.1:${proxy.port}`,
      stop: async () => {
        await proxy.close();
        await proc.stop();
      },
      restart: async () => {
        await proc.stop();
        await proc.start();
        await proxy.listen();
      },
      logs: () => proc.logs(),
      query,
      write,
    };
    return { proc, value: handle, afterStart: () => proxy.listen() };
  }, 3);
}
