/**
 * In-process figures (`npm run bench -- inprocess` / `-- memory`; not part of the default run): the pipeline
 * without MQTT, fed the simulator's wire messages, in the bench's own process.
 *   inprocess: raw 10-reading JSON payloads → parse → align → segment → metrics, 100 cells; and typed readings only
 *   memory: peak RSS while ≥ 10 million readings stream through 100 cells (the simulator in the same process)
 */
import { Subject } from 'rxjs';
import { parseMessages, processInLab } from '../pipelines/operators.js';
import type { RawMessage } from '../src/adapters/mqtt.js';
import { parseConfig } from '../src/config/schema.js';
import { resolveCell } from '../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../src/domain/lab.js';
import { parseMessage } from '../src/ingest/payload.js';
import { defaultSimCellSpec } from '../src/sim/cell-spec.js';
import { simulateCells } from '../src/sim/simulator.js';
import { collectGarbage } from './process-bench.js';

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

export function inProcess(readings: number): void {
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
export function memory(readings: number): void {
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
