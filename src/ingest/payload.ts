/**
 * Parse at the edge: MQTT topic + payload bytes → typed readings in canonical units, or counted rejections.
 *
 * Wire contract (see README): topic `<prefix>/<cell>/<channel>`, payload JSON
 * `{"ts": <epoch ms | ISO-8601>, "value": <number>, "unit"?: <string>}`, a JSON array of such objects,
 * or a bare number (stamped with the arrival time and counted as such). A `step` reading may also carry
 * `"cycle": <int>`, the cycler's own cycle index.
 */
import { z } from 'zod';
import type { Channel, Reading } from '../domain/types.js';
import { currentToMilliamp, normalizeUnit, pressureToMPa, voltageToVolt, type CurrentUnit, type PressureUnit, type VoltageUnit } from '../domain/units.js';

/** Why a message or one element of a batch was rejected. Counted per cell and reason. */
export type RejectReason =
  'bad_topic' | 'unknown_channel' | 'invalid_json' | 'schema' | 'bad_timestamp' | 'unknown_unit' | 'unit_not_for_channel' | 'batch_too_large';

export interface Rejection {
  readonly cell: string;
  readonly channel?: string;
  readonly reason: RejectReason;
  readonly detail: string;
}

/** What the edge needs to know about a cell to turn its payloads into canonical readings. */
export interface CellIngestSettings {
  /** Pressing area for force → pressure, mm². */
  readonly areaMm2: number;
  /** +1 if the device publishes positive = charge, −1 if positive = discharge. */
  readonly currentSign: 1 | -1;
  /** Unit assumed when a payload carries none. */
  readonly defaultPressureUnit: PressureUnit;
  readonly defaultCurrentUnit: CurrentUnit;
  readonly defaultVoltageUnit: VoltageUnit;
}

/** Largest batch accepted in one message; larger ones are rejected whole (a guard against runaway publishers). */
export const MAX_BATCH_READINGS = 100_000;

/** Epoch-ms timestamps must fall in [2000-01-01, 2100-01-01): catches seconds-instead-of-ms and garbage. */
export const MIN_EPOCH_MS = 946_684_800_000;
export const MAX_EPOCH_MS = 4_102_444_800_000;

const readingSchema = z.object({
  ts: z.union([z.number(), z.string().min(1)]),
  value: z.number(),
  unit: z.string().optional(),
  cycle: z.number().int().optional(),
});

type ReadingPayload = z.infer<typeof readingSchema>;

/**
 * The common case checked without zod's machinery: accepts exactly what `readingSchema` accepts
 * (zod still produces the message for anything this turns away).
 */
function isReadingPayload(o: unknown): o is ReadingPayload {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return false;
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- a non-null object's fields, each read as unknown and checked below
  const r = o as Record<string, unknown>;
  const ts = r.ts;
  const unit = r.unit;
  const cycle = r.cycle;
  return (
    (typeof ts === 'number' || (typeof ts === 'string' && ts.length > 0)) &&
    typeof r.value === 'number' &&
    (unit === undefined || typeof unit === 'string') &&
    (cycle === undefined || Number.isInteger(cycle))
  );
}

const payloadSchema = z.union([z.number(), readingSchema, z.array(z.unknown())]);

export interface ParsedMessage {
  readonly readings: Reading[];
  readonly rejections: Rejection[];
  /** How many readings came as bare numbers (stamped with arrival time). */
  readonly bare: number;
}

export interface TopicParts {
  readonly cell: string;
  readonly channel: string;
}

/** Splits `<prefix>/<cell>/<channel>`; the prefix may itself contain slashes. */
export function parseTopic(topic: string, prefix: string): TopicParts | undefined {
  if (!topic.startsWith(prefix + '/')) return undefined;
  const rest = topic.slice(prefix.length + 1);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1 || rest.includes('/', slash + 1)) return undefined;
  return { cell: rest.slice(0, slash), channel: rest.slice(slash + 1) };
}

const INPUT_CHANNELS: readonly Channel[] = ['pressure', 'current', 'voltage', 'step'];

