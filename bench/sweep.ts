/**
 * The production-shaped end-to-end benchmark. Per round: a fresh Mosquitto that caps neither side (no limit on
 * in-flight or queued QoS 1 messages), the subscriber under test in its own process (the daemon through
 * `bin/oep.js run`, or the bare MQTT.js subscriber), then the publisher in a third process (window of
 * unacknowledged messages), which ends with the end marker. Rounds alternate oep, bare, oep, bare, … so that
 * the machine's drift falls on both sides alike. Per round, from the publisher's first message to the
 * subscriber's handling of the marker: wall time, the subscriber process's CPU time (/proc), its peak RSS.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startMosquitto, type MosquittoHandle, type VmHandle } from '../test/support/services.js';
import { productionConfig } from './daemon-config.js';
import { scrapeSum, startDaemon } from './daemon-process.js';
import { childWithArg, cpuTime_us, monotonic_ms, peakRss_MB } from './proc.js';
import { END_MARKER_CELL, MID_MARKER_CELL, publisherArgv, type PublisherArgs, type PublisherReport } from './shape.js';

export type Side = 'oep' | 'bare';

export interface SweepCase {
  readonly cells: number;
  readonly readings: number;
}

export interface SweepOptions {
  readonly batch: number;
  readonly window: number;
  readonly channels: readonly string[];
  /** Half period of every cell's square-wave current, s (one value for every case: the same steps per reading at each cell count). */
  readonly halfPeriod_s: number;
  /** The publisher's pace, readings/s (0: as fast as the window allows). */
  readonly rate: number;
}

export interface RoundResult {
  readonly side: Side;
  readonly cells: number;
  readonly readings: number;
  /** Set when the round did not complete (the daemon died, a timeout, a count that does not match). */
  readonly failure?: string;
  readonly wall_s: number;
  readonly cpu_us: number;
  readonly peakRss_MB: number;
  /** CPU time of the publisher and of the broker over the same span, µs (is either the bottleneck?). */
  readonly publisherCpu_us: number;
  readonly brokerCpu_us: number;
  /** CPU time of the subscriber over the second half of the messages (half-way marker to end marker), µs. */
  readonly steadyCpu_us: number;
  /** Readings in that second half. */
  readonly steadyReadings: number;
  /** oep only: cycles closed, points InfluxDB acknowledged. */
  readonly cycles?: number;
  readonly influxPoints?: number;
  /** oep only: fdatasyncs of its journal in the round (from start-up). */
  readonly journalSyncs?: number;
  /**
   * The subscriber's event loop over the second half (oep: its /metrics, prom-client's
   * monitorEventLoopDelay at 10 ms resolution, restarted by the scrape at the half-way marker; bare: the
   * same histogram in its process): the longest delay and the 99th percentile, ms. On a loaded machine the
   * bare side's is the machine's share (a process waiting for a core).
   */
  readonly loopMax_ms?: number;
  readonly loopP99_ms?: number;
  /** oep only: its checkpoints' longest piece of work in one turn of the event loop, over the whole round, ms (oep_checkpoint_longest_block_max_seconds). */
  readonly checkpointBlock_ms?: number;
}

/** A subscriber under test, started and subscribed. */
interface Subscriber {
  readonly pid: number;
  /** Resolves with the time the end marker was handled, or a failure. */
  readonly end: Promise<{ t_ms: number } | { failure: string }>;
  /** Resolves when the half-way marker was handled (never, if the subscriber dies first). */
  readonly mid: Promise<unknown>;
  /** After the end: checks what it received; a failure message, or what it counted. */
  verify(
    expected: number,
  ): Promise<Partial<Pick<RoundResult, 'failure' | 'cycles' | 'influxPoints' | 'journalSyncs' | 'loopMax_ms' | 'loopP99_ms' | 'checkpointBlock_ms'>>>;
  stop(): Promise<void>;
}

/** prom-client's event-loop delay since the previous scrape, s. */
const LOOP_MAX = 'nodejs_eventloop_lag_max_seconds';
const LOOP_P99 = 'nodejs_eventloop_lag_p99_seconds';
const CHECKPOINT_BLOCK = 'oep_checkpoint_longest_block_max_seconds';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

function oomOr(tail: string, fallback: string): string {
  if (/heap out of memory/i.test(tail)) return 'heap OOM';
  return fallback;
}

/** The last log lines of a process, without a native stack trace. */
const lastWords = (tail: string): string =>
  tail
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^\s*\d+: 0x/.test(l))
    .slice(-12)
    .join('\n');

