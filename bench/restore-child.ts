/**
 * One restore of a state folder in a process of its own, as the daemon starts (bench/checkpoint.ts runs it):
 * `node --expose-gc dist/bench/restore-child.js <state dir>`. The lab's cells are set up as checkpoint.ts's
 * (the same config). Prints one JSON line ({@link RestoreFigures}): the restore's wall and CPU time, and the V8
 * heap before it, at its peak (read every 100 cells, so a lower bound), and kept after a full collection.
 */
import { getHeapStatistics } from 'node:v8';
import { StateStore } from '../src/adapters/state-store.js';
import { resolveCell } from '../src/config/cell-setup.js';
import { parseConfig } from '../src/config/schema.js';
import { Lab } from '../src/domain/lab.js';

export interface RestoreFigures {
  readonly cells: number;
  readonly wall_ms: number;
  /** CPU time of the process during the restore (every thread: the garbage collector's too), ms. */
  readonly cpu_ms: number;
  readonly heapBefore_MB: number;
  readonly heapPeak_MB: number;
  readonly heapKept_MB: number;
}

const MB = 2 ** 20;
const heapUsed = (): number => getHeapStatistics().used_heap_size;
/** A full collection (the bench runs node with --expose-gc). */
function collect(): void {
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- node's global gc() exists only with --expose-gc
  const gc = Reflect.get(globalThis, 'gc') as (() => void) | undefined;
  gc?.();
}

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: restore-child.js <state dir>');
const cfg = parseConfig({ defaults: { activeMassG: 0.0179 } });
let peak = 0;
let n = 0;
const lab = new Lab((id) => resolveCell(cfg, id), undefined, {
  onCell: () => {
    if (++n % 100 === 0) peak = Math.max(peak, heapUsed());
  },
});
const store = new StateStore(dir);
collect();
const before = heapUsed();
const cpu = process.cpuUsage();
const t = performance.now();
const restored = store.restore(lab);
const wall_ms = performance.now() - t;
const used = process.cpuUsage(cpu);
peak = Math.max(peak, heapUsed());
store.close();
collect();
const figures: RestoreFigures = {
  cells: restored?.cells ?? 0,
  wall_ms,
  cpu_ms: (used.user + used.system) / 1000,
  heapBefore_MB: before / MB,
  heapPeak_MB: peak / MB,
  heapKept_MB: heapUsed() / MB,
};
console.log(JSON.stringify(figures));