function toEpochMs(ts: number | string): number | undefined {
  const ms = typeof ts === 'number' ? ts : Date.parse(ts);
  if (!Number.isFinite(ms) || ms < MIN_EPOCH_MS || ms >= MAX_EPOCH_MS) return undefined;
  return ms;
}

/**
 * The conversion of a channel's values in one unit to the canonical unit, or why the unit is refused.
 * The unit is resolved once; each value then goes through the units module's own arithmetic (no
 * precomputed factor), so that a value converted here equals the same value converted anywhere else, bit
 * for bit.
 */
function converter(channel: Channel, rawUnit: string | undefined, cell: CellIngestSettings): ((v: number) => number) | RejectReason {
  if (channel === 'step') return rawUnit === undefined ? (v) => v : 'unit_not_for_channel';
  const unit = rawUnit === undefined ? undefined : normalizeUnit(rawUnit);
  if (rawUnit !== undefined && unit === undefined) return 'unknown_unit';
  switch (channel) {
    case 'pressure': {
      const u = unit ?? cell.defaultPressureUnit;
      if (u !== 'MPa' && u !== 'kPa' && u !== 'N' && u !== 'kgf') return 'unit_not_for_channel';
      const area_mm2 = cell.areaMm2;
      return (v) => pressureToMPa(v, u, area_mm2);
    }
    case 'current': {
      const u = unit ?? cell.defaultCurrentUnit;
      if (u !== 'A' && u !== 'mA' && u !== 'uA') return 'unit_not_for_channel';
      const sign = cell.currentSign;
      return (v) => sign * currentToMilliamp(v, u);
    }
    case 'voltage': {
      const u = unit ?? cell.defaultVoltageUnit;
      if (u !== 'V' && u !== 'mV') return 'unit_not_for_channel';
      return (v) => voltageToVolt(v, u);
    }
  }
}

/** Remembers the conversion of the last (channel, unit) seen: a batch nearly always carries one unit throughout. */
export interface UnitMemo {
  channel: Channel | undefined;
  unit: string | undefined | null;
  convert: ((v: number) => number) | RejectReason;
}

/** A memo that remembers nothing yet. */
export function newUnitMemo(): UnitMemo {
  return { channel: undefined, unit: null, convert: 'schema' };
}

/**
 * One reading as it reaches the edge: event time, and a value in the unit its source states (absent:
 * the cell's default unit). MQTT payloads become this after their JSON and timestamp are checked;
 * recorded files give it straight from their rows (mA, V, the load-cell log's own unit).
 */
export interface EdgeReading {
  readonly cell: string;
  readonly channel: Channel;
  /** Event time, epoch ms. */
  readonly ts: number;
  readonly value: number;
  readonly unit?: string | undefined;
  /** The cycler's cycle index (step readings only). */
  readonly cycle?: number | undefined;
}

/**
 * The edge's one conversion, shared by MQTT payloads and recorded files: a value, its unit, its channel
 * and the cell's settings → the canonical reading (MPa through the cell's area, mA with the cell's
 * sign convention, V), or the rejection saying why not (a non-finite value, a unit unknown or not for
 * the channel). `memo` keeps the last unit's conversion (one memo per cell: it does not remember the settings).
 */
export function canonicalReading(r: EdgeReading, cell: CellIngestSettings, memo: UnitMemo = newUnitMemo()): Reading | Rejection {
  const channel = r.channel;
  if (!Number.isFinite(r.value)) return { cell: r.cell, channel, reason: 'schema', detail: 'value is not a finite number' };
  if (memo.unit !== r.unit || memo.channel !== channel) {
    memo.channel = channel;
    memo.unit = r.unit;
    memo.convert = converter(channel, r.unit, cell);
  }
  const f = memo.convert;
  if (typeof f === 'string') return { cell: r.cell, channel, reason: f, detail: `unit ${JSON.stringify(r.unit)} is not valid for ${channel}` };
  const value = f(r.value);
  return channel === 'step' && r.cycle !== undefined
    ? { cell: r.cell, channel, ts: r.ts, value, cycleIndex: r.cycle }
    : { cell: r.cell, channel, ts: r.ts, value };
}

/** True for a rejection from {@link canonicalReading}. */
export function isRejection(x: Reading | Rejection): x is Rejection {
  return 'reason' in x;
}

