import { parseArgs } from 'node:util';
import { Daemon } from '../../pipelines/daemon.js';
import { probeInflux } from '../adapters/influx-check.js';
import { createLogger, type Logger } from '../adapters/log.js';
import { chooseConfigFile, describeLoad, loadChosenConfig } from '../config/load.js';
import { ConfigError, type OepConfig } from '../config/schema.js';
import { logLevel, onSignals } from './shared.js';
import type { Command } from './types.js';

export const command: Command = {
  usage: `oep run [--config <file.yaml>] [--no-output] [--fail-fast]
      --config, -c <file>  the configuration (default: $OEP_CONFIG, ./oep.yaml, /etc/oep/oep.yaml)
      --no-output          start without influx: or output: (compute, alert, /metrics only)
      --fail-fast          exit when the broker cannot be reached at start (default: keep trying)`,
  async main(args) {
    const { values } = parseArgs({
      args,
      options: { config: { type: 'string', short: 'c' }, 'no-output': { type: 'boolean' }, 'fail-fast': { type: 'boolean' } },
    });
    const loaded = await loadChosenConfig(chooseConfigFile(values.config));
    const config = loaded.config;
    const log = createLogger(logLevel());
    log.info(describeLoad(loaded));
    await startupChecks(config, values['no-output'] === true, log);
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
async function startupChecks(config: OepConfig, noOutput: boolean, log: Logger): Promise<void> {
  if (config.influx === undefined && config.output === undefined && !noOutput)
    throw new ConfigError('nothing would be saved: the config has neither influx: nor output:; add one, or run with --no-output to compute and alert only');
  const i = config.influx;
  if (i === undefined) return;
  const probe = await probeInflux(i);
  if (probe.ok) return;
  if (probe.kind !== 'outage') throw new ConfigError(`influx: ${probe.cause}`);
  const where = config.state !== undefined ? `on disk (${config.state.dir}/outbox)` : `in memory (up to ${String(i.maxBufferLines)} lines)`;
  log.warn(`influx: ${probe.cause} at start; oep starts anyway: points wait ${where} and are sent when it answers`);
}
