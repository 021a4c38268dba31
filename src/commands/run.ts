import { parseArgs } from 'node:util';
import { Daemon } from '../../pipelines/daemon.js';
import { createLogger } from '../adapters/log.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/schema.js';
import { logSettings } from './log-options.js';
import { onSignals } from './shared.js';
import type { Command } from './types.js';

export const command: Command = {
  example: 'oep run --config oep.yaml --log-level debug',
  usage: `oep run --config <file.yaml> [options]
  The daemon: subscribes to <prefix>/<cell>/{pressure,current,voltage,step} on the config's broker, cuts
  steps and cycles, writes them to InfluxDB and/or files, raises alerts. Runs until SIGINT/SIGTERM, then
  flushes and reports what, if anything, was not written.
  -c, --config <file>      the configuration (YAML or JSON; README, Configuration)
      --log-level <l>      debug|info|warn|error|silent (default: OEP_LOG_LEVEL, then log.level, then info)
      --log-format <f>     text|json (default: OEP_LOG_FORMAT, then log.format, then text)`,
  async main(args) {
    const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } });
    if (values.config === undefined) throw new ConfigError('oep run needs --config <file>');
    const config = await loadConfig(values.config);
    const settings = logSettings(process.env, config.log);
    const log = createLogger(settings.level, undefined, settings.format);
    log.debug(
      `config ${values.config}: ${config.cells.length} cells named, log ${settings.level}/${settings.format}, pid ${process.pid}, node ${process.version}`,
    );
    const daemon = new Daemon({ config, log });
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
