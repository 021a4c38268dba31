/**
 * `npm run bench`: prints the figures the targets are checked against.
 *   1. in-process pipeline throughput, 100 cells (raw MQTT payloads → parse → align → segment → metrics)
 *   2. end to end through a real Mosquitto into the file sink, next to a bare MQTT.js subscriber's rate
 *   3. peak RSS while ≥ 10 million readings stream through 100 cells
 *   4. `oep process` rows/s on a generated 1-million-row EC-Lab export vs a plain line-by-line read (bench/process-bench.ts)
 *   5. the journal's cost end to end (`journal`) and a checkpoint's duration (`checkpoint`, bench/checkpoint.ts)
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { Daemon } from '../pipelines/daemon.js';
import { parseMessages, processInLab } from '../pipelines/operators.js';
import { Subject } from 'rxjs';
import type { RawMessage } from '../src/adapters/mqtt.js';
import { createLogger } from '../src/adapters/log.js';
import { parseConfig, resolveCell } from '../src/config/schema.js';
import { Lab, type LabEvent } from '../src/domain/lab.js';
import { parseMessage } from '../src/ingest/payload.js';
import { defaultSimCellSpec } from '../src/sim/cell-spec.js';
import { simulateCells } from '../src/sim/simulator.js';
import { startMosquitto } from '../test/support/services.js';
import { collectGarbage, processBench } from './process-bench.js';
import { alertLatency } from './latency.js';
import { checkpointBench } from './checkpoint.js';

const CELLS = 100;
const BATCH = 10;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Simulated lab as wire messages: per cell and channel, batches of BATCH readings, in time order. */
function* simulatedMessages(cells: number, seed: number): Generator<RawMessage> {
  const specs = Array.from({ length: cells }, (_, i) => defaultSimCellSpec(`sim${i}`, { pressureUnit: i % 2 === 0 ? 'kgf' : 'MPa' }));
  const pending = new Map<string, { ts: number; value: number; unit: string }[]>();
  for (const r of simulateCells(specs, { startTs: Date.UTC(2026, 0, 1), seed, cycles: 1_000 })) {
    const topic = `oep/${r.cell}/${r.channel}`;
    let b = pending.get(topic);
    if (b === undefined) pending.set(topic, (b = []));
    b.push({ ts: r.ts, value: r.value, unit: r.unit });
    if (b.length === BATCH) {
      pending.set(topic, []);
      yield { topic, payload: Buffer.from(JSON.stringify(b)), arrival: r.ts };
    }
  }
}

/** A lab as the daemon builds it: each cell's settings resolved once. */
function newLab(): { lab: Lab; settingsFor: (id: string) => ReturnType<typeof resolveCell> } {
  const cfg = parseConfig({ alignment: { maxFutureSkew_ms: 0 }, defaults: { activeMassG: 0.0179, pressureUnit: 'MPa' } });
  const cache = new Map<string, ReturnType<typeof resolveCell>>();
  const settingsFor = (id: string): ReturnType<typeof resolveCell> => {
    let r = cache.get(id);
    if (r === undefined) cache.set(id, (r = resolveCell(cfg, id)));
    return r;
  };
  return { lab: new Lab(settingsFor), settingsFor };
}

