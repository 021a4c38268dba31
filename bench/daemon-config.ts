/**
 * The daemon's config in the benchmark: what a lab runs (README "Configuration"), every output on, the
 * write-ahead journal included (state.journal defaults to true). Pass more keys without editing:
 * OEP_BENCH_CONFIG='{"state":{"interval_s":10}}' (JSON, merged over this one key by key); the journal's cost
 * is the difference with OEP_BENCH_CONFIG='{"state":{"journal":false}}'; a sink's, with its key null
 * (OEP_BENCH_CONFIG='{"influx":null}', '{"output":null}', '{"state":null}').
 */
import { join } from 'node:path';

export interface BenchServices {
  readonly brokerUrl: string;
  /** Anything that takes `/api/v2/write` (the bench starts a VictoriaMetrics). */
  readonly influxUrl: string;
  readonly healthPort: number;
  readonly clientId: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` merged into `base`, objects key by key, anything else replaced; null removes the key (`{"influx":null}`: no InfluxDB). */
export function mergeConfig(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? mergeConfig(b, v) : v;
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== null));
}

/** The production-shaped config, with its folders under `dir`. */
export function productionConfig(s: BenchServices, dir: string, extra = process.env.OEP_BENCH_CONFIG): Json {
  const base: Json = {
    // A persistent session at QoS 1, as the daemon's defaults have it (stated, so the bench does not drift if they change).
    mqtt: { url: s.brokerUrl, clientId: s.clientId, cleanSession: false, qos: 1 },
    influx: { url: s.influxUrl, org: 'bench', bucket: 'oep', token: 'bench' },
    output: { dir: join(dir, 'out') },
    state: { dir: join(dir, 'state') },
    health: { host: '127.0.0.1', port: s.healthPort },
    defaults: { activeMassG: 0.0179, nominalCurrent_mA: 0.65 },
  };
  if (extra === undefined || extra.trim() === '') return base;
  const parsed: unknown = JSON.parse(extra);
  if (!isObject(parsed)) throw new Error('OEP_BENCH_CONFIG must be a JSON object');
  return mergeConfig(base, parsed);
}
