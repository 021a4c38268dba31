import { parseFileCommand, READER_USAGE, stepsOption, withInputErrors } from './reader-options.js';
import { runReplay } from '../../pipelines/replay.js';
import { DEFAULT_WINDOW_MS } from '../adapters/mqtt-publisher.js';
import { ConfigError, DEFAULT_MQTT_URL, DEFAULT_TOPIC_PREFIX } from '../config/schema.js';
import { abortOnSignals, numberOption } from './shared.js';
import type { Command } from './types.js';

export const command: Command = {
  summary: 'publish recorded cycler exports and load-cell logs to MQTT (real time, ×N, or max)',
  usage: `oep replay <files…> --url <mqtt url> [options]
      --url <mqtt url>       (default ${DEFAULT_MQTT_URL})
      --prefix <p>           topic prefix (default ${DEFAULT_TOPIC_PREFIX})
      --cell <id>            cell of every file (default: each file's name without extension)
      --speed <x|max>        event time per wall time: 1 = real time (default), 60 = a minute per second, max = as fast as the broker accepts
      --window <ms>          event-time span of one publish window (default ${DEFAULT_WINDOW_MS}); keep it ≤ the daemon's alignment.lateness_ms
      --steps cycler|none    publish the cycler's step/cycle index on the step topic (default cycler)
${READER_USAGE}`,
  async main(args) {
    const { values, positionals, reader: r } = parseFileCommand(args, {
      url: { type: 'string' },
      prefix: { type: 'string' },
      cell: { type: 'string' },
      speed: { type: 'string' },
      window: { type: 'string' },
      steps: { type: 'string' },
    });
    if (positionals.length === 0) throw new ConfigError('oep replay needs at least one file');
    const steps = stepsOption(values.steps, ['cycler', 'none']);
    const speed = numberOption(values.speed, 1, 'speed');
    if (speed === 0) throw new ConfigError('--speed must be positive');
    const window_ms = numberOption(values.window, DEFAULT_WINDOW_MS, 'window');
    if (!(window_ms > 0) || !Number.isFinite(window_ms)) throw new ConfigError('--window must be a positive number of ms');
    const report = await withInputErrors(() =>
      runReplay({
        url: values.url ?? DEFAULT_MQTT_URL,
        topicPrefix: values.prefix ?? DEFAULT_TOPIC_PREFIX,
        files: positionals.map((path) => ({ path, cell: values.cell })),
        format: r.format,
        reader: r.reader,
        pressure: r.pressure,
        cyclerSteps: steps === 'cycler',
        speed,
        window_ms,
        signal: abortOnSignals(),
      }),
    );
    const span = Number.isFinite(report.firstTs) ? `${new Date(report.firstTs).toISOString()} … ${new Date(report.lastTs).toISOString()}` : 'no readings';
    process.stderr.write(`oep replay: ${report.readings} readings (${report.rows} rows; ${span}) in ${report.messages} messages, ${(report.wall_ms / 1000).toFixed(1)} s${report.aborted ? ' (interrupted)' : ''}\n`);
    return report.aborted ? 130 : 0;
  },
};
