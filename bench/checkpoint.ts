/**
 * `npm run bench -- checkpoint`: what a checkpoint costs with N cells that each hold 5 minutes of 1 Hz
 * current, pressure and voltage: the first (every cell encoded, a fresh log), then with 1 % of the cells
 * changed, then none. Each is taken as the daemon takes it (a slice at a time, the event loop given back
 * between slices) while a timer feeds 10 cells every 10 ms (30,000 readings/s); the event loop's longest delay
 * (perf_hooks.monitorEventLoopDelay) is the figure the 50 ms target is about. Beside it: the first
 * checkpoint taken at once (`StateStore.save`, as every checkpoint was before format 4). Each starts after a
 * full garbage collection (the one at once too, since the CPU figures: the second lab's filling left its garbage
 * to the save before), and each reports the process's CPU time meanwhile (load-proof where wall time is not).
 * Last, the restore of the log the three left, in a process of its own (restore-child.ts) with the heap flags the
 * daemon gets at that many cells (bin/oep.js, src/commands/run.ts heapNeed): its time, CPU time and heap.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { StateStore, type CheckpointReport } from '../src/adapters/state-store.js';
import { heapNeed } from '../src/commands/run.js';
import { parseConfig } from '../src/config/schema.js';
import { resolveCell } from '../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../src/domain/lab.js';
import type { Reading } from '../src/domain/types.js';
import { runChild } from './child-run.js';
import type { RestoreFigures } from './restore-child.js';

const T = Date.UTC(2026, 0, 1);
const SECONDS = 300;
/**
 * Cells fed every 10 ms while a checkpoint is taken: 1,000 batches of 30 readings a second, 30,000
 * readings/s, about what the daemon takes in on this machine (a share of the cells would outgrow it at 10,000).
 */
const FED_PER_TICK = 10;

function feedCell(lab: Lab, cell: string, s: number, ev: LabEvent[]): void {
  const b: Reading[] = [];
  for (let k = 0; k < 10; k++) {
    const ts = T + (s + k) * 1000;
    b.push(
      { cell, channel: 'current', ts, value: 0.5 },
      { cell, channel: 'pressure', ts, value: 5 + (s + k) * 1e-4 },
      { cell, channel: 'voltage', ts, value: 3.8 },
    );
  }
  lab.ingest(cell, b, T + (s + 10) * 1000, ev);
  ev.length = 0;
}

function filledLab(cells: number): Lab {
  const cfg = parseConfig({ defaults: { activeMassG: 0.0179 } });
  const lab = new Lab((id) => resolveCell(cfg, id));
  const ev: LabEvent[] = [];
  for (let s = 0; s < SECONDS; s += 10) for (let c = 0; c < cells; c++) feedCell(lab, `c${c}`, s, ev);
  return lab;
}

interface Measured {
  readonly wall_ms: number;
  readonly maxDelay_ms: number;
  readonly report: CheckpointReport;
  /** The longest garbage collection pause meanwhile, ms. */
  readonly maxGc_ms: number;
  /** CPU time of the process meanwhile (every thread: the garbage collector's too; the feeder's readings in a sliced one), ms. */
  readonly cpu_ms: number;
}

/** CPU time of the process since `from` (process.cpuUsage), ms. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

/** The longest GC pause from now until the returned function is called. */
function gcWatch(): () => number {
  let max = 0;
  const o = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) max = Math.max(max, e.duration);
  });
  o.observe({ entryTypes: ['gc'] });
  return () => {
    o.disconnect();
    return max;
  };
}

/**
 * A full collection first (`npm run bench` runs node with --expose-gc): filling the lab leaves hundreds of MB
 * of garbage that a daemon under its heap cap never holds, and its collection is not the checkpoint's.
 */
function collect(): void {
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- node's global gc() exists only with --expose-gc
  const gc = Reflect.get(globalThis, 'gc') as (() => void) | undefined;
  gc?.();
}

/** One checkpoint taken a slice at a time while {@link FED_PER_TICK} cells get readings every 10 ms. */
async function sliced(store: StateStore, lab: Lab, cells: number, seq: number, s0: number): Promise<Measured> {
  collect();
  const ev: LabEvent[] = [];
  let s = s0;
  const feeder = setInterval(() => {
    for (let c = 0; c < FED_PER_TICK; c++) feedCell(lab, `c${(c * 97 + s) % cells}`, s, ev);
    s += 10;
  }, 10);
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const gc = gcWatch();
  const cpu = process.cpuUsage();
  const t = performance.now();
  const report = await store.checkpoint(lab, { savedAt: seq, journal: { seq, recent: [] } });
  const wall_ms = performance.now() - t;
  h.disable();
  clearInterval(feeder);
  return { wall_ms, maxDelay_ms: h.max / 1e6, report, maxGc_ms: gc(), cpu_ms: cpuSince(cpu) };
}