async function startOep(brokerUrl: string, vm: VmHandle, dir: string, cells: number): Promise<Subscriber> {
  const healthPort = await freePort();
  const config = {
    ...productionConfig({ brokerUrl, influxUrl: vm.url, healthPort, clientId: 'bench-oep' }, dir),
    // A lab names its cells in the config (the edge caps the ids it does not know at 256).
    cells: Array.from({ length: cells }, (_, c) => ({ id: `b${c}` })),
  };
  const d = await startDaemon(config, dir);
  const t0 = monotonic_ms();
  const marker = d.line(new RegExp(`rejected \\(${END_MARKER_CELL},`));
  const end = marker.then(async (t) => {
    if (t !== undefined) return { t_ms: t };
    const e = await d.exited;
    const s = ((monotonic_ms() - t0) / 1000).toFixed(0);
    return { failure: `died at ${s} s: ${oomOr(d.stderrTail(), `exit ${String(e.code ?? e.signal)}`)}` };
  });
  const health = `http://127.0.0.1:${healthPort}`;
  const mid = d.line(new RegExp(`rejected \\(${MID_MARKER_CELL},`));
  // prom-client's event-loop histogram restarts at each scrape: this one makes the end's cover the second half.
  void mid.then(() => scrapeSum(health, [LOOP_MAX]).catch(() => undefined));
  return {
    pid: d.pid,
    end,
    mid,
    async verify(expected) {
      // The lab-wide sums: at 10,000 cells a scrape has no per-cell series (health.perCellMetrics).
      const names = ['oep_lab_readings_accepted_total', 'oep_lab_readings_duplicate_total', 'oep_lab_readings_late_total', 'oep_lab_cycles_total'] as const;
      const m = await scrapeSum(health, [
        ...names,
        'oep_influx_points_written_total',
        'oep_influx_points_enqueued_total',
        'oep_journal_syncs_total',
        LOOP_MAX,
        LOOP_P99,
        CHECKPOINT_BLOCK,
      ]);
      const got = (m.oep_lab_readings_accepted_total ?? 0) + (m.oep_lab_readings_duplicate_total ?? 0) + (m.oep_lab_readings_late_total ?? 0);
      const late = (m.oep_lab_readings_late_total ?? 0) + (m.oep_lab_readings_duplicate_total ?? 0);
      const failure = got !== expected ? `got ${got} of ${expected}` : late > 0 ? `${late} late/duplicate` : undefined;
      const loop = {
        loopMax_ms: (m[LOOP_MAX] ?? NaN) * 1000,
        loopP99_ms: (m[LOOP_P99] ?? NaN) * 1000,
        checkpointBlock_ms: (m[CHECKPOINT_BLOCK] ?? NaN) * 1000,
      };
      return {
        ...(failure !== undefined ? { failure } : {}),
        cycles: m.oep_lab_cycles_total ?? 0,
        influxPoints: m.oep_influx_points_enqueued_total ?? 0,
        journalSyncs: m.oep_journal_syncs_total ?? 0,
        ...loop,
      };
    },
    async stop() {
      const e = await d.stop();
      // V8's last GCs (in the log of a heap OOM) say how big the heap was; its native stack says nothing.
      if (e.code !== 0) process.stderr.write(`bench: oep run exited ${String(e.code ?? e.signal)}; its last log lines:\n${lastWords(d.stderrTail())}\n`);
    },
  };
}

async function startBare(brokerUrl: string): Promise<Subscriber> {
  const child = fork(here('./bare-subscriber.js'), [brokerUrl, 'bench-bare'], { stdio: 'inherit' });
  let counted = 0;
  let loop = {};
  const exited = new Promise<string>((r) =>
    child.once('exit', (code, sig) => {
      r(`exit ${String(code ?? sig)}`);
    }),
  );
  const mid = new Promise<void>((resolve) => {
    child.on('message', (m: { type: string }) => {
      if (m.type === 'mid') resolve();
    });
  });
  const end = new Promise<{ t_ms: number } | { failure: string }>((resolve) => {
    child.on('message', (m: { type: string; readings?: number; loopMax_ms?: number; loopP99_ms?: number }) => {
      if (m.type !== 'end') return;
      counted = m.readings ?? 0;
      loop = { loopMax_ms: m.loopMax_ms ?? NaN, loopP99_ms: m.loopP99_ms ?? NaN };
      resolve({ t_ms: monotonic_ms() });
    });
    void exited.then((why) => {
      resolve({ failure: `bare subscriber died (${why})` });
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type: string }) => {
      if (m.type === 'ready') resolve();
    });
    void exited.then((why) => {
      reject(new Error(`bare subscriber did not start (${why})`));
    });
  });
  return {
    pid: child.pid ?? 0,
    end,
    mid,
    verify: (expected) => Promise.resolve(counted === expected ? loop : { failure: `got ${counted} of ${expected}` }),
    async stop() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

/** The publisher's process; `started` resolves when it sends its first message, `done` once all are acknowledged. */
interface Publisher {
  readonly pid: number;
  /** Resolves with the publisher's report just before its first message. */
  readonly started: Promise<PublisherReport>;
  /** Resolves with its report once every message is acknowledged, after which it exits. */
  readonly done: Promise<PublisherReport>;
  kill(): void;
}

function startPublisher(a: PublisherArgs): Publisher {
  const child = fork(here('./publisher.js'), publisherArgv(a), { stdio: 'inherit' });
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      r(code);
    }),
  );
  const report = (type: PublisherReport['type']): Promise<PublisherReport> =>
    new Promise((resolve, reject) => {
      child.on('message', (m: PublisherReport) => {
        if (m.type === type) resolve(m);
      });
      void exited.then((code) => {
        reject(new Error(`publisher exited ${String(code)} before '${type}'`));
      });
    });
  const started = report('start');
  const done = report('done');
  // A rejection nobody awaits (the round failed and killed the publisher) must not crash the bench.
  done.catch(() => undefined);
  return { pid: child.pid ?? 0, started, done, kill: () => child.kill('SIGKILL') };
}

