/**
 * The configuration file (YAML or JSON), validated once by zod, frozen and passed down explicitly.
 * Every default is a named constant with its unit. See README "Configuration" for each key.
 */
import { z } from 'zod';
import { DEFAULT_DEDUP_DEPTH, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_LATENESS_MS, DEFAULT_MAX_BUFFERED } from '../domain/align.js';
import { LOG_FORMATS, LOG_LEVELS } from '../adapters/log-text.js';
import { DEFAULT_PER_CELL_METRICS_MAX_CELLS } from '../adapters/health-source.js';
import { DEFAULT_MAX_JSON_DEPTH, DEFAULT_MAX_MESSAGE_BYTES } from '../ingest/payload.js';
import { cellAlertsSchema, detectorFields } from './alerts.js';
import { closest, keysAt } from './paths.js';

import {
  ConfigError,
  DEFAULT_CLIENT_ID,
  DEFAULT_EVICT_IDLE_S,
  DEFAULT_HEALTH_HOST,
  DEFAULT_HEALTH_PORT,
  DEFAULT_INFLUX_BATCH_SIZE,
  DEFAULT_INFLUX_FLUSH_INTERVAL_MS,
  DEFAULT_INFLUX_MAX_BUFFER_LINES,
  DEFAULT_INFLUX_MAX_RETRIES,
  DEFAULT_INFLUX_OUTBOX_MAX_BYTES,
  DEFAULT_MAX_FUTURE_SKEW_MS,
  DEFAULT_JOURNAL_COMMIT_MS,
  DEFAULT_MAX_UNKNOWN_CELLS,
  DEFAULT_MQTT_URL,
  DEFAULT_STATE_INTERVAL_S,
  DEFAULT_TOPIC_PREFIX,
} from './defaults.js';

// The named defaults and ConfigError, for the config's readers (defaults.ts holds them without zod).
export * from './defaults.js';

const positive = z.number().positive();

/**
 * A URL with one of `protocols`: `localhost:1883` (which `new URL` reads as protocol `localhost:`) gets
 * the fix spelled out, `$MQTT_URL` the hint that a variable was not expanded.
 */
function urlWith(key: string, protocols: readonly string[]) {
  return z.string().superRefine((v, ctx) => {
    let protocol: string | undefined;
    try {
      protocol = new URL(v).protocol.slice(0, -1);
    } catch {
      protocol = undefined;
    }
    if (protocol !== undefined && protocols.includes(protocol)) return;
    const message = v.includes('$')
      ? `${key} is ${JSON.stringify(v)}: an environment variable not expanded? write \${NAME} (or \${NAME:-default})`
      : /^[\w.-]+(:\d+)?(\/.*)?$/.test(v) || /^\[[\da-f:]+\](:\d+)?$/i.test(v)
        ? `${key} needs a protocol: ${protocols[0] ?? ''}://${v}`
        : `${key} must be a URL starting with ${protocols.map((p) => `${p}://`).join(', ')}; got ${JSON.stringify(v)}`;
    ctx.addIssue({ code: 'custom', message });
  });
}

/** TLS of a connection: PEM files, and whether the server's certificate must verify. */
const tlsSchema = z.strictObject({
  ca: z.string().min(1).optional().describe('CA certificate file (PEM) the server certificate must chain to'),
  cert: z.string().min(1).optional().describe('client certificate file (PEM)'),
  key: z.string().min(1).optional().describe("client certificate's private key file (PEM)"),
  rejectUnauthorized: z.boolean().default(true),
});

const cellFields = {
  areaMm2: positive.optional().describe('Pressing area for force → pressure, mm² (default: 13 mm mold, 132.73)'),
  activeMassG: positive.optional().describe('Cathode active mass, g: enables Δ(ΔP_Q) in MPa·g/(A·h)'),
  electrodeAreaMm2: positive.optional().describe('Electrode area for areal capacity, mm² (default: areaMm2)'),
  normalization: z.enum(['mass', 'areal']).optional(),
  currentSign: z.enum(['charge-positive', 'discharge-positive']).optional(),
  nominalCurrent_mA: positive.optional(),
  restCurrent_mA: z.number().nonnegative().optional(),
  minStepDuration_s: z.number().nonnegative().optional(),
  currentMaxGap_s: positive.optional(),
  currentSampling: z.enum(['instantaneous', 'on-change', 'interval-average']).optional(),
  pressureMaxGap_s: positive.optional(),
  firstHalf: z.enum(['charge', 'discharge']).optional(),
  cycleSource: z.enum(['auto', 'derived', 'cycler']).optional(),
  capacitySource: z.enum(['integral', 'cycler']).optional(),
  formationCycles: z.number().int().nonnegative().optional(),
  refCycle: z.number().int().positive().optional(),
  dpdqGrid_mAh: z.number().nonnegative().optional(),
  pressureUnit: z.enum(['MPa', 'kPa', 'N', 'kgf']).optional(),
  currentUnit: z.enum(['A', 'mA', 'uA']).optional(),
  voltageUnit: z.enum(['V', 'mV']).optional(),
  alerts: cellAlertsSchema.optional(),
};

