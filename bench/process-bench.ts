/**
 * `oep process` through the CLI (`node bin/oep.js process …`, a child process with the launcher, as users
 * run it) on a generated EC-Lab export of 1 million rows, next to a plain line-by-line read of the same file
 * in a process of its own (node:readline over a read stream, counting lines: bench/line-count.ts); both
 * timed from spawn to exit, so both include starting Node. The ratio is the figure. Two layouts: EC-Lab's
 * full GCPL column set (what a GCPL run exports) and a minimal 10-column export (the hardest case for the
 * ratio: little text per reading). Each side's CPU time (user + system, from /proc, the child's own children
 * included) beside its wall time: the machine is shared, and CPU is the steadier figure. Also the CLI
 * process's peak RSS (files stream; nothing is held whole).
 */
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ECLAB_GCPL_COLUMNS } from '../src/readers/biologic/columns.js';
import { runChild } from './child-run.js';
import { LAUNCHER } from './daemon-process.js';
import { childrenCpuTime_us } from './proc.js';

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

const LINE_COUNT = fileURLToPath(new URL('./line-count.js', import.meta.url));

export interface ProcessFigure {
  readonly layout: BenchLayout;
  readonly rows: number;
  readonly size_MB: number;
  /** Best of the rounds, wall (spawn to exit) and CPU (user + system), s. */
  readonly oep_s: number;
  readonly read_s: number;
  readonly oepCpu_s: number;
  readonly readCpu_s: number;
  readonly peakRss_MB: number;
  /** The CLI's own summary line (rows, steps, cycles). */
  readonly summary: string;
}

/** One `oep process` run through the launcher; throws unless it exits 0 having read every row. */
async function oepProcess(file: string, out: string, rows: number): Promise<{ wall_s: number; cpu_s: number; peakRss_MB: number; summary: string }> {
  const args = [LAUNCHER, 'process', file, '--cell', 'bench', '--out', out, '--active-mass-g', '0.0179', '--nominal-current-ma', '0.65', '--steps', 'cycler'];
  const r = await timedChild(args);
  const summary = /oep process: (.*?) in [\d.]+ s/.exec(r.stderr)?.[1] ?? '';
  if (r.code !== 0 || !summary.includes(`: ${rows} rows`)) throw new Error(`oep process exited ${String(r.code)}: ${r.stderr}`);
  return { wall_s: r.wall_s, cpu_s: r.cpu_s, peakRss_MB: r.peakRss_MB, summary };
}

/** A child run with its CPU time (this process runs one child at a time here). */
async function timedChild(args: readonly string[]): Promise<Awaited<ReturnType<typeof runChild>> & { cpu_s: number }> {
  const cpu0 = childrenCpuTime_us();
  const r = await runChild(args);
  return { ...r, cpu_s: (childrenCpuTime_us() - cpu0) / 1e6 };
}

export async function processBench(rows = 1_000_000, rounds = 3, layouts: readonly BenchLayout[] = ['gcpl', 'plain']): Promise<ProcessFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'oep-process-bench-'));
  const figures: ProcessFigure[] = [];
  try {
    for (const layout of layouts) {
      const file = join(dir, `bench-${layout}.mpt`);
      await writeBenchMpt(file, rows, layout);
      // Rounds alternate the two measurements; the best of each counts (the machine is shared).
      let read_s = Infinity;
      let oep_s = Infinity;
      let readCpu_s = Infinity;
      let oepCpu_s = Infinity;
      let peak = 0;
      let summary = '';
      for (let round = 0; round < rounds; round++) {
        const read = await timedChild([LINE_COUNT, file]);
        if (read.code !== 0 || Number(read.stdout.trim()) !== rows + 3) throw new Error(`line count: ${read.stdout} ${read.stderr}`);
        read_s = Math.min(read_s, read.wall_s);
        readCpu_s = Math.min(readCpu_s, read.cpu_s);
        const r = await oepProcess(file, join(dir, `out-${layout}-${round}`), rows);
        oep_s = Math.min(oep_s, r.wall_s);
        oepCpu_s = Math.min(oepCpu_s, r.cpu_s);
        peak = Math.max(peak, r.peakRss_MB);
        summary = r.summary;
      }
      figures.push({ layout, rows, size_MB: statSync(file).size / 2 ** 20, oep_s, read_s, oepCpu_s, readCpu_s, peakRss_MB: peak, summary });
      rmSync(file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
