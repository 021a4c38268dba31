/**
 * The benchmark's report: the machine, then one table of the end-to-end rounds (at most 100 columns), then
 * the alert latency and the file-processing lines.
 */
import { cpus, loadavg } from 'node:os';
import type { ProcessFigure } from './process-bench.js';
import type { RoundResult, Side } from './sweep.js';

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');

export function machineLine(): string {
  const c = cpus();
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  return `${c.length} cores (${c[0]?.model.trim() ?? '?'}), Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z, load average ${load}`;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

/** "median (min–max)" with `digits` decimals, or the one value. */
function spread(xs: readonly number[], digits: number, scale = 1): string {
  if (xs.length === 0) return '–';
  const f = (n: number): string => (digits === 0 ? int(n / scale) : (n / scale).toFixed(digits));
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return xs.length === 1 || f(lo) === f(hi) ? f(median(xs)) : `${f(median(xs))} (${f(lo)}–${f(hi)})`;
}

interface SideFigures {
  readonly rate: number[];
  readonly cpu: number[];
  /** CPU per reading over the second half of the messages: every cell's first readings behind. */
  readonly steady: number[];
  readonly rss: number[];
  /** Of the rounds that completed (a round that died says nothing about the ratio). */
  readonly rssOk: number[];
  readonly failures: string[];
  readonly cycles: number[];
  /** The event loop's longest delay in the second half of each round, ms. */
  readonly loopMax: number[];
  /** oep: its checkpoints' longest piece of work in one turn of the event loop, each round, ms. */
  readonly checkpointMax: number[];
}

function figures(rounds: readonly RoundResult[], side: Side): SideFigures {
  const mine = rounds.filter((r) => r.side === side);
  const ok = mine.filter((r) => r.failure === undefined);
  return {
    rate: ok.map((r) => r.readings / r.wall_s),
    cpu: ok.map((r) => r.cpu_us / r.readings),
    steady: ok.map((r) => r.steadyCpu_us / r.steadyReadings).filter(Number.isFinite),
    rss: mine.map((r) => r.peakRss_MB).filter(Number.isFinite),
    rssOk: ok.map((r) => r.peakRss_MB).filter(Number.isFinite),
    failures: mine.flatMap((r) => (r.failure !== undefined ? [r.failure] : [])),
    cycles: ok.map((r) => r.cycles ?? NaN),
    loopMax: ok.map((r) => r.loopMax_ms ?? NaN).filter(Number.isFinite),
    checkpointMax: ok.map((r) => r.checkpointBlock_ms ?? NaN).filter(Number.isFinite),
  };
}

const row = (cols: readonly string[]): string =>
  [
    cols[0]?.padStart(6),
    cols[1]?.padStart(8),
    cols[2]?.padEnd(5),
    cols[3]?.padEnd(13),
    cols[4]?.padEnd(16),
    cols[5]?.padEnd(16),
    cols[6]?.padEnd(7),
    cols[7] ?? '',
  ]
    .join(' ')
    .trimEnd();

function note(f: SideFigures, cells: number): string {
  if (f.failures.length > 0) return `${f.failures.length} of ${f.failures.length + f.rate.length}: ${f.failures[0] ?? ''}`;
  const c = f.cycles[0];
  return c !== undefined && Number.isFinite(c) ? `${(c / cells).toFixed(1)} cycles/cell` : '';
}

/** Medians and (min–max) over the rounds, per cell count and side, and the oep/bare ratio of the medians. */
export function sweepTable(rounds: readonly RoundResult[]): string {
  const lines = [
    row(['', '', '', 'wall', 'CPU µs/reading', 'CPU µs/reading', 'peak']),
    row(['cells', 'rdg/cell', 'side', 'k readings/s', 'all', '2nd half', 'RSS MB', 'notes']),
  ];
  for (const cells of [...new Set(rounds.map((r) => r.cells))]) {
    const mine = rounds.filter((r) => r.cells === cells);
    const perCell = int((mine[0]?.readings ?? NaN) / cells);
    const oep = figures(mine, 'oep');
    const bare = figures(mine, 'bare');
    lines.push(
      row([int(cells), perCell, 'oep', spread(oep.rate, 0, 1000), spread(oep.cpu, 2), spread(oep.steady, 2), int(Math.max(...oep.rss)), note(oep, cells)]),
    );
    lines.push(row(['', '', 'bare', spread(bare.rate, 0, 1000), spread(bare.cpu, 2), spread(bare.steady, 2), int(Math.max(...bare.rss)), note(bare, cells)]));
    const ratio = (a: number[], b: number[]): string => (a.length > 0 && b.length > 0 ? (median(a) / median(b)).toFixed(2) : '–');
    lines.push(
      row(['', '', 'ratio', ratio(oep.rate, bare.rate), ratio(oep.cpu, bare.cpu), ratio(oep.steady, bare.steady), ratio(oep.rssOk, bare.rssOk), 'oep/bare']),
    );
    const most = (xs: number[]): string => (xs.length > 0 ? `${int(Math.max(...xs))} ms` : '–');
    lines.push(`${' '.repeat(16)}loop: oep ${most(oep.loopMax)}, bare ${most(bare.loopMax)}; oep's checkpoints' longest piece ${most(oep.checkpointMax)}`);
  }
  return lines.join('\n');
}

/** One round, in two lines of under 100 columns. */
export function roundLine(n: number, r: RoundResult): string {
  const what = `round ${n} ${r.side.padEnd(4)} ${int(r.cells)} cells, ${int(r.readings)} readings`;
  if (r.failure !== undefined) return `${what}: ${r.failure}; peak RSS ${int(r.peakRss_MB)} MB`;
  const oep =
    r.cycles !== undefined ? `${int(r.cycles)} cycles, ${int(r.influxPoints ?? NaN)} InfluxDB points, ${int(r.journalSyncs ?? NaN)} journal syncs; ` : '';
  const ckpt = r.checkpointBlock_ms !== undefined ? `; checkpoints' longest piece ${int(r.checkpointBlock_ms)} ms` : '';
  const loop =
    r.loopMax_ms !== undefined
      ? `\n    event loop, 2nd half: longest delay ${int(r.loopMax_ms)} ms, 99th percentile ${(r.loopP99_ms ?? NaN).toFixed(1)} ms${ckpt}`
      : '';
  return (
    `${what}: ${r.wall_s.toFixed(1)} s = ${int(r.readings / r.wall_s)}/s, ` +
    `CPU ${(r.cpu_us / r.readings).toFixed(2)} µs/reading (2nd half ${(r.steadyCpu_us / r.steadyReadings).toFixed(2)}), RSS ${int(r.peakRss_MB)} MB\n` +
    `    ${oep}CPU s: subscriber ${(r.cpu_us / 1e6).toFixed(2)}, publisher ${(r.publisherCpu_us / 1e6).toFixed(2)}, broker ${(r.brokerCpu_us / 1e6).toFixed(2)}` +
    loop
  );
}

/**
 * `oep process` through the CLI against the plain line read, two rows per layout (wall, CPU): each side's
 * median (min–max) over the rounds, and the median (min–max) of the ratios taken within each round.
 */
export function processTable(figures: readonly ProcessFigure[], rounds: number): string {
  const widths = [24, 5, 5, 18, 18, 18];
  const cols = (c: readonly string[]): string => c.map((x, i) => (i === 0 ? x.padEnd(widths[i] ?? 0) : x.padStart(widths[i] ?? 0))).join(' ');
  const lines = [
    `oep process through bin/oep.js vs a plain line read (node:readline over a read stream), each a process of its`,
    `own started the same way, spawn to exit (wall) and user + system (CPU, /proc); ${rounds} interleaved rounds, order`,
    `alternating, after an untimed read; median (min–max) of each side, and of the ratio within each round:`,
    '',
    cols(['export', 'MB', '', 'oep s', 'line read s', 'ratio']),
  ];
  for (const f of figures) {
    const what = f.layout === 'gcpl' ? 'EC-Lab GCPL, 25 columns' : 'EC-Lab, 10 columns';
    lines.push(cols([what, int(f.size_MB), 'wall', spread(f.oep.wall_s, 2), spread(f.read.wall_s, 2), spread(f.wallRatio, 2)]));
    lines.push(cols([`  ${int(f.rows)} rows`, '', 'CPU', spread(f.oep.cpu_s, 2), spread(f.read.cpu_s, 2), spread(f.cpuRatio, 2)]));
  }
  const rates = figures.map(
    (f) => `${f.layout === 'gcpl' ? '25' : '10'} columns ${int(f.rows / median(f.oep.wall_s))} rows/s, peak RSS ${int(f.peakRss_MB)} MB`,
  );
  return [...lines, '', `  oep process: ${rates.join('; ')}`, ...figures.map((f) => `  ${f.summary}`)].join('\n');
}
