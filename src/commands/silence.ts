import { parseArgs } from 'node:util';
import { connectMqtt } from '../adapters/mqtt-client.js';
import { loadConfig } from '../config/load.js';
import { ConfigError, DEFAULT_MQTT_URL, DEFAULT_TOPIC_PREFIX } from '../config/schema.js';
import { silencePayloadFor, silenceTopic } from '../ingest/control.js';
import type { Command } from './types.js';

const UNITS_S: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `90`, `90s`, `30m`, `2h`, `1.5d` → seconds. */
export function durationSeconds(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/.exec(text.trim());
  const n = m?.[1] !== undefined ? Number(m[1]) : NaN;
  const unit = UNITS_S[m?.[2] === undefined || m[2] === '' ? 's' : m[2]] ?? NaN;
  if (!(n * unit > 0)) throw new ConfigError(`--for must be a positive duration such as 90s, 30m, 2h or 1d, got ${text}`);
  return n * unit;
}

export const command: Command = {
  example: `oep silence cell-02 --for 2h --reason "out of the press" --config oep.yaml`,
  usage: [
    'oep silence <cell> --for <duration> [--reason <text>]   e.g. oep silence cell-02 --for 2h --reason "out of the press"',
    'oep silence --all --for <duration>                      every cell',
    'oep silence <cell> --end  |  oep silence --all --end      end a silence now',
    'Broker: --config <file.yaml> (its mqtt section), or --url <mqtt://…> [--prefix oep]. Durations: 90s, 30m, 2h, 1d.',
    'Publishes a retained message on <prefix>/<cell>/control/silence (or <prefix>/control/silence) with the absolute end',
    'of the silence; the daemon reads it again after a restart, and the silence ends by itself.',
  ].join('\n'),
  async main(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        all: { type: 'boolean' },
        for: { type: 'string' },
        end: { type: 'boolean' },
        reason: { type: 'string' },
        config: { type: 'string', short: 'c' },
        url: { type: 'string' },
        prefix: { type: 'string' },
      },
    });
    const cell = positionals[0];
    if ((cell === undefined) === (values.all !== true)) throw new ConfigError('oep silence needs one cell id, or --all');
    if ((values.for === undefined) === (values.end !== true)) throw new ConfigError('oep silence needs --for <duration>, or --end');
    const mqttCfg = values.config !== undefined ? (await loadConfig(values.config)).mqtt : undefined;
    const prefix = values.prefix ?? mqttCfg?.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
    const topic = silenceTopic(prefix, cell);
    const until = values.for !== undefined ? Date.now() + durationSeconds(values.for) * 1000 : 0;
    const client = await connectMqtt({
      url: values.url ?? mqttCfg?.url ?? DEFAULT_MQTT_URL,
      clientId: `oep-silence-${String(process.pid)}`,
      clean: true,
      username: mqttCfg?.username,
      password: mqttCfg?.password,
    });
    try {
      // An empty retained payload removes the retained silence from the broker.
      await client.publishAsync(topic, until > 0 ? silencePayloadFor(until, values.reason) : '', { qos: 1, retain: true });
    } finally {
      await client.endAsync();
    }
    const who = cell ?? 'all cells';
    process.stdout.write(until > 0 ? `oep: ${who} silenced until ${new Date(until).toISOString()} (${topic})\n` : `oep: silence of ${who} ended (${topic})\n`);
    return 0;
  },
};
