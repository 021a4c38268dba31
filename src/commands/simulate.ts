import { parseArgs } from 'node:util';
import { runSimulator } from '../../pipelines/simulate.js';
import { DEFAULT_MQTT_URL, DEFAULT_TOPIC_PREFIX } from '../config/schema.js';
import { demoCells } from '../sim/scenarios.js';
import { abortOnSignals, numberOption } from './shared.js';
import type { Command } from './types.js';

export const command: Command = {
  summary: 'publish simulated cells to any broker under the wire contract',
  usage: `oep simulate [options]
      --url <mqtt url>   (default ${DEFAULT_MQTT_URL})
      --prefix <p>       topic prefix (default ${DEFAULT_TOPIC_PREFIX})
      --cells <n>        (default 4)
      --speed <x|max>    simulated seconds per wall second (default 3600; max = as fast as the broker takes)
      --cycles <n>       (default 60)
      --duration <s>     stop after s wall seconds
      --seed <n>         (default 1)
      --start <ISO>      event time of the start (default: now)`,
  async main(args) {
    const { values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        prefix: { type: 'string' },
        cells: { type: 'string' },
        speed: { type: 'string' },
        cycles: { type: 'string' },
        duration: { type: 'string' },
        seed: { type: 'string' },
        start: { type: 'string' },
      },
    });
    const r = await runSimulator({
      url: values.url ?? DEFAULT_MQTT_URL,
      topicPrefix: values.prefix ?? DEFAULT_TOPIC_PREFIX,
      cells: demoCells(numberOption(values.cells, 4, 'cells')),
      speed: numberOption(values.speed, 3600, 'speed'),
      cycles: numberOption(values.cycles, 60, 'cycles'),
      seed: numberOption(values.seed, 1, 'seed'),
      startTs: values.start !== undefined ? Date.parse(values.start) : Date.now(),
      signal: abortOnSignals(),
      ...(values.duration !== undefined ? { duration_ms: numberOption(values.duration, 0, 'duration') * 1000 } : {}),
    });
    process.stderr.write(`oep simulate: ${r.readings} readings in ${r.messages} messages\n`);
    return 0;
  },
};
