import { parseArgs } from 'node:util';
import { runDemo } from '../../pipelines/demo.js';
import { abortOnSignals, logLevel, numberOption } from './shared.js';
import type { Command } from './types.js';

export const command: Command = {
  summary: 'embedded broker + simulated cells + the pipeline + local files and a live table',
  usage: `oep demo [options]
      --out <dir>        output folder (default ./oep-demo-out)
      --cells <n>        simulated cells (default 4)
      --speed <x>        simulated seconds per wall second (default 3600)
      --cycles <n>       cycles per cell (default 60)
      --duration <s>     stop after s wall seconds (default: until Ctrl-C)
      --seed <n>         random seed (default 1)
      --port <n>         embedded broker port (default: any free port)
      --no-table         no live table`,
  async main(args) {
    const { values } = parseArgs({
      args,
      options: {
        out: { type: 'string' },
        cells: { type: 'string' },
        speed: { type: 'string' },
        cycles: { type: 'string' },
        duration: { type: 'string' },
        seed: { type: 'string' },
        port: { type: 'string' },
        'no-table': { type: 'boolean' },
      },
    });
    const r = await runDemo({
      outDir: values.out ?? 'oep-demo-out',
      cells: numberOption(values.cells, 4, 'cells'),
      speed: numberOption(values.speed, 3600, 'speed'),
      cycles: numberOption(values.cycles, 60, 'cycles'),
      seed: numberOption(values.seed, 1, 'seed'),
      port: numberOption(values.port, 0, 'port'),
      table: values['no-table'] !== true,
      logLevel: logLevel(),
      signal: abortOnSignals(),
      ...(values.duration !== undefined ? { duration_s: numberOption(values.duration, 0, 'duration') } : {}),
    });
    process.stderr.write(`oep demo: ${r.readings} readings → ${r.steps} steps, ${r.cycles} cycles; files: ${r.stop.fileLines ?? 0} lines\n`);
    return 0;
  },
};
