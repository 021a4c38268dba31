import { DEFAULT_POLL_MS, DEFAULT_ROUND_ROWS, Follower } from '../../pipelines/follow.js';
import { DEFAULT_WINDOW_MS } from '../adapters/mqtt-publisher.js';
import { parseFileCommand, READER_USAGE, stepsOption, withInputErrors } from './reader-options.js';
import { createLogger } from '../adapters/log.js';
import { ConfigError, DEFAULT_MQTT_URL, DEFAULT_TOPIC_PREFIX } from '../config/schema.js';
import { abortOnSignals, logLevel, numberOption } from './shared.js';
import type { Command } from './types.js';

export const command: Command = {
  summary: 'bridge: tail a cycler export being written and publish each new row once to MQTT',
  usage: `oep follow <cycler file> --url <mqtt url> --cell <id> [options]
      --url <mqtt url>       (default ${DEFAULT_MQTT_URL})
      --prefix <p>           topic prefix (default ${DEFAULT_TOPIC_PREFIX})
      --cell <id>            the cell the file belongs to (required)
      --state <file>         where the position is kept (default: <cycler file>.oep-follow.json)
      --poll <ms>            how often the file is checked (default ${DEFAULT_POLL_MS})
      --window <ms>          event-time span of one publish window (default ${DEFAULT_WINDOW_MS}); keep it ≤ the daemon's alignment.lateness_ms
      --round <rows>         rows per publish round; the position is saved after each (default ${DEFAULT_ROUND_ROWS})
      --steps cycler|none    publish the cycler's step/cycle index on the step topic (default cycler)
  Stops on SIGINT/SIGTERM after the round in flight is acknowledged and the position saved.
${READER_USAGE}`,
  async main(args) {
    const { values, positionals, reader: r } = parseFileCommand(args, {
      url: { type: 'string' },
      prefix: { type: 'string' },
      cell: { type: 'string' },
      state: { type: 'string' },
      poll: { type: 'string' },
      window: { type: 'string' },
      round: { type: 'string' },
      steps: { type: 'string' },
    });
    const file = positionals[0];
    if (file === undefined || positionals.length > 1) throw new ConfigError('oep follow takes one file');
    if (values.cell === undefined) throw new ConfigError('oep follow needs --cell <id>');
    const steps = stepsOption(values.steps, ['cycler', 'none']);
    const poll_ms = numberOption(values.poll, DEFAULT_POLL_MS, 'poll');
    const window_ms = numberOption(values.window, DEFAULT_WINDOW_MS, 'window');
    const roundRows = numberOption(values.round, DEFAULT_ROUND_ROWS, 'round');
    if (!(poll_ms > 0 && Number.isFinite(poll_ms) && window_ms > 0 && Number.isFinite(window_ms) && roundRows >= 1 && Number.isFinite(roundRows))) {
      throw new ConfigError('--poll, --window and --round must be positive numbers');
    }
    const log = createLogger(logLevel());
    const signal = abortOnSignals();
    const follower = new Follower({
      file,
      cell: values.cell,
      url: values.url ?? DEFAULT_MQTT_URL,
      topicPrefix: values.prefix ?? DEFAULT_TOPIC_PREFIX,
      statePath: values.state ?? `${file}.oep-follow.json`,
      format: r.format,
      reader: r.reader,
      pressure: r.pressure,
      cyclerSteps: steps === 'cycler',
      poll_ms,
      window_ms,
      roundRows,
      signal,
      log: (level, m) => log[level](m),
    });
    log.info(`oep follow: ${file} → ${values.url ?? DEFAULT_MQTT_URL} as cell ${values.cell}`);
    const report = await withInputErrors(() => follower.run());
    log.info(
      `oep follow: stopped; ${report.rows} rows published in ${report.messages} messages this run` +
        `${report.resets > 0 ? `, ${report.resets} truncation/replacement(s), ${report.skipped} rows skipped as already published` : ''}` +
        `${report.badRows > 0 ? `, ${report.badRows} malformed rows skipped` : ''}`,
    );
    return 0;
  },
};
