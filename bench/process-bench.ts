/**
 * `oep process` throughput on a generated EC-Lab export of ≥ 1 million rows, next to the time a plain
 * line-by-line read of the same file takes (node:readline over a read stream, counting lines): the ratio
 * is the figure (target ≤ 3). Two layouts: EC-Lab's full GCPL column set (what a GCPL run exports) and a
 * minimal 10-column export (the hardest case for the ratio: little text per reading). Also the peak RSS
 * (files stream; nothing is held whole).
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { processFiles } from '../pipelines/process.js';
import { parseConfig, resolveCell } from '../src/config/schema.js';
import { ECLAB_GCPL_COLUMNS } from '../src/readers/biologic/columns.js';

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

const GCPL_COLUMNS = ECLAB_GCPL_COLUMNS;
const PLAIN_COLUMNS = ['mode', 'ox/red', 'error', 'time/s', 'Ewe/V', '<I>/mA', 'cycle number', 'half cycle', 'Q charge/discharge/mA.h', 'P/W'];

/** EC-Lab number style: 6.500000000000000E-001. */
const e16 = (v: number): string => {
  if (v === 0) return '0.000000000000000E+000';
  const [m, ex] = v.toExponential(15).split('e');
  const n = Number(ex);
  return `${m}E${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(3, '0')}`;
};

export type BenchLayout = 'gcpl' | 'plain';

/** A full garbage collection when node runs with --expose-gc (`npm run bench` does), else nothing. */
export function collectGarbage(): void {
  const gc: unknown = Reflect.get(globalThis, 'gc');
  if (typeof gc === 'function') Reflect.apply(gc, undefined, []);
}

/**
 * An EC-Lab export of `rows` rows at 1 s sampling of a 0.65 mA cell cycling 3 h charge / 10 min rest /
 * 3 h discharge / 10 min rest: `gcpl` = the full GCPL column set (25 columns), `plain` = 10 columns.
 */
export async function writeBenchMpt(path: string, rows: number, layout: BenchLayout = 'gcpl'): Promise<void> {
  const out = createWriteStream(path);
  const write = async (s: string): Promise<void> => {
    if (!out.write(s, 'latin1')) await once(out, 'drain');
  };
  await write('EC-Lab ASCII FILE\r\nNb header lines : 3\r\n');
  await write((layout === 'gcpl' ? GCPL_COLUMNS : PLAIN_COLUMNS).join('\t') + '\r\n');
  const phases = [10_800, 600, 10_800, 600]; // s: charge, rest, discharge, rest
  const cycle_s = phases.reduce((a, b) => a + b, 0);
  let buf = '';
  for (let k = 0; k < rows; k++) {
    const t = k; // 1 s sampling
    const c = Math.floor(t / cycle_s);
    let u = t - c * cycle_s;
    let p = 0;
    for (let d = phases[p] ?? Infinity; u >= d; d = phases[++p] ?? Infinity) u -= d;
    const i = p === 0 ? 0.65 : p === 2 ? -0.65 : 0;
    const v = p === 0 ? 3.65 + (0.65 * u) / 10_800 : p === 2 ? 4.15 - (1.15 * u) / 10_800 : p === 1 ? 4.2 : 3.4;
    const half = 2 * c + (p >= 2 ? 1 : 0);
    const q = p === 0 || p === 1 ? (0.65 * Math.min(u + (p === 1 ? 10_800 : 0), 10_800)) / 3600 : -(0.65 * Math.min(u + (p === 3 ? 10_800 : 0), 10_800)) / 3600;
    const mode = p === 0 || p === 2 ? 1 : 3;
    const time = (t + 0.0123).toFixed(4);
    if (layout === 'gcpl') {
      const qc = q > 0 ? q : 0;
      const qd = q < 0 ? -q : 0;
      buf += `${mode}\t${i >= 0 ? 1 : 0}\t0\t0\t0\t0\t${p === 2 ? 1 : 0}\t${time}\t${e16(i)}\t${v.toFixed(7)}\t${e16(i)}\t${e16(i * 3.6)}\t${e16(q)}\t${half}\t${e16(q)}\t${e16((qc * v) / 1000)}\t${e16((qd * v) / 1000)}\t${e16(0)}\t${e16(0)}\t${e16(qd)}\t${e16(qc)}\t${e16(Math.abs(q))}\t${e16(0)}\t${e16(c)}\t${e16((v * i) / 1000)}\t\r\n`;
    } else {
      buf += `${mode}\t${i >= 0 ? 1 : 0}\t0\t${time}\t${v.toFixed(7)}\t${e16(i)}\t${e16(c)}\t${half}\t${e16(q)}\t${e16((v * i) / 1000)}\r\n`;
    }
    if (buf.length > 1 << 16) {
      await write(buf);
      buf = '';
    }
  }
  await write(buf);
  out.end();
  await once(out, 'finish');
}

/** node:readline over a read stream, counting lines: the plain line-by-line read. */
async function readlineCount(path: string): Promise<number> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'latin1' }), crlfDelay: Infinity });
  let n = 0;
  for await (const _line of rl) n++;
  return n;
}

export async function processBench(rows = 1_000_000, layouts: readonly BenchLayout[] = ['gcpl', 'plain']): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'oep-process-bench-'));
  try {
    for (const layout of layouts) {
      const file = join(dir, `bench-${layout}.mpt`);
      await writeBenchMpt(file, rows, layout);
      const size = statSync(file).size;
      const cfg = parseConfig({ defaults: { activeMassG: 0.0179, nominalCurrent_mA: 0.65 } });
      // Three rounds, alternating the two measurements; the best of each (the machine may be busy).
      let bestRead = Infinity;
      let bestProc = Infinity;
      let peak = 0;
      let steps = 0;
      let cycles = 0;
      for (let round = 0; round < 3; round++) {
        let t0 = performance.now();
        const lines = await readlineCount(file);
        bestRead = Math.min(bestRead, (performance.now() - t0) / 1000);
        if (lines !== rows + 3) throw new Error(`expected ${rows + 3} lines, read ${lines}`);
        collectGarbage();
        const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
        t0 = performance.now();
        const r = await processFiles({
          cyclerFile: file,
          cell: 'bench',
          setup: resolveCell(cfg, 'bench'),
          cyclerSteps: true,
          outDir: join(dir, `out-${layout}-${round}`),
        });
        bestProc = Math.min(bestProc, (performance.now() - t0) / 1000);
        clearInterval(sampler);
        peak = Math.max(peak, process.memoryUsage().rss);
        if (r.rows !== rows || r.late !== 0) throw new Error(`process read ${r.rows} rows, ${r.late} late`);
        steps = r.steps;
        cycles = r.cycles;
      }
      console.log(
        `oep process, EC-Lab ${layout === 'gcpl' ? 'GCPL export, all 25 columns' : 'export, 10 columns'}, ${fmt(rows)} rows ` +
          `(${(size / 2 ** 20).toFixed(0)} MB, ${steps} steps, ${cycles} cycles): ${fmt(rows / bestProc)} rows/s (${bestProc.toFixed(2)} s); ` +
          `plain line-by-line read (node:readline) ${bestRead.toFixed(2)} s; ratio ${(bestProc / bestRead).toFixed(2)}; peak RSS of the bench process ${Math.round(peak / 2 ** 20)} MB`,
      );
      rmSync(file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
