import { parseArgs } from 'node:util';
import { ConfigError } from '../config/schema.js';
import { ReportInputError } from '../report/data.js';
import { DEFAULT_REPORT_FILE, writeReport } from '../report/report.js';
import type { Command } from './types.js';

export const command: Command = {
  example: 'oep report results/cell-07 --title "cell-07, NMC|Li"',
  usage: `oep report <dir> [options]
      <dir>              an output folder: output.dir of oep run, oep demo --out (steps.csv, cycles.csv,
                         late.csv; alerts.csv with time_ms,cell,kind,level,message if present)
      --out <file>       the HTML file to write (default <dir>/${DEFAULT_REPORT_FILE})
      --title <text>     the report's title (default: oep report: <folder name>)`,
  main(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { out: { type: 'string', short: 'o' }, title: { type: 'string' } },
    });
    const [dir, ...extra] = positionals;
    if (dir === undefined || extra.length > 0) return Promise.reject(new ConfigError(`usage: ${this.usage}`));
    try {
      const r = writeReport(dir, values.out, values.title !== undefined ? { title: values.title } : {});
      const steps = r.data.cells.reduce((n, c) => n + c.steps.length, 0);
      const cycles = r.data.cells.reduce((n, c) => n + c.cycles.length, 0);
      process.stderr.write(`oep report: ${r.data.cells.length} cells, ${steps} steps, ${cycles} cycles → ${r.out} (${Math.round(r.bytes / 1024)} kB)\n`);
      return Promise.resolve(0);
    } catch (e) {
      // A folder that is not an output folder is the user's input problem: exit 2 with the message, no stack.
      return Promise.reject(e instanceof ReportInputError ? new ConfigError(e.message) : e instanceof Error ? e : new Error(String(e)));
    }
  },
};
