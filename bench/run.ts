/**
 * `npm run bench [-- <part>] [options]`: the figures the targets are checked against, measured as users run oep.
 *   sweep    the daemon through `bin/oep.js run` (QoS 1 persistent session, InfluxDB sink, files, state,
 *            /metrics) next to a bare MQTT.js subscriber, rounds interleaved, at 100, 1,000, 10,000 cells (sweep.ts)
 *   latency  alert latency through the same daemon (latency.ts)
 *   process  `oep process` through the CLI vs a plain line read, 25- and 10-column exports (process-bench.ts)
 *   all      the three above (the default; under 10 minutes on a quiet 2-core machine)
 *   checkpoint  a checkpoint's cost and the event loop's longest delay, then the restore of its log in a fresh process,
 *            100, 1,000, 10,000 cells (checkpoint.ts, restore-child.ts; not in `all`;
 *            other counts: OEP_BENCH_CHECKPOINT_CELLS=1000,10000)
 *   metrics  one /metrics scrape (time, size) at 100, 1,000, 10,000 cells, per-cell series on and off (metrics-scrape.ts; not in `all`)
 *   inprocess, memory: the pipeline inside the bench process, without MQTT (in-process.ts; not in `all`)
 * Options (or the environment variable in brackets):
 *   --cells 100:2000000,1000:2000000,10000:1000000   cell counts and readings per round   [OEP_BENCH_CELLS]
 *   --rounds 2      rounds per side and cell count, interleaved oep, bare, oep, bare, …    [OEP_BENCH_ROUNDS]
 *   --window 1000   unacknowledged QoS 1 messages the publisher allows                     [OEP_BENCH_WINDOW]
 *   --batch 10      readings per message                                                    [OEP_BENCH_BATCH]
 *   --channels pressure,current   each cell's channels, published in turn                  [OEP_BENCH_CHANNELS]
 *   --rows 1000000  rows of the generated exports (process)                                 [OEP_BENCH_ROWS]
 *   --rate 0        the publisher's pace, readings/s (0: as fast as the window allows; 20000: 10,000
 *                   cells at 1 Hz, two channels, a lab's pace, at which the event loop's delay is the daemon's own)   [OEP_BENCH_RATE]
 *   --half-period s the current's square-wave half period, the same for every case (default: about
 *                   four cycles per cell in the case with the fewest readings per cell, ≥ 20 s)   [OEP_BENCH_HALF_PERIOD]
 * More daemon config: OEP_BENCH_CONFIG (JSON, merged over bench/daemon-config.ts); Node flags for the daemon:
 * OEP_BENCH_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p --max-old-space-size=256`); the daemon's stdout (`--trace-gc`)
 * to a file: OEP_BENCH_DAEMON_STDOUT=/tmp/gc.log.
 */
import { parseArgs } from 'node:util';
import { startVictoriaMetrics, type VmHandle } from '../test/support/services.js';
import { inProcess, memory } from './in-process.js';
import { alertLatency } from './latency.js';
import { checkpointBench } from './checkpoint.js';
import { metricsBench } from './metrics-scrape.js';
import { processBench } from './process-bench.js';
import { halfPeriodFor, round, type RoundResult, type Side, type SweepCase, type SweepOptions } from './sweep.js';
import { machineLine, processTable, roundLine, sweepTable } from './table.js';

