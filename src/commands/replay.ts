import { runReplay } from '../../pipelines/replay.js';
import { ConfigError } from '../config/schema.js';
import { parseFileCommand, publishArgs, publishUsage, PUBLISH_OPTIONS, READER_USAGE, withInputErrors } from './reader-options.js';
import { abortOnSignals, numberOption } from './shared.js';
import type { Command } from './types.js';

export const command: Command = {
  example: 'oep replay exports/*.mpt --url mqtt://127.0.0.1:1883 --speed 60',
  usage: `oep replay <files…> --url <mqtt url> [options]
${publishUsage("cell of every file (default: each file's name without extension)")}
      --speed <x|max>        event time per wall time: 1 = real time (default), 60 = a minute per second, max = as fast as the broker accepts
${READER_USAGE}`,
  async main(args) {
    const { values, positionals, reader: files } = await parseFileCommand(args, { ...PUBLISH_OPTIONS, speed: { type: 'string' } });
    if (positionals.length === 0) throw new ConfigError('oep replay needs at least one file');
    const publish = publishArgs(values);
    const speed = numberOption(values.speed, 1, 'speed');
    if (speed === 0) throw new ConfigError('--speed must be positive');
    const report = await withInputErrors(() =>
      runReplay({
        ...publish,
        files: positionals.map((path) => ({ path, cell: values.cell })),
        format: files.format,
        reader: files.reader,
        pressure: files.pressure,
        speed,
        signal: abortOnSignals(),
      }),
    );
    const span = Number.isFinite(report.firstTs) ? `${new Date(report.firstTs).toISOString()} … ${new Date(report.lastTs).toISOString()}` : 'no readings';
    process.stderr.write(
      `oep replay: ${report.readings} readings (${report.rows} rows; ${span}) in ${report.messages} messages, ${(report.wall_ms / 1000).toFixed(1)} s${report.aborted ? ' (interrupted)' : ''}\n`,
    );
    return report.aborted ? 130 : 0;
  },
};
