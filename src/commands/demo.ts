import { parseArgs } from 'node:util';
import { runDemo } from '../../pipelines/demo.js';
import { abortOnSignals, logLevel, numberOption, simArgs, SIM_OPTIONS, SIM_USAGE } from './shared.js';
import type { Command } from './types.js';

export const command: Command = {
  usage: `oep demo [options]
      --out <dir>        output folder (default ./oep-demo-out)
${SIM_USAGE}
      --port <n>         embedded broker port (default: any free port)
      --no-table         no live table`,
  async main(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...SIM_OPTIONS,
        out: { type: 'string' },
        port: { type: 'string' },
        'no-table': { type: 'boolean' },
      },
    });
    const r = await runDemo({
      ...simArgs(values),
      outDir: values.out ?? 'oep-demo-out',
      port: numberOption(values.port, 0, 'port'),
      table: values['no-table'] !== true,
      logLevel: logLevel(),
      signal: abortOnSignals(),
    });
    process.stderr.write(`oep demo: ${r.readings} readings → ${r.steps} steps, ${r.cycles} cycles; files: ${r.stop.fileLines ?? 0} lines\n`);
    return 0;
  },
};