const PROCESS_ROUNDS = 5;
const PARTS = ['all', 'sweep', 'latency', 'process', 'inprocess', 'memory', 'checkpoint', 'metrics'] as const;
type Part = (typeof PARTS)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    cells: { type: 'string', default: process.env.OEP_BENCH_CELLS ?? '100:2000000,1000:2000000,10000:1000000' },
    rounds: { type: 'string', default: process.env.OEP_BENCH_ROUNDS ?? '2' },
    window: { type: 'string', default: process.env.OEP_BENCH_WINDOW ?? '1000' },
    batch: { type: 'string', default: process.env.OEP_BENCH_BATCH ?? '10' },
    channels: { type: 'string', default: process.env.OEP_BENCH_CHANNELS ?? 'pressure,current' },
    rows: { type: 'string', default: process.env.OEP_BENCH_ROWS ?? '1000000' },
    'half-period': { type: 'string', default: process.env.OEP_BENCH_HALF_PERIOD },
    rate: { type: 'string', default: process.env.OEP_BENCH_RATE ?? '0' },
  },
});
const part = PARTS.find((p) => p === (positionals[0] ?? 'all'));
if (part === undefined) throw new Error(`unknown part ${positionals[0] ?? ''}; one of ${PARTS.join(' ')}`);
const positive = (name: string, s: string): number => {
  const n = Number(s);
  if (!(n > 0) || !Number.isInteger(n)) throw new Error(`--${name} must be a positive integer, not ${s}`);
  return n;
};
const cases: SweepCase[] = values.cells.split(',').map((c) => {
  const [cells = '', readings = ''] = c.split(':');
  return { cells: positive('cells', cells), readings: positive('cells (readings)', readings) };
});
const channels = values.channels.split(',').filter((c) => c !== '');
const options: SweepOptions = {
  batch: positive('batch', values.batch),
  window: positive('window', values.window),
  channels,
  halfPeriod_s: values['half-period'] === undefined ? halfPeriodFor(cases, channels.length) : positive('half-period', values['half-period']),
  rate: values.rate === '0' ? 0 : positive('rate', values.rate),
};
const rounds = positive('rounds', values.rounds);
const has = (p: Part): boolean => part === p || (part === 'all' && (p === 'sweep' || p === 'latency' || p === 'process'));

async function sweep(vm: VmHandle): Promise<void> {
  const results: RoundResult[] = [];
  let n = 0;
  for (const c of cases)
    for (let r = 0; r < rounds; r++)
      for (const side of ['oep', 'bare'] satisfies Side[]) {
        const result = await round(side, c, options, vm);
        results.push(result);
        console.log(roundLine(++n, result));
      }
  console.log(
    [
      '',
      `End to end through Mosquitto (no in-flight or queue limit); publisher in its own process, window ${options.window},`,
      ...(options.rate > 0 ? [`paced at ${options.rate.toLocaleString('en-US')} readings/s (a message goes out no sooner than its time),`] : []),
      `${options.batch} readings per message, ${options.channels.join(' + ')} per cell. oep = bin/oep.js run (QoS 1 persistent`,
      'session, InfluxDB = VictoriaMetrics, files, state, /metrics); bare = MQTT.js, same session, JSON.parse',
      'and count.',
      `Per round: publisher's first message → subscriber handles the end marker; CPU = utime + stime of the`,
      `subscriber process (/proc; for oep the launcher's child); 2nd half = from the half-way marker the`,
      `publisher sends after half of the messages (every cell's first readings and state behind); median`,
      `(min–max) of ${rounds} round(s) per side, interleaved; peak RSS = VmHWM, the highest of the rounds.`,
      'Each channel at 1 Hz of event time; the current a square wave of',
      `${String(options.halfPeriod_s)} s half period at every cell count (the same steps per reading).`,
      "loop = the subscriber's event loop, longest delay in the 2nd half, the highest of the rounds (oep:",
      "its /metrics, prom-client's nodejs_eventloop_lag_max_seconds; bare: the same histogram, 10 ms",
      "resolution); the bare side's is the machine's share (a process waiting for a core).",
      '',
    ].join('\n'),
  );
  console.log(sweepTable(results));
}

const argv = process.argv.slice(2).join(' ');
console.log(`$ npm run bench${argv === '' ? '' : ` -- ${argv}`}`);
console.log(machineLine());
const vm = has('sweep') || has('latency') ? await startVictoriaMetrics() : undefined;
try {
  if (vm !== undefined && has('sweep')) await sweep(vm);
  if (vm !== undefined && has('latency')) console.log(`\n${await alertLatency(vm)}`);
  if (has('process')) console.log(`\n${processTable(await processBench(positive('rows', values.rows), PROCESS_ROUNDS), PROCESS_ROUNDS)}`);
  if (has('checkpoint'))
    for (const n of (process.env.OEP_BENCH_CHECKPOINT_CELLS ?? '100,1000,10000').split(',').map(Number)) console.log(await checkpointBench(n));
  if (has('metrics')) console.log(`\n${await metricsBench([100, 1_000, 10_000])}`);
  if (has('inprocess')) inProcess(2_000_000);
  if (has('memory')) memory(10_000_000);
} finally {
  await vm?.stop();
}
console.log(`\n${machineLine()}`);