const cellDefaultsSchema = z.strictObject(cellFields);
const cellSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(128)
    // eslint-disable-next-line no-control-regex -- control characters are refused, as at the edge
    .regex(/^[^/+#\u0000-\u001f\u007f-\u009f]+$/, 'a cell id cannot contain / + # or control characters'),
  ...cellFields,
});

export const configSchema = z.strictObject({
  mqtt: z
    .strictObject({
      url: urlWith('mqtt.url', ['mqtt', 'mqtts', 'ws', 'wss', 'tcp', 'ssl']).default(DEFAULT_MQTT_URL),
      topicPrefix: z.string().min(1).default(DEFAULT_TOPIC_PREFIX),
      clientId: z.string().min(1).default(DEFAULT_CLIENT_ID),
      cleanSession: z.boolean().default(false),
      qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
      username: z.string().optional(),
      password: z.string().optional(),
      tls: tlsSchema.optional(),
      /** Alert events and statuses awaiting their PUBACK in MQTT.js, at most (absent: 1,000); the rest wait in the daemon's publish queue. */
      publishInflight: z.number().int().positive().optional(),
      /** Bytes of alert events waiting in the publish queue, at most (absent: 16 MiB); past it a new one is refused for MQTT (counted, logged). */
      publishQueueBytes: z.number().int().positive().optional(),
    })
    .prefault({}),
  influx: z
    .strictObject({
      url: urlWith('influx.url', ['http', 'https']),
      org: z.string().default(''),
      bucket: z.string().min(1),
      token: z.string().optional(),
      tls: tlsSchema.optional(),
      batchSize: z.number().int().positive().default(DEFAULT_INFLUX_BATCH_SIZE),
      flushInterval_ms: z.number().int().positive().default(DEFAULT_INFLUX_FLUSH_INTERVAL_MS),
      maxBufferLines: z.number().int().positive().default(DEFAULT_INFLUX_MAX_BUFFER_LINES),
      maxRetries: z.number().int().nonnegative().default(DEFAULT_INFLUX_MAX_RETRIES),
      /** With a state folder, lines wait on disk (`<state>/outbox/`) up to this size; maxBufferLines bounds the memory queue otherwise. */
      outboxMaxBytes: z.number().int().positive().default(DEFAULT_INFLUX_OUTBOX_MAX_BYTES),
      writeCurves: z.boolean().default(true),
    })
    .optional(),
  output: z
    .strictObject({
      dir: z.string().min(1),
      table: z.boolean().default(false),
    })
    .optional(),
  state: z
    .strictObject({
      dir: z.string().min(1),
      interval_s: positive.default(DEFAULT_STATE_INTERVAL_S),
      /** Journal every message before it is acknowledged (exactly-once across crashes); false: acknowledged on arrival. */
      journal: z.boolean().default(true),
      /** Absent: 64 MiB or 16 KiB a cell, the larger (defaults.ts, journalBound). */
      maxJournalBytes: z.number().int().positive().optional(),
      /** Least time between the starts of two fdatasyncs of the journal while messages keep coming, ms (0: back to back); one starts at once when input goes quiet. */
      journalCommit_ms: z.number().nonnegative().max(1000).default(DEFAULT_JOURNAL_COMMIT_MS),
    })
    .optional(),
  alerts: z
    .strictObject({
      ...detectorFields,
      webhook: z
        .strictObject({
          url: z.url(),
          format: z.enum(['json', 'slack']).default('json'),
          timeout_ms: positive.default(5_000),
          retries: z.number().int().nonnegative().default(5),
          /** Only these levels are sent (a state change to them). */
          levels: z.array(z.enum(['ok', 'warning', 'critical'])).default(['warning', 'critical', 'ok']),
        })
        .optional(),
    })
    .prefault({}),
  health: z
    .strictObject({
      host: z.string().default(DEFAULT_HEALTH_HOST),
      port: z.number().int().min(0).max(65535).default(DEFAULT_HEALTH_PORT),
      /** Per-cell series on /metrics: true, false, or while the lab holds at most this many cells (lab-wide sums always). */
      perCellMetrics: z.union([z.boolean(), z.number().int().nonnegative()]).default(DEFAULT_PER_CELL_METRICS_MAX_CELLS),
    })
    .optional(),
  alignment: z
    .strictObject({
      lateness_ms: z.number().nonnegative().default(DEFAULT_LATENESS_MS),
      idleTimeout_ms: positive.default(DEFAULT_IDLE_TIMEOUT_MS),
      dedupDepth: z.number().int().positive().default(DEFAULT_DEDUP_DEPTH),
      maxBuffered: z.number().int().positive().default(DEFAULT_MAX_BUFFERED),
      maxFutureSkew_ms: z.number().nonnegative().default(DEFAULT_MAX_FUTURE_SKEW_MS),
    })
    .prefault({}),
  edge: z
    .strictObject({
      /** Largest payload parsed, bytes. */
      maxMessageBytes: z.number().int().positive().default(DEFAULT_MAX_MESSAGE_BYTES),
      /** Deepest JSON nesting parsed. */
      maxDepth: z.number().int().min(2).default(DEFAULT_MAX_JSON_DEPTH),
      /** `any`: every cell id is taken in; `configured`: only the `cells` listed and unknown ids matching `patterns`. */
      cells: z.enum(['any', 'configured']).default('any'),
      patterns: z.array(z.string().min(1)).default([]),
      maxUnknownCells: z.number().int().nonnegative().default(DEFAULT_MAX_UNKNOWN_CELLS),
      evictIdle_s: positive.default(DEFAULT_EVICT_IDLE_S),
    })
    .prefault({}),
  /** The log: level and format (OEP_LOG_LEVEL / OEP_LOG_FORMAT and --log-level / --log-format take precedence). Case-insensitive. */
  log: z
    .strictObject({
      level: z.string().toLowerCase().pipe(z.enum(LOG_LEVELS)).optional(),
      format: z.string().toLowerCase().pipe(z.enum(LOG_FORMATS)).optional(),
    })
    .optional(),
  defaults: cellDefaultsSchema.prefault({}),
  cells: z.array(cellSchema).default([]),
});

