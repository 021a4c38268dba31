/**
 * `oep <command>`: run (the daemon), demo (the embedded default), simulate (publish simulated cells).
 * Signal handling follows one rule: the first SIGINT/SIGTERM starts one orderly shutdown; a second
 * one while it runs does not start another.
 */
import { parseArgs } from 'node:util';
import { Daemon } from '../pipelines/daemon.js';
import { runDemo } from '../pipelines/demo.js';
import { runSimulator } from '../pipelines/simulate.js';
import { createLogger, type LogLevel } from './adapters/log.js';
import { loadConfig } from './config/load.js';
import { ConfigError, DEFAULT_MQTT_URL, DEFAULT_TOPIC_PREFIX } from './config/schema.js';
import { demoCells } from './sim/scenarios.js';

const USAGE = `oep: operando electrochemical pressiometry stream processor

Usage:
  oep run --config <file.yaml>      the daemon: MQTT in, per-step/per-cycle OEP metrics out (InfluxDB, files)
  oep demo [options]                embedded broker + simulated cells + the pipeline + local files and a live table
      --out <dir>        output folder (default ./oep-demo-out)
      --cells <n>        simulated cells (default 4)
      --speed <x>        simulated seconds per wall second (default 3600)
      --cycles <n>       cycles per cell (default 60)
      --duration <s>     stop after s wall seconds (default: until Ctrl-C)
      --seed <n>         random seed (default 1)
      --no-table         no live table
  oep simulate [options]            publish simulated cells to any broker
      --url <mqtt url>   (default ${DEFAULT_MQTT_URL})
      --prefix <p>       topic prefix (default ${DEFAULT_TOPIC_PREFIX})
      --cells, --speed (use 'max' for as fast as possible), --cycles, --duration, --seed as for demo
  oep help

Environment: OEP_INFLUX_TOKEN, OEP_MQTT_USERNAME, OEP_MQTT_PASSWORD supply secrets the config leaves out;
OEP_LOG_LEVEL = debug|info|warn|error.
`;

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (sig: string): void => {
    if (stopping) {
      process.stderr.write(`oep: ${sig} again; shutdown already in progress\n`);
      return;
    }
    stopping = true;
    stop().then(
      () => process.exit(process.exitCode ?? 0),
      (e: unknown) => {
        process.stderr.write(`oep: shutdown failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

function num(v: string | undefined, def: number, name: string): number {
  if (v === undefined) return def;
  if (v === 'max') return Infinity;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`--${name} must be a non-negative number, got ${v}`);
  return n;
}

const logLevel = (process.env.OEP_LOG_LEVEL as LogLevel | undefined) ?? 'info';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } } });
      if (values.config === undefined) throw new ConfigError('oep run needs --config <file>');
      const config = await loadConfig(values.config);
      const log = createLogger(logLevel);
      const daemon = new Daemon({ config, log });
      onSignals(async () => {
        log.info('oep: shutting down');
        const r = await daemon.stop();
        const lost = r.influx?.lost ?? 0;
        log.info(
          `oep: stopped; ${r.influx ? `InfluxDB: ${r.influx.written} lines written, ${lost} not written; ` : ''}` +
            `${r.fileLines !== undefined ? `files: ${r.fileLines} lines; ` : ''}state ${r.stateSaved ? 'saved' : 'not kept (no state.dir)'}`,
        );
        for (const e of r.errors) log.error(`oep: during shutdown: ${e}`);
        process.exitCode = lost > 0 || r.errors.length > 0 ? 1 : 0;
      });
      await daemon.start();
      return -1; // keep running
    }
    case 'demo':
    case undefined: {
      const { values } = parseArgs({
        args: rest,
        options: {
          out: { type: 'string' },
          cells: { type: 'string' },
          speed: { type: 'string' },
          cycles: { type: 'string' },
          duration: { type: 'string' },
          seed: { type: 'string' },
          port: { type: 'string' },
          'no-table': { type: 'boolean' },
        },
      });
      const ac = new AbortController();
      onSignals(() => {
        ac.abort();
        return new Promise(() => undefined); // runDemo finishes and the process exits below
      });
      const r = await runDemo({
        outDir: values.out ?? 'oep-demo-out',
        cells: num(values.cells, 4, 'cells'),
        speed: num(values.speed, 3600, 'speed'),
        cycles: num(values.cycles, 60, 'cycles'),
        seed: num(values.seed, 1, 'seed'),
        port: num(values.port, 0, 'port'),
        table: values['no-table'] !== true,
        logLevel,
        signal: ac.signal,
        ...(values.duration !== undefined ? { duration_s: num(values.duration, 0, 'duration') } : {}),
      });
      process.stderr.write(`oep demo: ${r.readings} readings → ${r.steps} steps, ${r.cycles} cycles; files: ${r.stop.fileLines ?? 0} lines\n`);
      return 0;
    }
    case 'simulate': {
      const { values } = parseArgs({
        args: rest,
        options: {
          url: { type: 'string' },
          prefix: { type: 'string' },
          cells: { type: 'string' },
          speed: { type: 'string' },
          cycles: { type: 'string' },
          duration: { type: 'string' },
          seed: { type: 'string' },
          start: { type: 'string' },
        },
      });
      const ac = new AbortController();
      onSignals(() => {
        ac.abort();
        return new Promise(() => undefined);
      });
      const r = await runSimulator({
        url: values.url ?? DEFAULT_MQTT_URL,
        topicPrefix: values.prefix ?? DEFAULT_TOPIC_PREFIX,
        cells: demoCells(num(values.cells, 4, 'cells')),
        speed: num(values.speed, 3600, 'speed'),
        cycles: num(values.cycles, 60, 'cycles'),
        seed: num(values.seed, 1, 'seed'),
        startTs: values.start !== undefined ? Date.parse(values.start) : Date.now(),
        signal: ac.signal,
        ...(values.duration !== undefined ? { duration_ms: num(values.duration, 0, 'duration') * 1000 } : {}),
      });
      process.stderr.write(`oep simulate: ${r.readings} readings in ${r.messages} messages\n`);
      return 0;
    }
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`oep: unknown command ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    if (e instanceof ConfigError) process.stderr.write(`oep: ${e.message}\n`);
    else process.stderr.write(`oep: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(e instanceof ConfigError ? 2 : 1);
  },
);
