import { existsSync, statSync } from 'node:fs';
import { processFiles, type ProcessReport } from '../../pipelines/process.js';
import { progressBar } from './progress.js';
import { parseFileCommand, READER_USAGE, stepsOption, withInputErrors } from './reader-options.js';
import { resolveCell, type ResolvedCell } from '../config/cell-setup.js';
import { ConfigError } from '../config/defaults.js';
import type { OepConfig } from '../config/schema.js';
import { CELL_OPTIONS, quickCellSetup, type CellOption, type CellOptionValues } from './cell-options.js';
import { abortOnSignals } from './shared.js';
import type { Command } from './types.js';

/** The cell's settings and the InfluxDB section: without a config file from the command line alone (no zod) when its values pass, else through the schema. */
async function cellSetup(
  configFile: string | undefined,
  cell: string,
  values: CellOptionValues,
): Promise<{ setup: ResolvedCell; influx: OepConfig['influx'] }> {
  const quick = configFile === undefined ? quickCellSetup(cell, values) : undefined;
  if (quick !== undefined) return { setup: quick, influx: undefined };
  const { baseConfig, cellConfig } = await import('./cell-config.js');
  const config = cellConfig(await baseConfig(configFile), cell, values);
  return { setup: resolveCell(config, cell), influx: config.influx };
}

/** No clock in the file; the steps where oep's integral and the cycler's counter disagree (the first ones, and how many more). */
function printCounterWarnings(report: ProcessReport): void {
  if (report.noClock) process.stderr.write('oep process: warning: the file has no start date: its times count from 1970-01-01 (give --start <ISO-8601>)\n');
  for (const w of report.counterWarnings) process.stderr.write(`oep process: warning: ${w}\n`);
  const more = report.counterWarningCount - report.counterWarnings.length;
  if (more > 0) process.stderr.write(`oep process: warning: … and ${more} more steps where oep and the cycler's counter disagree\n`);
}

/** Several inputs, a glob or a folder: a campaign (see process-batch.ts). */
function isBatch(inputs: readonly string[]): boolean {
  const first = inputs[0] ?? '';
  return inputs.length > 1 || /[*?]/.test(first) || (existsSync(first) && statSync(first).isDirectory());
}

/** `oep process`'s own options, besides the reader's. */
const PROCESS_OPTIONS = {
  cell: { type: 'string' },
  out: { type: 'string' },
  pressure: { type: 'string' },
  config: { type: 'string' },
  force: { type: 'boolean' },
  steps: { type: 'string' },
  'no-progress': { type: 'boolean' },
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- Object.fromEntries loses the keys, which are exactly CELL_OPTIONS's
  ...(Object.fromEntries(Object.keys(CELL_OPTIONS).map((k) => [k, { type: 'string' }])) as Record<CellOption, { type: 'string' }>),
} as const;