function inProcess(readings: number): void {
  const msgs: RawMessage[] = [];
  let n = 0;
  for (const m of simulatedMessages(CELLS, 1)) {
    msgs.push(m);
    n += BATCH;
    if (n >= readings) break;
  }
  const rates: number[] = [];
  let events = 0;
  for (let round = 0; round < 5; round++) {
    const { lab, settingsFor } = newLab();
    const subject = new Subject<RawMessage>();
    events = 0;
    subject
      .pipe(parseMessages({ topicPrefix: 'oep', settingsFor: (id) => settingsFor(id).ingest, maxFutureSkew_ms: 0 }), processInLab(lab))
      .subscribe((e: LabEvent[]) => (events += e.length));
    collectGarbage();
    const t0 = process.hrtime.bigint();
    for (const m of msgs) subject.next(m);
    rates.push(n / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  rates.sort((a, b) => a - b);
  console.log(
    `in-process pipeline, ${CELLS} cells, ${BATCH}-reading payloads → steps, cycles, alerts: median ${fmt(rates[2] ?? NaN)} readings/s ` +
      `(best ${fmt(rates[4] ?? NaN)}, worst ${fmt(rates[0] ?? NaN)}; 5 rounds of ${fmt(n)} readings, ${events} events per round)`,
  );
  // Typed readings only (no JSON): the cost of alignment, segmentation and metrics.
  const { lab, settingsFor } = newLab();
  const typed = msgs.map((m) => {
    const cell = m.topic.split('/')[1] ?? '?';
    // The edge's typed readings of the bench's payloads (converted before the clock starts).
    const parsed = parseMessage(m.topic, m.payload, m.arrival, 'oep', (id) => settingsFor(id).ingest);
    return { cell, readings: parsed.readings, arrival: m.arrival };
  });
  const t0 = process.hrtime.bigint();
  const ev: LabEvent[] = [];
  for (const b of typed) lab.ingest(b.cell, b.readings, b.arrival, ev);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`in-process, typed readings (align + segment + metrics only): ${fmt(n / s)} readings/s`);
}

/** In-process, with the simulator in the same process (its garbage counts too). */
function memory(readings: number): void {
  const { lab, settingsFor } = newLab();
  const subject = new Subject<RawMessage>();
  subject.pipe(parseMessages({ topicPrefix: 'oep', settingsFor: (id) => settingsFor(id).ingest, maxFutureSkew_ms: 0 }), processInLab(lab)).subscribe();
  let n = 0;
  let peak = 0;
  const samples: string[] = [];
  const t0 = Date.now();
  for (const m of simulatedMessages(CELLS, 2)) {
    subject.next(m);
    n += BATCH;
    if (n % 100_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    if (n % 1_000_000 === 0) {
      const rss = process.memoryUsage().rss;
      peak = Math.max(peak, rss);
      collectGarbage();
      samples.push(`${n / 1e6}M:${Math.round(rss / 2 ** 20)}/${Math.round(process.memoryUsage().heapUsed / 2 ** 20)}`);
    }
    if (n >= readings) break;
  }
  console.log(
    `memory: ${fmt(n)} readings through ${CELLS} cells in ${((Date.now() - t0) / 1000).toFixed(0)} s (simulator included); peak RSS ${Math.round(peak / 2 ** 20)} MB; by readings, RSS MB / live heap MB after GC: ${samples.join(' ')}`,
  );
}

function benchConfig(url: string, out: string, journal: boolean): ReturnType<typeof parseConfig> {
  return parseConfig({
    mqtt: { url, clientId: 'bench-oep', cleanSession: true },
    output: { dir: out },
    ...(journal ? { state: { dir: join(out, 'state') } } : {}),
    alignment: { maxFutureSkew_ms: 0 },
    defaults: { activeMassG: 0.0179 },
  });
}

async function endToEnd(messages: number, label = 'end to end', withMemory = false, journal = false): Promise<number> {
  const broker = await startMosquitto();
  const publisher = fileURLToPath(new URL('./publisher.js', import.meta.url));
  const publish = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = fork(publisher, [broker.url, String(messages), String(BATCH), String(CELLS)], { stdio: 'inherit' });
      child.on('exit', (code) => {
        if (code === 0) resolve();
        else reject(new Error(`publisher exited ${String(code)}`));
      });
    });
  try {
    // Bare MQTT.js subscriber: receives each message and parses its JSON to count the readings.
    const bare = await mqtt.connectAsync(broker.url, { clientId: 'bench-bare', clean: true });
    await bare.subscribeAsync('oep/+/+', { qos: 1 });
    let got = 0;
    let first = 0;
    let last = 0;
    bare.on('message', (_t, p) => {
      if (got === 0) first = performance.now();
      const batch: unknown = JSON.parse(p.toString());
      got += Array.isArray(batch) ? batch.length : 0;
      last = performance.now();
    });
    await publish();
    while (got < messages * BATCH) await new Promise((r) => setTimeout(r, 50));
    const bareRate = got / ((last - first) / 1000);
    await bare.endAsync();

    const out = mkdtempSync(join(tmpdir(), 'oep-bench-'));
    const config = benchConfig(broker.url, out, journal);
    const daemon = new Daemon({ config, log: createLogger('error') });
    await daemon.start();
    let peak = 0;
    const rssSamples: number[] = [];
    let atPeak = '';
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      if (m.rss > peak)
        atPeak = `heap ${Math.round(m.heapUsed / 2 ** 20)}/${Math.round(m.heapTotal / 2 ** 20)} MB, external ${Math.round(m.external / 2 ** 20)} MB, buffers ${Math.round(m.arrayBuffers / 2 ** 20)} MB`;
      peak = Math.max(peak, m.rss);
      rssSamples.push(m.rss);
      if (rssSamples.length % 20 === 0 && process.env.OEP_BENCH_GC === '1') {
        collectGarbage();
        liveHeap.push(Math.round(process.memoryUsage().heapUsed / 2 ** 20));
      }
    }, 250);
    const liveHeap: number[] = [];
    let oFirst = 0;
    let oLast = 0;
    daemon.mqtt.messages$.subscribe(() => {
      const t = performance.now();
      if (oFirst === 0) oFirst = t;
      oLast = t;
    });
    await publish();
    const accepted = (): number => [...daemon.lab.cells.values()].reduce((s, c) => s + c.counters.accepted + c.counters.duplicate + c.counters.late, 0);
    while (accepted() < messages * BATCH) await new Promise((r) => setTimeout(r, 50));
    const oepRate = accepted() / ((oLast - oFirst) / 1000);
    clearInterval(sampler);
    const cycles = [...daemon.lab.cells.values()].reduce((s, c) => s + c.counters.cycles, 0);
    await daemon.stop();
    const q = (f: number): number => Math.round(([...rssSamples].sort((a, b) => a - b)[Math.floor(f * (rssSamples.length - 1))] ?? NaN) / 2 ** 20);
    const tenth = Math.max(1, Math.floor(rssSamples.length / 10));
    const mb = (xs: number[]): number => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length / 2 ** 20);
    rmSync(out, { recursive: true, force: true });
    const memoryNote = `daemon process RSS peak ${Math.round(peak / 2 ** 20)} MB, median ${q(0.5)} MB, mean of first/last tenth ${mb(rssSamples.slice(0, tenth))}/${mb(rssSamples.slice(-tenth))} MB (at peak: ${atPeak})${liveHeap.length > 0 ? `; live heap after GC every 5 s: ${liveHeap.join(' ')} MB` : ''}`;
    console.log(
      `${label} through Mosquitto (${fmt(messages)} messages × ${BATCH} readings, ${CELLS} cells, ${cycles} cycles cut): oep ${fmt(oepRate)} readings/s, ` +
        `bare MQTT.js subscriber ${fmt(bareRate)} readings/s, ratio ${(oepRate / bareRate).toFixed(2)}` +
        (withMemory ? `; ${memoryNote}` : ''),
    );
    return oepRate;
  } finally {
    await broker.stop();
  }
}

