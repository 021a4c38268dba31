/**
 * `oep process` through the CLI (`node bin/oep.js process …`, a child process with the launcher, as users
 * run it) on a generated EC-Lab export of 1 million rows, next to a plain line-by-line read of the same file
 * in a process of its own (node:readline over a read stream, counting lines: bench/line-count.ts); both
 * started the same way (`node <script> …`, no Node flags) and timed from spawn to exit, so both include
 * starting Node. The ratio is the figure. Two layouts: EC-Lab's full GCPL column set (what a GCPL run
 * exports) and a minimal 10-column export (the hardest case for the ratio: little text per reading).
 *
 * How, and why so (the line read's time swung 0.72-2.30 s between runs of the earlier best-of-3 bench):
 * - The line read reads through the thread pool: every 64 KB is a handoff to a pool thread and back, ~14,000
 *   voluntary context switches for the 25-column file against ~60 for the same read done synchronously (and
 *   `oep process` reads synchronously). On a loaded 2-core machine each handoff waits for a core, so its wall
 *   time follows the load (measured at load 5-9: 1.4-4.1 s for ~1.1-1.4 s of CPU). Its CPU time moves too,
 *   in system time: a wake-up on the other core costs an interrupt between the virtual CPUs (at load 7-8,
 *   25 columns: user 0.89-1.00 s, system 0.33-0.86 s; pinned to one core, `taskset -c 1`, system 0.28-0.39 s).
 *   Its garbage collection does not move (240 scavenges, no full collection, every run). So: CPU time beside
 *   wall time, both medians of several rounds; neither side is pinned (users do not pin).
 * - The two sides ran one after the other and the best of each was kept: the two bests came from different
 *   moments, and the short side (the line read) sees a load snapshot where `oep process` averages over 3 s.
 *   Now: `rounds` pairs, each pair's order alternating (read then oep, oep then read), the ratio taken within
 *   each pair (two runs seconds apart), and the median of the per-pair ratios reported with their range.
 * - The file is written, flushed to disk (fsync: its writeback does not overlap a timed run) and read once
 *   untimed before the rounds, so every timed run reads it from the page cache.
 * Each side's CPU time is user + system from /proc, the child's own children included. Also the CLI
 * process's peak RSS (files stream; nothing is held whole).
 */
import { once } from 'node:events';
import { closeSync, createWriteStream, fsyncSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
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

/** One side's runs, in round order. */
export interface SideRuns {
  /** Spawn to exit, s. */
  readonly wall_s: readonly number[];
  /** User + system, s. */
  readonly cpu_s: readonly number[];
}

export interface ProcessFigure {
  readonly layout: BenchLayout;
  readonly rows: number;
  readonly size_MB: number;
  readonly oep: SideRuns;
  readonly read: SideRuns;
  /** oep / line read within each round (the two runs of a round are seconds apart), wall and CPU. */
  readonly wallRatio: readonly number[];
  readonly cpuRatio: readonly number[];
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

/** One plain line read of the file (bench/line-count.ts); throws unless it counted every line. */
async function lineRead(file: string, lines: number): Promise<{ wall_s: number; cpu_s: number }> {
  const r = await timedChild([LINE_COUNT, file]);
  if (r.code !== 0 || Number(r.stdout.trim()) !== lines) throw new Error(`line count: ${r.stdout} ${r.stderr}`);
  return { wall_s: r.wall_s, cpu_s: r.cpu_s };
}

/** A child run with its CPU time (this process runs one child at a time here). */
async function timedChild(args: readonly string[]): Promise<Awaited<ReturnType<typeof runChild>> & { cpu_s: number }> {
  const cpu0 = childrenCpuTime_us();
  const r = await runChild(args);
  return { ...r, cpu_s: (childrenCpuTime_us() - cpu0) / 1e6 };
}

/** The file's data on disk before any timed run (its writeback would otherwise overlap the first ones). */
function flushToDisk(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** `rounds` pairs of runs on one generated export, each pair's order alternating (see the module comment). */
async function layoutRounds(dir: string, layout: BenchLayout, rows: number, rounds: number): Promise<ProcessFigure> {
  const file = join(dir, `bench-${layout}.mpt`);
  await writeBenchMpt(file, rows, layout);
  flushToDisk(file);
  const lines = rows + 3; // the header lines
  await lineRead(file, lines); // untimed: the file in the page cache
  const oep: { wall_s: number[]; cpu_s: number[] } = { wall_s: [], cpu_s: [] };
  const read: { wall_s: number[]; cpu_s: number[] } = { wall_s: [], cpu_s: [] };
  const wallRatio: number[] = [];
  const cpuRatio: number[] = [];
  let peak = 0;
  let summary = '';
  for (let round = 0; round < rounds; round++) {
    const out = join(dir, `out-${layout}-${round}`);
    const readFirst = round % 2 === 0;
    const a = readFirst ? await lineRead(file, lines) : undefined;
    const r = await oepProcess(file, out, rows);
    const b = a ?? (await lineRead(file, lines));
    rmSync(out, { recursive: true, force: true });
    oep.wall_s.push(r.wall_s);
    oep.cpu_s.push(r.cpu_s);
    read.wall_s.push(b.wall_s);
    read.cpu_s.push(b.cpu_s);
    wallRatio.push(r.wall_s / b.wall_s);
    cpuRatio.push(r.cpu_s / b.cpu_s);
    peak = Math.max(peak, r.peakRss_MB);
    summary = r.summary;
  }
  const size_MB = statSync(file).size / 2 ** 20;
  rmSync(file);
  return { layout, rows, size_MB, oep, read, wallRatio, cpuRatio, peakRss_MB: peak, summary };
}

export async function processBench(rows = 1_000_000, rounds = 5, layouts: readonly BenchLayout[] = ['gcpl', 'plain']): Promise<ProcessFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'oep-process-bench-'));
  const figures: ProcessFigure[] = [];
  try {
    for (const layout of layouts) figures.push(await layoutRounds(dir, layout, rows, rounds));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