export const command: Command = {
  example: 'oep process cell-07.mpt --cell cell-07 --out results/cell-07 --active-mass-g 0.012',
  usage: `oep process <cycler file> --cell <id> --out <dir> [options]
       oep process <folder | 'glob' | files…> --out <dir> [options]
                                 each file into <dir>/<its name>/ (cell = its name), then <dir>/summary.csv,
                                 every file's steps.csv / cycles.csv together, and <dir>/report.html
      --pressure <file>          load-cell log to align with the cycler file
      --config <file>            cell settings (defaults, cells[]); with an influx section, also write to InfluxDB
      --force                    replace the outputs of an earlier run in --out
      --steps cycler|derived     step boundaries from the cycler's step index (default when the file has one)
                                 or from the current alone (deadband, minimum duration)
      --no-progress              no progress bar (it is only drawn on a terminal anyway)
  cell settings (override the config; see README, Configuration):
      --area-mm2 <n> --active-mass-g <n> --electrode-area-mm2 <n> --normalization mass|areal
      --current-sign charge-positive|discharge-positive --nominal-current-ma <n> --rest-current-ma <n>
      --min-step-s <n> --current-max-gap-s <n> --pressure-max-gap-s <n> --first-half charge|discharge
      --cycle-source derived|cycler --formation-cycles <n> --ref-cycle <n> --dpdq-grid-mah <n>
${READER_USAGE}`,
  async main(args) {
    const { values, positionals, reader: files } = await parseFileCommand(args, PROCESS_OPTIONS);
    const [file] = positionals;
    if (file === undefined || values.out === undefined)
      throw new ConfigError('oep process needs a cycler file (or a folder, a glob, several files) and --out <dir>');
    const steps = stepsOption(values.steps, ['cycler', 'derived']);
    // The config (zod, YAML) and the campaign's modules (the report) are loaded only when used: start-up counts.
    if (isBatch(positionals)) {
      const { baseConfig, cellConfig } = await import('./cell-config.js');
      const base = await baseConfig(values.config);
      const { expandInputs, processBatch } = await import('./process-batch.js');
      if (values.pressure !== undefined) throw new ConfigError('--pressure goes with one cycler file, not with a folder or several files');
      const failed = await processBatch({
        files: expandInputs(positionals),
        outDir: values.out,
        configFor: (cell) => cellConfig(base, cell, values),
        common: {
          format: files.format,
          reader: files.reader,
          cyclerSteps: steps === 'cycler',
          force: values.force === true,
          influx: base.influx,
          signal: abortOnSignals(),
        },
        log: (line) => process.stderr.write(`oep process: ${line}\n`),
      });
      return failed > 0 ? 1 : 0;
    }
    if (values.cell === undefined) throw new ConfigError('oep process needs --cell <id>');
    const { setup, influx } = await cellSetup(values.config, values.cell, values);
    const bar = values['no-progress'] === true ? undefined : progressBar('oep process');
    const cell = values.cell;
    const outDir = values.out;
    const report = await withInputErrors(() =>
      processFiles({
        cyclerFile: file,
        format: files.format,
        reader: files.reader,
        pressureFile: values.pressure,
        pressureReader: files.pressure,
        cell,
        setup,
        cyclerSteps: steps === 'cycler',
        outDir,
        force: values.force === true,
        influx,
        signal: abortOnSignals(),
        ...(bar !== undefined
          ? {
              onProgress: (p) => {
                bar.update(p.bytes, p.totalBytes, p.rows);
              },
            }
          : {}),
      }),
    );
    bar?.done();
    const rate = Math.round((report.rows + report.pressureRows) / (report.elapsed_ms / 1000));
    process.stderr.write(
      `oep process: ${report.format}${report.pressureFormat !== undefined ? ' + pressure log' : ''}: ${report.rows} rows` +
        `${report.pressureRows > 0 ? ` + ${report.pressureRows} pressure rows` : ''} → ${report.steps} steps, ${report.cycles} cycles` +
        (report.cycleDefinition === 'none' ? '' : report.cycleDefinition === 'cycler' ? " (the cycler's cycle index)" : ' (derived from the steps)') +
        `${report.alerts > 0 ? `, ${report.alerts} alert events` : ''} in ${(report.elapsed_ms / 1000).toFixed(1)} s (${rate.toLocaleString('en-US')} rows/s); ` +
        `files in ${values.out}` +
        `${report.influx !== undefined ? `; InfluxDB: ${report.influx.written} lines written, ${report.influx.lost} not written` : ''}\n`,
    );
    printCounterWarnings(report);
    if (report.aborted) {
      process.stderr.write('oep process: interrupted; the outputs hold what was processed so far\n');
      return 130;
    }
    if (report.late > 0) {
      process.stderr.write(
        `oep process: ${report.late} readings went back in time by more than the lateness bound and were kept aside in late.csv (is a file out of order?)\n`,
      );
      return 1;
    }
    return (report.influx?.lost ?? 0) > 0 ? 1 : 0;
  },
};