/** The journal's cost: end to end without and with it (state folder, write-ahead journal, held PUBACKs), interleaved. */
async function journalCost(messages: number, rounds: number): Promise<void> {
  const without: number[] = [];
  const withJournal: number[] = [];
  for (let r = 0; r < rounds; r++) {
    without.push(await endToEnd(messages, 'end to end, no journal'));
    withJournal.push(await endToEnd(messages, 'end to end, journal', false, true));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const cost = 1 - median(withJournal) / median(without);
  console.log(
    `journal: median ${fmt(median(withJournal))} vs ${fmt(median(without))} readings/s without it (${rounds} interleaved rounds): ${(cost * 100).toFixed(1)} % slower`,
  );
}

const which = process.argv[2] ?? 'all';
if (which === 'all' || which === 'inprocess') inProcess(2_000_000);
if (which === 'all' || which === 'journal') await journalCost(200_000, 3);
if (which === 'all' || which === 'checkpoint') for (const n of [100, 1_000]) console.log(checkpointBench(n));
if (which === 'all' || which === 'e2e') await endToEnd(200_000);
if (which === 'soak-child') await endToEnd(1_000_000, 'soak: 10 million readings', true);
if (which === 'all' || which === 'soak') {
  // The daemon as the launcher (bin/oep.js) runs it: a 128 MB old space, in a process of its own.
  const child = fork(fileURLToPath(import.meta.url), ['soak-child'], { execArgv: ['--max-old-space-size=128', '--expose-gc'], stdio: 'inherit' });
  await new Promise<void>((resolve, reject) =>
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`soak exited ${String(code)}`));
    }),
  );
}
if (which === 'all' || which === 'latency') console.log(await alertLatency());
if (which === 'all' || which === 'memory') memory(10_000_000);
if (which === 'all' || which === 'process') await processBench(1_000_000);
