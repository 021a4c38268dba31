import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runDemo } from '../../pipelines/demo.js';
import { prepareOutDir } from '../../pipelines/process.js';
import { logSettings } from './log-options.js';
import { abortOnSignals, numberOption, simArgs, SIM_OPTIONS, SIM_USAGE } from './shared.js';
import type { Command } from './types.js';

/** A fresh folder name for a run started at `t`: oep-demo-YYYYMMDD-HHMMSS (UTC), with -2, -3… if taken. */
export function freshDemoDir(t: Date, taken: (dir: string) => boolean = existsSync): string {
  const stamp = t
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/[-:]/g, '')
    .replace('T', '-');
  const base = `oep-demo-${stamp}`;
  let dir = base;
  for (let n = 2; taken(dir); n++) dir = `${base}-${n}`;
  return dir;
}

export const command: Command = {
  example: 'oep demo --cells 8 --duration 60',
  usage: `oep demo [options]
      --out <dir>        output folder (default: a new ./oep-demo-<UTC date-time>)
      --force            replace the outputs of an earlier run in --out (else: refused)
${SIM_USAGE}
      --port <n>         embedded broker port (default: any free port)
      --no-table         no live table`,
  async main(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...SIM_OPTIONS,
        out: { type: 'string' },
        force: { type: 'boolean' },
        port: { type: 'string' },
        'no-table': { type: 'boolean' },
      },
    });
    const sim = simArgs(values);
    const log = logSettings();
    const outDir = values.out ?? freshDemoDir(new Date());
    // Never appended to an earlier run (steps twice, a report mixing runs).
    prepareOutDir(outDir, values.force === true);
    process.stderr.write(`oep demo: results go to ${outDir}/ (steps.csv, cycles.csv, points.lp, alerts.csv)\n`);
    const r = await runDemo({
      ...sim,
      outDir,
      port: numberOption(values.port, 0, 'port'),
      table: values['no-table'] !== true,
      logLevel: log.level,
      logFormat: log.format,
      signal: abortOnSignals(),
    });
    process.stderr.write(`oep demo: ${r.readings} readings → ${r.steps} steps, ${r.cycles} cycles; files: ${r.stop.fileLines ?? 0} lines\n`);
    process.stderr.write(`oep demo: results in ${outDir}/; next: oep report ${outDir}\n`);
    return 0;
  },
};
