import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { Daemon } from '../../pipelines/daemon.js';
import { probeInflux } from '../adapters/influx-check.js';
import { createLogger, type Logger } from '../adapters/log.js';
import { chooseConfigFile, describeLoad, loadChosenConfig } from '../config/load.js';
import { ConfigError, type OepConfig } from '../config/schema.js';
import { logSettings } from './log-options.js';
import { onSignals } from './shared.js';
import type { Command } from './types.js';

export const command: Command = {
  example: 'oep run --config oep.yaml --log-level debug',
  usage: `oep run [--config <file.yaml>] [--no-output] [--fail-fast] [options]
  The daemon: subscribes to <prefix>/<cell>/{pressure,current,voltage,step} on the config's broker, cuts
  steps and cycles, writes them to InfluxDB and/or files, raises alerts. Runs until SIGINT/SIGTERM, then
  flushes and reports what, if anything, was not written.
  -c, --config <file>      the configuration (default: $OEP_CONFIG, ./oep.yaml, /etc/oep/oep.yaml)
      --no-output          start without influx: or output: (compute, alert, /metrics only)
      --fail-fast          exit when the broker cannot be reached at start (default: keep trying)
      --log-level <l>      debug|info|warn|error|silent (default: OEP_LOG_LEVEL, then log.level, then info)
      --log-format <f>     text|json (default: OEP_LOG_FORMAT, then log.format, then text)`,
  async main(args) {
    const { values } = parseArgs({
      args,
      options: { config: { type: 'string', short: 'c' }, 'no-output': { type: 'boolean' }, 'fail-fast': { type: 'boolean' } },
    });
    const loaded = await loadChosenConfig(chooseConfigFile(values.config));
    const config = loaded.config;
    const settings = logSettings(process.env, config.log);
    const log = createLogger(settings.level, undefined, settings.format);
    log.info(describeLoad(loaded));
    log.debug(`${config.cells.length} cells named, log ${settings.level}/${settings.format}, pid ${process.pid}, node ${process.version}`);
    if ((await startupChecks(config, values['no-output'] === true, log)) === 'restart') return 0;
    const daemon = new Daemon({ config, log, waitForBroker: values['fail-fast'] !== true });
    onSignals(async () => {
      log.info('oep: shutting down');
      const r = await daemon.stop();
      const lost = r.influx?.lost ?? 0;
      log.info(
        `oep: stopped; ${r.influx ? `InfluxDB: ${r.influx.written} lines written, ${lost} not written${r.influx.kept !== undefined ? `, ${r.influx.kept} kept on disk for the next start` : ''}; ` : ''}` +
          `${r.fileLines !== undefined ? `files: ${r.fileLines} lines; ` : ''}state ${r.stateSaved ? 'saved' : 'not kept (no state.dir)'}`,
      );
      for (const e of r.errors) log.error(`oep: during shutdown: ${e}`);
      process.exitCode = lost > 0 || r.errors.length > 0 ? 1 : 0;
    });
    await daemon.start();
    return 'running';
  },
};

/**
 * Refuses to start (a ConfigError: one line, exit 2) when nothing would be saved, or when InfluxDB
 * answers but refuses the setup (token, URL, bucket). InfluxDB not answering is an outage: start, keep
 * the points, say so.
 */
async function startupChecks(config: OepConfig, noOutput: boolean, log: Logger): Promise<'restart' | undefined> {
  if (config.influx === undefined && config.output === undefined && !noOutput)
    throw new ConfigError('nothing would be saved: the config has neither influx: nor output:; add one, or run with --no-output to compute and alert only');
  if (await heapTooSmall(labSize(config), log)) return 'restart';
  const i = config.influx;
  if (i === undefined) return undefined;
  const probe = await probeInflux(i);
  if (probe.ok) return undefined;
  if (probe.kind !== 'outage') throw new ConfigError(`influx: ${probe.cause}`);
  const where = config.state !== undefined ? `on disk (${config.state.dir}/outbox)` : `in memory (up to ${String(i.maxBufferLines)} lines)`;
  log.warn(`influx: ${probe.cause} at start; oep starts anyway: points wait ${where} and are sent when it answers`);
  return undefined;
}

/**
 * True when the launcher is to start `oep run` again with a larger heap: the cells the config names need
 * more than the limit, the launcher is there to ask (IPC) and the user did not choose the cap. Otherwise a
 * warning naming the OEP_MAX_HEAP_MB to use.
 */
async function heapTooSmall(lab: LabSize, log: Logger): Promise<boolean> {
  const need = heapNeed(lab.named + lab.unknown, getHeapStatistics().heap_size_limit / 1_048_576);
  if (need === undefined) return false;
  const send = process.send?.bind(process);
  const raised = process.env.OEP_HEAP_RAISED_MB;
  if (send === undefined || process.env.OEP_MAX_HEAP_MB !== undefined || raised !== undefined) {
    log.warn(heapAdvice(lab, need));
    return false;
  }
  log.info(
    `heap: ${labWords(lab)} need about ${need.need_MB.toFixed(0)} MB; starting again with a ${String(need.suggest_MB)} MB heap (OEP_MAX_HEAP_MB chooses)`,
  );
  await new Promise<void>((resolve) => {
    send({ oepHeapMb: need.suggest_MB }, () => {
      resolve();
    });
  });
  return true;
}

/** Heap a lab needs beyond its cells, MB, and per cell, KB (measured: 8.6 KB live per cell, ×2 for garbage between collections). */
const HEAP_BASE_MB = 60;
const HEAP_PER_CELL_KB = 18;

export interface HeapNeed {
  readonly need_MB: number;
  readonly limit_MB: number;
  /** The next 64 MB step that holds it. */
  readonly suggest_MB: number;
}

/**
 * What the cells need when the heap limit cannot hold them (the launcher caps the heap at 128 MB,
 * OEP_MAX_HEAP_MB, before any config is read): 10,000 cells ran out of memory at 128 MB and ran at 256.
 */
export function heapNeed(cells: number, limit_MB: number): HeapNeed | undefined {
  const need_MB = HEAP_BASE_MB + (cells * HEAP_PER_CELL_KB) / 1024;
  return need_MB <= limit_MB ? undefined : { need_MB, limit_MB, suggest_MB: Math.ceil(need_MB / 64) * 64 };
}

/** The most cells a lab holds at once: those the config names, and those the edge admits without a name. */
export interface LabSize {
  readonly named: number;
  readonly unknown: number;
}

/** Unknown cells count at their cap (`edge.maxUnknownCells`) unless the edge admits only the cells named. */
export function labSize(config: Pick<OepConfig, 'cells' | 'edge'>): LabSize {
  const e = config.edge;
  const admitsUnknown = e.cells === 'any' || e.patterns.length > 0;
  return { named: config.cells.length, unknown: admitsUnknown ? e.maxUnknownCells : 0 };
}

const labWords = (lab: LabSize): string =>
  `${String(lab.named)} cells named` + (lab.unknown > 0 ? ` and up to ${String(lab.unknown)} others (edge.maxUnknownCells)` : '');

export function heapAdvice(lab: LabSize, n: HeapNeed): string {
  return `heap: ${labWords(lab)} need about ${n.need_MB.toFixed(0)} MB of heap, the limit is ${n.limit_MB.toFixed(0)} MB: start with OEP_MAX_HEAP_MB=${String(n.suggest_MB)} (README, Benchmark)`;
}