/**
 * Half period of the current's square wave for a sweep: one value for all its cases, so that a reading
 * carries the same share of steps and cycles at every cell count (a per-case period gave 10,000 cells ×
 * 100 readings ~50× the steps per reading of 100 cells × 5,000, and the cost per reading seemed to grow
 * with the cells). About four cycles per cell in the case with the fewest readings per cell, steps of at
 * least 20 s (the default minimum step is 10 s).
 */
export const halfPeriodFor = (cases: readonly SweepCase[], channels: number): number =>
  Math.max(20, Math.floor(Math.min(...cases.map((c) => c.readings / c.cells)) / channels / 8));

/** CPU time of each process so far, µs. */
const cpuOf = (pids: readonly number[]): number[] => pids.map((p) => cpuTime_us(p) ?? NaN);

async function measure(side: Side, sub: Subscriber, c: SweepCase, o: SweepOptions, broker: MosquittoHandle): Promise<RoundResult> {
  const messages = Math.round(c.readings / o.batch);
  const readings = messages * o.batch;
  const halfPeriod_s = o.halfPeriod_s;
  const pub = startPublisher({ url: broker.url, cells: c.cells, messages, batch: o.batch, window: o.window, channels: o.channels, halfPeriod_s, rate: o.rate });
  const pids = [sub.pid, childWithArg(process.pid, broker.configPath) ?? 0];
  // The last peak RSS seen, for a subscriber that dies (its /proc entry goes with it).
  let peak = NaN;
  const sampler = setInterval(() => (peak = peakRss_MB(sub.pid) ?? peak), 250);
  const start = await pub.started;
  const [cpu0 = NaN, broker0 = NaN] = cpuOf(pids);
  let cpuMid = NaN;
  void sub.mid.then(() => (cpuMid = cpuOf(pids)[0] ?? NaN));
  const timeout = new Promise<{ failure: string }>((r) =>
    setTimeout(
      () => {
        r({ failure: 'timed out' });
      },
      120_000 + readings / 10,
    ).unref(),
  );
  const end = await Promise.race([sub.end, timeout]);
  const [cpu1 = NaN, broker1 = NaN] = cpuOf(pids);
  clearInterval(sampler);
  peak = peakRss_MB(sub.pid) ?? peak;
  const base = {
    side,
    cells: c.cells,
    readings,
    peakRss_MB: peak,
    publisherCpu_us: NaN,
    brokerCpu_us: broker1 - broker0,
    steadyCpu_us: cpu1 - cpuMid,
    steadyReadings: (messages - Math.floor(messages / 2)) * o.batch,
  };
  if ('failure' in end) {
    pub.kill();
    return { ...base, failure: end.failure, wall_s: NaN, cpu_us: NaN };
  }
  const done = await pub.done;
  const v = await sub.verify(readings);
  return { ...base, ...v, publisherCpu_us: done.cpu_us - start.cpu_us, wall_s: (end.t_ms - start.t_ms) / 1000, cpu_us: cpu1 - cpu0 };
}

/** One round: a fresh broker, the subscriber, the publisher; everything stopped afterwards. */
export async function round(side: Side, c: SweepCase, o: SweepOptions, vm: VmHandle): Promise<RoundResult> {
  const broker = await startMosquitto({ extraConfig: ['max_inflight_messages 0', 'max_inflight_bytes 0'] });
  const dir = mkdtempSync(join(tmpdir(), 'oep-bench-'));
  try {
    const sub = side === 'oep' ? await startOep(broker.url, vm, dir, c.cells) : await startBare(broker.url);
    try {
      return await measure(side, sub, c, o, broker);
    } finally {
      await sub.stop();
    }
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
