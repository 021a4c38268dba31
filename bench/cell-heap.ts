/**
 * Live heap per cell, in one process without MQTT: `node --expose-gc dist/bench/cell-heap.js [cells] [readings per cell] [snapshot file]`
 * (default 2,000 cells × 300 readings). A lab as the daemon builds it (settings shared between equal cells,
 * gaps tracked) takes the bench publisher's traffic: pressure and current per cell, 10 readings a message,
 * 1 Hz of event time, a square-wave current of 20 s half period (bench/publisher.ts), the cells' messages
 * interleaved as the publisher sends them. Before and after: two full collections, then the V8 heap used
 * and the memory outside it (typed arrays' backing stores), per cell. With a file name, a heap snapshot
 * is written at the end (compare retained sizes by constructor, e.g. in Chrome's DevTools).
 */
import { writeHeapSnapshot } from 'node:v8';
import { Subject } from 'rxjs';
import { parseMessages, processInLab } from '../pipelines/operators.js';
import { settingsSharer } from '../pipelines/shared-settings.js';
import type { RawMessage } from '../src/adapters/mqtt.js';
import { parseConfig } from '../src/config/schema.js';
import { resolveCell, type ResolvedCell } from '../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../src/domain/lab.js';
import { collectGarbage } from './process-bench.js';

const BATCH = 10;
/** The current's square-wave half period, s (OEP_BENCH_HALF_PERIOD; default 20). */
const HALF_PERIOD_MS = Number(process.env.OEP_BENCH_HALF_PERIOD ?? '20') * 1000;
const T0_MS = Date.UTC(2026, 0, 1);

const cells = Number(process.argv[2] ?? 2_000);
const perCell = Number(process.argv[3] ?? 300);
const snapshotFile = process.argv[4];

const cfg = parseConfig({ defaults: { activeMassG: 0.0179, nominalCurrent_mA: 0.65 } });
const share = settingsSharer();
const cache = new Map<string, ResolvedCell>();
const settingsFor = (id: string): ResolvedCell => {
  let r = cache.get(id);
  if (r === undefined) cache.set(id, (r = share(resolveCell(cfg, id))));
  return r;
};
const lab = new Lab(settingsFor, undefined, { trackGaps: true });
const subject = new Subject<RawMessage>();
let events = 0;
subject
  .pipe(parseMessages({ topicPrefix: 'oep', settingsFor: (id) => settingsFor(id).ingest, maxFutureSkew_ms: 0 }), processInLab(lab))
  .subscribe((e: LabEvent[]) => (events += e.length));

const usage = (): { heap: number; outside: number } => {
  collectGarbage();
  collectGarbage();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, outside: m.external };
};

/** Message `m` of the publisher's sequence: the cell, the channel, 10 readings as JSON. */
function message(m: number): RawMessage {
  const k = Math.floor(m / cells);
  const channel = k % 2 === 0 ? 'pressure' : 'current';
  const first = Math.floor(k / 2) * BATCH;
  const parts: string[] = [];
  for (let j = 0; j < BATCH; j++) {
    const t = (first + j) * 1000;
    const charging = Math.floor(t / HALF_PERIOD_MS) % 2 === 0;
    const phase = (t % HALF_PERIOD_MS) / HALF_PERIOD_MS;
    const value = channel === 'pressure' ? 15 + (charging ? phase : 1 - phase) * 2 : charging ? 0.65 : -0.65;
    parts.push(`{"ts":${String(T0_MS + t)},"value":${String(value)}}`);
  }
  return { topic: `oep/b${String(m % cells)}/${channel}`, payload: Buffer.from(`[${parts.join(',')}]`), arrival: T0_MS + first * 1000 };
}

const before = usage();
const messages = Math.round((cells * perCell) / BATCH);
for (let m = 0; m < messages; m++) subject.next(message(m));
const after = usage();
const perCellB = (k: 'heap' | 'outside'): string => ((after[k] - before[k]) / cells).toFixed(0);
const c = lab.cells.get('b0');
console.log(
  `${String(cells)} cells × ${String(perCell)} readings (${String(c?.counters.steps)} steps, ${String(c?.counters.cycles)} cycles a cell, ${String(events)} events): ` +
    `live V8 heap ${(after.heap / 2 ** 20).toFixed(1)} MB (before the cells ${(before.heap / 2 ** 20).toFixed(1)}), per cell ${perCellB('heap')} B in the V8 heap ` +
    `and ${perCellB('outside')} B outside it`,
);
if (snapshotFile !== undefined) console.log(`heap snapshot: ${writeHeapSnapshot(snapshotFile)}`);
