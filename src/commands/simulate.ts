import { parseArgs } from 'node:util';
import { runSimulator } from '../../pipelines/simulate.js';
import { DEFAULT_MQTT_URL, DEFAULT_TOPIC_PREFIX } from '../config/schema.js';
import { demoCells } from '../sim/scenarios.js';
import { abortOnSignals, simArgs, SIM_OPTIONS, SIM_USAGE } from './shared.js';
import type { Command } from './types.js';

export const command: Command = {
  example: 'oep simulate --url mqtt://127.0.0.1:1883 --cells 8 --speed 3600',
  usage: `oep simulate [options]
      --url <mqtt url>   (default ${DEFAULT_MQTT_URL})
      --prefix <p>       topic prefix (default ${DEFAULT_TOPIC_PREFIX})
${SIM_USAGE}
      --start <ISO>      event time of the start (default: now)`,
  async main(args) {
    const { values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        prefix: { type: 'string' },
        ...SIM_OPTIONS,
        start: { type: 'string' },
      },
    });
    const { cells, duration_s, ...sim } = simArgs(values);
    const r = await runSimulator({
      ...sim,
      url: values.url ?? DEFAULT_MQTT_URL,
      topicPrefix: values.prefix ?? DEFAULT_TOPIC_PREFIX,
      cells: demoCells(cells),
      startTs: values.start !== undefined ? Date.parse(values.start) : Date.now(),
      signal: abortOnSignals(),
      ...(duration_s !== undefined ? { duration_ms: duration_s * 1000 } : {}),
    });
    process.stderr.write(`oep simulate: ${r.readings} readings in ${r.messages} messages\n`);
    return 0;
  },
};
