import { parseArgs } from 'node:util';
import { Daemon } from '../../pipelines/daemon.js';
import { createLogger } from '../adapters/log.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/schema.js';
import { logLevel, onSignals } from './shared.js';
import type { Command } from './types.js';

export const command: Command = {
  usage: 'oep run --config <file.yaml>',
  async main(args) {
    const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } });
    if (values.config === undefined) throw new ConfigError('oep run needs --config <file>');
    const config = await loadConfig(values.config);
    const log = createLogger(logLevel());
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
