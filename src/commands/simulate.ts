import { parseArgs } from 'node:util';
import { runSimulator } from '../../pipelines/simulate.js';
import { ConfigError, DEFAULT_MAX_FUTURE_SKEW_MS, DEFAULT_MQTT_URL, DEFAULT_TOPIC_PREFIX } from '../config/schema.js';
import type { SimCellSpec } from '../sim/cell-spec.js';
import { demoCells } from '../sim/scenarios.js';
import { simulatedSpan_ms } from '../sim/simulator.js';
import { abortOnSignals, numberOption, simArgs, SIM_OPTIONS, SIM_USAGE } from './shared.js';
import type { Command } from './types.js';

const HOUR_MS = 3_600_000;

/** Where the simulated clock starts, and what to tell the user about it. */
interface StartPlan {
  readonly startTs: number;
  /** The simulated clock is held at the wall clock (the default start). */
  readonly capped: boolean;
  readonly note: string;
}

/**
 * The default start is in the past by the run's simulated span (all its cycles, or what `--duration` lets through at
 * `--speed`), so the accelerated clock ends at the wall clock instead of running ahead of it: a daemon rejects readings
 * stamped more than `alignment.maxFutureSkew_ms` ahead of their arrival (24 h by default; 24 s at 3600×).
 */
function planStart(
  start: string | undefined,
  cells: readonly SimCellSpec[],
  o: { seed: number; cycles: number; speed: number; duration_s?: number },
): StartPlan {
  const now = Date.now();
  const span = simulatedSpan_ms(cells, o);
  const planned = o.duration_s !== undefined && Number.isFinite(o.speed) ? Math.min(span, o.duration_s * 1000 * o.speed) : span;
  const wall_ms = Number.isFinite(o.speed) ? planned / o.speed : 0;
  if (start !== undefined) {
    const startTs = start === 'now' ? now : Date.parse(start);
    if (!Number.isFinite(startTs)) throw new ConfigError(`--start must be an ISO-8601 time or 'now', got ${start}`);
    // Simulated minus wall time is linear over the run: largest at its start or at its end.
    const ahead = Math.max(startTs - now, startTs + planned - (now + wall_ms));
    const warn =
      ahead > DEFAULT_MAX_FUTURE_SKEW_MS
        ? `; it runs up to ${(ahead / HOUR_MS).toFixed(1)} h ahead of the wall clock: a daemon rejects readings more than alignment.maxFutureSkew_ms (default 24 h) ahead of arrival (set it to 0 for this run)`
        : '';
    return { startTs, capped: false, note: `event time starts at ${new Date(startTs).toISOString()}${warn}` };
  }
  const startTs = now - Math.ceil(planned);
  const pace = Number.isFinite(o.speed) ? `at ${o.speed}× it reaches the wall clock as the run ends (in ${fmtWall(wall_ms)})` : 'all of it in the past';
  return {
    startTs,
    capped: true,
    note:
      `event time starts at ${new Date(startTs).toISOString()}, ${(planned / HOUR_MS).toFixed(1)} h ago (the simulated span of the run): ` +
      `${pace}, never ahead of it (--start <ISO|now> to choose)`,
  };
}

const fmtWall = (ms: number): string => (ms < 120_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 60_000).toFixed(1)} min`);

/** `--rate` and `--hz` over the demo lab's cells. */
function shapeCells(cells: readonly SimCellSpec[], rate: string | undefined, hz: string | undefined): SimCellSpec[] {
  const positive = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = numberOption(v, 0, name);
    if (!(n > 0 && Number.isFinite(n))) throw new ConfigError(`--${name} must be a positive number, got ${v}`);
    return n;
  };
  const rate_C = positive(rate, 'rate');
  const rate_Hz = positive(hz, 'hz');
  return cells.map((s) => ({
    ...s,
    ...(rate_C !== undefined ? { rate_C, formationRate_C: rate_C } : {}),
    ...(rate_Hz !== undefined ? { pressureRate_Hz: rate_Hz, currentRate_Hz: rate_Hz, voltageRate_Hz: rate_Hz } : {}),
  }));
}

export const command: Command = {
  example: 'oep simulate --url mqtt://127.0.0.1:1883 --cells 8 --speed 3600',
  usage: `oep simulate [options]
      --url <mqtt url>   (default ${DEFAULT_MQTT_URL})
      --prefix <p>       topic prefix (default ${DEFAULT_TOPIC_PREFIX})
${SIM_USAGE}
      --rate <C>         C-rate of every cycle, formation included (default 0.1C formation, then 0.3C)
      --hz <n>           readings per second of every channel (default pressure 10, current and voltage 1)
      --start <ISO|now>  event time of the start (default: the run's simulated span before now, so that
                         simulated time ends at the wall clock instead of running ahead of it)`,
  async main(args) {
    const { values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        prefix: { type: 'string' },
        ...SIM_OPTIONS,
        rate: { type: 'string' },
        hz: { type: 'string' },
        start: { type: 'string' },
      },
    });
    const { cells: n, duration_s, ...sim } = simArgs(values);
    const cells = shapeCells(demoCells(n), values.rate, values.hz);
    const plan = planStart(values.start, cells, { ...sim, ...(duration_s !== undefined ? { duration_s } : {}) });
    process.stderr.write(`oep simulate: ${plan.note}\n`);
    const r = await runSimulator({
      ...sim,
      url: values.url ?? DEFAULT_MQTT_URL,
      topicPrefix: values.prefix ?? DEFAULT_TOPIC_PREFIX,
      cells,
      startTs: plan.startTs,
      ...(plan.capped ? { maxTs: Date.now } : {}),
      signal: abortOnSignals(),
      ...(duration_s !== undefined ? { duration_ms: duration_s * 1000 } : {}),
    });
    process.stderr.write(`oep simulate: ${r.readings} readings in ${r.messages} messages\n`);
    return 0;
  },
};