const RESTORE_CHILD = fileURLToPath(new URL('./restore-child.js', import.meta.url));
/** bin/oep.js's young generation cap for the daemon (SEMI_SPACE_MB there). */
const DAEMON_SEMI_SPACE_MB = 8;

/** The restore of the state folder `dir` in a child process with the daemon's heap flags for `cells` cells. */
async function restoreInChild(dir: string, cells: number): Promise<RestoreFigures & { readonly heapCap_MB: number; readonly peakRss_MB: number }> {
  const heapCap_MB = Math.max(128, heapNeed(cells, 0)?.suggest_MB ?? 0);
  const r = await runChild([
    `--max-old-space-size=${String(heapCap_MB)}`,
    `--max-semi-space-size=${String(DAEMON_SEMI_SPACE_MB)}`,
    '--expose-gc',
    RESTORE_CHILD,
    dir,
  ]);
  if (r.code !== 0) throw new Error(`the restore failed (exit ${String(r.code)}): ${r.stderr}`);
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- restore-child.ts prints one RestoreFigures line
  const figures = JSON.parse(r.stdout) as RestoreFigures;
  return { ...figures, heapCap_MB, peakRss_MB: r.peakRss_MB };
}

export async function checkpointBench(cells: number): Promise<string> {
  const lab = filledLab(cells);
  const dir = mkdtempSync(join(tmpdir(), 'oep-bench-state-'));
  const once = mkdtempSync(join(tmpdir(), 'oep-bench-state-'));
  const store = new StateStore(dir);
  const first = await sliced(store, lab, cells, 1, SECONDS);
  const ev: LabEvent[] = [];
  for (let c = 0; c < cells / 100; c++) feedCell(lab, `c${c}`, 10 * SECONDS, ev);
  lab.changes.takeDirty(); // what the feeder changed during the first one: the next checkpoint holds 1 % changed
  for (let c = 0; c < cells / 100; c++) feedCell(lab, `c${c}`, 10 * SECONDS + 10, ev);
  const some = await sliced(store, lab, cells, 2, 20 * SECONDS);
  lab.changes.takeDirty();
  collect();
  const none = await new Promise<Measured>((resolve, reject) => {
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const gc = gcWatch();
    const cpu = process.cpuUsage();
    const t = performance.now();
    store.checkpoint(lab, { savedAt: 3, journal: { seq: 3, recent: [] } }).then((report) => {
      h.disable();
      resolve({ wall_ms: performance.now() - t, maxDelay_ms: h.max / 1e6, report, maxGc_ms: gc(), cpu_ms: cpuSince(cpu) });
    }, reject);
  });
  store.close();
  const restore = await restoreInChild(dir, cells);
  const all = filledLab(cells);
  collect();
  const cpu = process.cpuUsage();
  const t = performance.now();
  const bytes = new StateStore(once).save(all, { savedAt: 0, journal: { seq: 0, recent: [] } });
  const atOnce = performance.now() - t;
  const atOnceCpu = cpuSince(cpu);
  rmSync(dir, { recursive: true, force: true });
  rmSync(once, { recursive: true, force: true });
  const ms = (x: number): string => `${Math.round(x)} ms`;
  const line = (name: string, m: Measured): string =>
    `${name}: ${m.report.encoded} encoded, ${(m.report.bytes / 2 ** 20).toFixed(1)} MB written in ${ms(m.wall_ms)}, longest slice ${ms(m.report.longestSlice_ms)}, event loop delay max ${ms(m.maxDelay_ms)} (longest GC pause ${ms(m.maxGc_ms)}), CPU ${ms(m.cpu_ms)}`;
  return [
    `checkpoint, ${cells} cells × ${SECONDS / 60} min of 1 Hz readings (log ${(bytes / 2 ** 20).toFixed(1)} MB), 10 cells fed every 10 ms meanwhile (30,000 readings/s):`,
    `  ${line('first', first)}`,
    `  ${line('1 % changed', some)}`,
    `  ${line('none changed', none)}`,
    `  first taken at once (StateStore.save, the event loop blocked throughout): ${ms(atOnce)}, CPU ${ms(atOnceCpu)} (${((1000 * atOnceCpu) / cells).toFixed(1)} µs a cell)`,
    `  restore of that log (${String(restore.cells)} cells, a fresh process, heap cap ${String(restore.heapCap_MB)} MB): ${ms(restore.wall_ms)}, CPU ${ms(restore.cpu_ms)} (${((1000 * restore.cpu_ms) / cells).toFixed(1)} µs a cell), ` +
      `heap ${restore.heapBefore_MB.toFixed(0)} MB before, peak ${restore.heapPeak_MB.toFixed(0)} MB, kept ${restore.heapKept_MB.toFixed(0)} MB; process peak RSS ${restore.peakRss_MB.toFixed(0)} MB`,
  ].join('\n');
}
