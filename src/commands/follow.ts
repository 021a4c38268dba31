import { DEFAULT_POLL_MS, DEFAULT_ROUND_ROWS, Follower } from '../../pipelines/follow.js';
import { createLogger, redactUrl } from '../adapters/log.js';
import { ConfigError } from '../config/schema.js';
import { parseFileCommand, publishArgs, publishUsage, PUBLISH_OPTIONS, READER_USAGE, withInputErrors } from './reader-options.js';
import { logSettings } from './log-options.js';
import { abortOnSignals, numberOption } from './shared.js';
import type { Command } from './types.js';

/** `oep follow`'s own options, besides the reader's. */
const FOLLOW_OPTIONS = { ...PUBLISH_OPTIONS, state: { type: 'string' }, poll: { type: 'string' }, round: { type: 'string' } } as const;

export const command: Command = {
  example: 'oep follow cell-07.mpt --url mqtt://lab-broker:1883 --cell cell-07',
  usage: `oep follow <cycler file> --url <mqtt url> --cell <id> [options]
${publishUsage('the cell the file belongs to (required)')}
      --state <file>         where the position is kept (default: <cycler file>.oep-follow.json)
      --poll <ms>            how often the file is checked (default ${DEFAULT_POLL_MS})
      --round <rows>         rows per publish round; the position is saved after each (default ${DEFAULT_ROUND_ROWS})
  Stops on SIGINT/SIGTERM after the round in flight is acknowledged and the position saved.
${READER_USAGE}`,
  async main(args) {
    const { values, positionals, reader: files } = await parseFileCommand(args, FOLLOW_OPTIONS);
    const file = positionals[0];
    if (file === undefined || positionals.length > 1) throw new ConfigError('oep follow takes one file');
    if (values.cell === undefined) throw new ConfigError('oep follow needs --cell <id>');
    const publish = publishArgs(values);
    const poll_ms = numberOption(values.poll, DEFAULT_POLL_MS, 'poll');
    const roundRows = numberOption(values.round, DEFAULT_ROUND_ROWS, 'round');
    if (!(poll_ms > 0 && Number.isFinite(poll_ms) && roundRows >= 1 && Number.isFinite(roundRows)))
      throw new ConfigError('--poll and --round must be positive numbers');
    const settings = logSettings();
    const log = createLogger(settings.level, undefined, settings.format);
    const signal = abortOnSignals();
    const follower = new Follower({
      file,
      ...publish,
      cell: values.cell,
      statePath: values.state ?? `${file}.oep-follow.json`,
      format: files.format,
      reader: files.reader,
      pressure: files.pressure,
      poll_ms,
      roundRows,
      signal,
      log: (level, m) => {
        log[level](m);
      },
    });
    log.info(`oep follow: ${file} → ${redactUrl(publish.url)} as cell ${values.cell}`);
    const report = await withInputErrors(() => follower.run());
    log.info(
      `oep follow: stopped; ${report.rows} rows published in ${report.messages} messages this run` +
        (report.resets > 0 ? `, ${report.resets} truncation/replacement(s), ${report.skipped} rows skipped as already published` : '') +
        (report.badRows > 0 ? `, ${report.badRows} malformed rows skipped` : ''),
    );
    return 0;
  },
};