export type OepConfig = z.infer<typeof configSchema>;
export type CellConfig = z.infer<typeof cellDefaultsSchema>;
export type { CellAlertsConfig } from './alerts.js';

/** Validates a parsed config object; secrets may come from OEP_INFLUX_TOKEN / OEP_MQTT_PASSWORD / OEP_MQTT_USERNAME. */
export function parseConfig(raw: unknown, env: Readonly<Record<string, string | undefined>> = {}, source = 'config'): OepConfig {
  const r = configSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(`${source} is not a valid oep configuration:\n${z.prettifyError(withSuggestions(r.error))}`);
  const cfg = r.data;
  if (cfg.influx !== undefined) cfg.influx.token ??= env.OEP_INFLUX_TOKEN;
  cfg.mqtt.password ??= env.OEP_MQTT_PASSWORD;
  cfg.mqtt.username ??= env.OEP_MQTT_USERNAME;
  const ids = new Set<string>();
  for (const c of cfg.cells) {
    if (ids.has(c.id)) throw new ConfigError(`${source}: cell ${c.id} is listed twice`);
    ids.add(c.id);
  }
  return deepFreeze(cfg);
}

/** Unknown keys get a "did you mean" when a known key at the same place is a likely typo. */
function withSuggestions(error: z.ZodError): z.ZodError {
  return new z.ZodError(
    error.issues.map((i) => {
      if (i.code !== 'unrecognized_keys') return i;
      const known = keysAt(
        configSchema,
        i.path.filter((k) => typeof k !== 'symbol'),
      );
      const parts = i.keys.map((k) => {
        const near = closest(k, known);
        return `${JSON.stringify(k)}${near !== undefined ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`;
      });
      return { ...i, message: `Unrecognized key${i.keys.length > 1 ? 's' : ''}: ${parts.join(', ')}` };
    }),
  );
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