function convertOne(
  cellId: string,
  channel: Channel,
  p: ReadingPayload,
  cell: CellIngestSettings,
  out: Reading[],
  rejections: Rejection[],
  memo: UnitMemo = newUnitMemo(),
): void {
  const ts = toEpochMs(p.ts);
  if (ts === undefined) {
    rejections.push({ cell: cellId, channel, reason: 'bad_timestamp', detail: `ts ${JSON.stringify(p.ts)} is not epoch ms or ISO-8601 in 2000..2100` });
    return;
  }
  const r = canonicalReading({ cell: cellId, channel, ts, value: p.value, unit: p.unit, cycle: p.cycle }, cell, memo);
  if (isRejection(r)) rejections.push(r);
  else out.push(r);
}

/**
 * Parses one MQTT message. Never throws: every problem becomes a counted rejection with a reason.
 * A batch with some bad elements keeps its good ones.
 */
export function parseMessage(
  topic: string,
  payload: Uint8Array | string,
  arrivalTs: number,
  prefix: string,
  settingsFor: (cell: string) => CellIngestSettings,
): ParsedMessage {
  const readings: Reading[] = [];
  const rejections: Rejection[] = [];
  const parts = parseTopic(topic, prefix);
  if (parts === undefined) {
    return { readings, rejections: [{ cell: '?', reason: 'bad_topic', detail: `topic ${topic} is not ${prefix}/<cell>/<channel>` }], bare: 0 };
  }
  const { cell: cellId, channel } = parts;
  const ch = INPUT_CHANNELS.find((c) => c === channel);
  if (ch === undefined) {
    return {
      readings,
      rejections: [{ cell: cellId, channel, reason: 'unknown_channel', detail: `channel ${channel} is not pressure|current|voltage|step` }],
      bare: 0,
    };
  }
  const text =
    typeof payload === 'string'
      ? payload
      : Buffer.isBuffer(payload)
        ? payload.toString('utf8')
        : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { readings, rejections: [{ cell: cellId, channel, reason: 'invalid_json', detail: `payload is not JSON: ${text.slice(0, 60)}` }], bare: 0 };
  }
  if (Array.isArray(json)) return parseBatch(cellId, ch, json, settingsFor(cellId), readings, rejections);
  if (isReadingPayload(json)) {
    convertOne(cellId, ch, json, settingsFor(cellId), readings, rejections);
    return { readings, rejections, bare: 0 };
  }
  const top = payloadSchema.safeParse(json);
  if (!top.success) {
    return { readings, rejections: [{ cell: cellId, channel, reason: 'schema', detail: z.prettifyError(top.error).slice(0, 200) }], bare: 0 };
  }
  const settings = settingsFor(cellId);
  const data = top.data;
  if (typeof data === 'number') {
    convertOne(cellId, ch, { ts: arrivalTs, value: data }, settings, readings, rejections);
    return { readings, rejections, bare: readings.length };
  }
  if (!Array.isArray(data)) {
    convertOne(cellId, ch, data, settings, readings, rejections);
    return { readings, rejections, bare: 0 };
  }
  return parseBatch(cellId, ch, data, settings, readings, rejections);
}

function parseBatch(cellId: string, ch: Channel, data: unknown[], settings: CellIngestSettings, readings: Reading[], rejections: Rejection[]): ParsedMessage {
  const channel = ch;
  if (data.length > MAX_BATCH_READINGS) {
    return { readings, rejections: [{ cell: cellId, channel, reason: 'batch_too_large', detail: `batch of ${data.length} > ${MAX_BATCH_READINGS}` }], bare: 0 };
  }
  const memo = newUnitMemo();
  for (let i = 0; i < data.length; i++) {
    const item = data[i];
    if (isReadingPayload(item)) {
      convertOne(cellId, ch, item, settings, readings, rejections, memo);
      continue;
    }
    const el = readingSchema.safeParse(item);
    if (el.success) convertOne(cellId, ch, el.data, settings, readings, rejections, memo);
    else rejections.push({ cell: cellId, channel, reason: 'schema', detail: `batch[${i}]: ${z.prettifyError(el.error).slice(0, 160)}` });
  }
  return { readings, rejections, bare: 0 };
}
