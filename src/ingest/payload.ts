/**
 * Parse at the edge: MQTT topic + payload bytes → typed readings in canonical units, or counted rejections.
 *
 * Wire contract (see README): topic `<prefix>/<cell>/<channel>`, payload JSON
 * `{"ts": <epoch ms | ISO-8601>, "value": <number>, "unit"?: <string>}`, a JSON array of such objects,
 * or a bare number (stamped with the arrival time and counted as such). A `step` reading may also carry
 * `"cycle": <int>`, the cycler's own cycle index.
 */
import { z } from 'zod';
import {
  canonicalOf,
  clip,
  convertOne,
  converter,
  DEFAULT_EDGE_LIMITS,
  isRejection,
  MAX_BATCH_READINGS,
  MAX_DETAIL_QUOTE,
  newUnitMemo,
  quote,
  type CellIngestSettings,
  type EdgeLimits,
  type ParsedMessage,
  type ReadingPayload,
  type Rejection,
  type RejectReason,
} from './canonical.js';
import type { CellState } from '../domain/cell-state.js';
import { channelCode } from '../domain/reading-buffer.js';
import type { Channel, Reading } from '../domain/types.js';
import { readCompactBatch, type CompactBatch } from './compact-batch.js';
import { prescanJson } from './prescan.js';
import { inputChannel, isValidCellId, topicSlash } from './topic.js';

// The edge's conversion, types and bounds (zod-free, canonical.ts), as before from here.
export {
  canonicalReading,
  clip,
  DEFAULT_EDGE_LIMITS,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_MAX_JSON_VALUES,
  DEFAULT_MAX_MESSAGE_BYTES,
  isRejection,
  MAX_BATCH_READINGS,
  MAX_DETAIL_QUOTE,
  newUnitMemo,
  type CellIngestSettings,
  type EdgeLimits,
  type EdgeReading,
  type ParsedMessage,
  type Rejection,
  type RejectReason,
  type UnitMemo,
} from './canonical.js';
export { MAX_EPOCH_MS, MIN_EPOCH_MS } from './epoch.js';
export { isValidCellId, MAX_CELL_ID_LENGTH, parseTopic, type TopicParts } from './topic.js';

const readingSchema = z.object({
  ts: z.union([z.number(), z.string().min(1)]),
  value: z.number(),
  unit: z.string().optional(),
  cycle: z.number().int().optional(),
});

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

/**
 * A cell the edge's admission let in, as its one lookup by id found it: the cell's ingest settings (they then
 * serve instead of `settingsFor`'s) and its state in the lab, which the lab step uses instead of looking
 * the id up again. Read when the batch reaches the lab: whoever hands it out keeps `state` current (see
 * `LabOptions.onCell`).
 */
export interface AdmittedCell {
  readonly settings: CellIngestSettings;
  /** The cell's state as the lab holds it now; undefined while it holds none. */
  readonly state: CellState | undefined;
}

/** What the edge checks besides the wire contract: bounds on a payload, and which cells may come in. */
export interface EdgeOptions {
  readonly limits?: EdgeLimits;
  /**
   * Whether a cell's messages may come in, asked before the payload is looked at: why not, or yes (undefined,
   * or the admitted cell's entry: see {@link AdmittedCell}).
   */
  readonly admit?: (cell: string) => RejectReason | AdmittedCell | undefined;
}

const reject = (cell: string, channel: string | undefined, reason: RejectReason, detail: string): ParsedMessage => ({
  readings: [],
  rejections: [{ cell, ...(channel !== undefined ? { channel } : {}), reason, detail }],
  bare: 0,
});

/**
 * The payload's bytes, checked against `limits` before anything is built from them: its size, then its
 * nesting depth, batch length and value count by {@link prescanJson}. Returns the bytes, or why not.
 */
function boundedBytes(payload: Uint8Array | string, limits: EdgeLimits): Uint8Array | { reason: RejectReason; detail: string } {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (bytes.byteLength > limits.maxMessageBytes) return { reason: 'too_large', detail: `payload of ${bytes.byteLength} bytes > ${limits.maxMessageBytes}` };
  const refused = prescanJson(bytes, limits);
  if (refused === undefined) return bytes;
  switch (refused.reason) {
    case 'too_deep':
      return { reason: 'too_deep', detail: `nested deeper than ${limits.maxDepth}` };
    case 'batch_too_large':
      return { reason: 'batch_too_large', detail: `batch of more than ${limits.maxBatch} elements` };
    case 'too_many_values':
      return { reason: 'too_many_values', detail: `more than ${limits.maxValues} values` };
  }
}

/**
 * One channel's readings of one message as numbers: time (epoch ms) at 2k, canonical value at 2k + 1. What
 * the edge gives for the batch every publisher sends (see compact-batch.ts): no Reading object per reading.
 */
export interface ReadingPairs {
  readonly cell: string;
  readonly channel: Channel;
  readonly pairs: readonly number[];
  /** The cell as the edge's admission found it, when it gave an entry. */
  readonly admitted?: AdmittedCell | undefined;
}

/**
 * Parses one MQTT message. Never throws: every problem becomes a counted rejection with a reason.
 * A batch with some bad elements keeps its good ones. The topic and the cell's admission are checked
 * first, then the payload's size and shape on its raw bytes ({@link boundedBytes}), and only then is it
 * parsed: no payload can make the parser build more than `limits` allow.
 */
export function parseMessage(
  topic: string,
  payload: Uint8Array | string,
  arrivalTs: number,
  prefix: string,
  settingsFor: (cell: string) => CellIngestSettings,
  edge: EdgeOptions = {},
): ParsedMessage {
  const parsed = parseMessageOrPairs(topic, payload, arrivalTs, prefix, settingsFor, edge);
  return 'pairs' in parsed ? { readings: readingsOfPairs(parsed), rejections: [], bare: 0 } : parsed;
}

/** The readings of `p`, as {@link parseMessage} gives them. */
export function readingsOfPairs(p: ReadingPairs): Reading[] {
  const readings: Reading[] = [];
  const { cell, channel, pairs } = p;
  for (let k = 0; k + 1 < pairs.length; k += 2) readings.push({ cell, channel, ts: pairs[k] ?? NaN, value: pairs[k + 1] ?? NaN });
  return readings;
}

/** {@link parseMessage}, a compact batch given as numbers ({@link ReadingPairs}) rather than readings. */
export function parseMessageOrPairs(
  topic: string,
  payload: Uint8Array | string,
  arrivalTs: number,
  prefix: string,
  settingsFor: (cell: string) => CellIngestSettings,
  edge: EdgeOptions = {},
): ParsedMessage | ReadingPairs {
  const readings: Reading[] = [];
  const rejections: Rejection[] = [];
  const slash = topicSlash(topic, prefix);
  if (slash < 0) return reject('?', undefined, 'bad_topic', `topic ${quote(topic)} is not ${prefix}/<cell>/<channel>`);
  const cellId = topic.slice(prefix.length + 1, slash);
  const channel = topic.slice(slash + 1);
  if (!isValidCellId(cellId)) return reject('?', undefined, 'bad_cell_id', `cell id ${quote(cellId)} is empty, too long, or holds a control character or + #`);
  const admitted = edge.admit?.(cellId);
  if (typeof admitted === 'string') return reject(cellId, channel, admitted, `cell ${cellId} is not admitted`);
  const ch = inputChannel(channel);
  if (ch === undefined) return reject(cellId, channel, 'unknown_channel', `channel ${quote(channel)} is not pressure|current|voltage|step`);
  const limits = edge.limits ?? DEFAULT_EDGE_LIMITS;
  if (Buffer.isBuffer(payload) && payload.byteLength <= limits.maxMessageBytes) {
    const compact = readCompactBatch(payload, limits, Math.min(limits.maxBatch, MAX_BATCH_READINGS));
    if (compact !== undefined) return compactPairs(cellId, ch, compact, admitted?.settings ?? settingsFor(cellId), admitted);
  }
  const bytes = boundedBytes(payload, limits);
  if (!(bytes instanceof Uint8Array)) return reject(cellId, channel, bytes.reason, bytes.detail);
  const text = Buffer.isBuffer(bytes) ? bytes.toString('utf8') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return reject(cellId, channel, 'invalid_json', `payload is not JSON: ${quote(text.slice(0, MAX_DETAIL_QUOTE * 2))}`);
  }
  if (Array.isArray(json)) return parseBatch(cellId, ch, json, admitted?.settings ?? settingsFor(cellId), readings, rejections);
  if (isReadingPayload(json)) {
    convertOne(cellId, ch, json, admitted?.settings ?? settingsFor(cellId), readings, rejections);
    return { readings, rejections, bare: 0 };
  }
  const top = payloadSchema.safeParse(json);
  if (!top.success) return reject(cellId, channel, 'schema', clip(z.prettifyError(top.error), 200));
  const settings = admitted?.settings ?? settingsFor(cellId);
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

/**
 * The conversion of a channel's values in the default unit of the settings it was made for, by channel
 * code: cells share their settings object, so the same conversion serves message after message.
 */
const defaultConversions: { settings: CellIngestSettings | undefined; convert: ((v: number) => number) | RejectReason }[] = [
  { settings: undefined, convert: 'schema' },
  { settings: undefined, convert: 'schema' },
  { settings: undefined, convert: 'schema' },
  { settings: undefined, convert: 'schema' },
];

function defaultConverter(ch: Channel, settings: CellIngestSettings): ((v: number) => number) | RejectReason {
  const memo = defaultConversions[channelCode(ch)] ?? { settings: undefined, convert: 'schema' };
  if (memo.settings !== settings) {
    memo.settings = settings;
    memo.convert = converter(ch, undefined, settings);
  }
  return memo.convert;
}

/**
 * A compact batch's readings (see compact-batch.ts): what {@link parseBatch} makes of the same payload, as
 * numbers. Its numbers are finite and it states no unit: one conversion for the whole batch (the cell's
 * default unit), each value through it as {@link canonicalOf} converts it.
 */
function compactPairs(
  cellId: string,
  ch: Channel,
  b: CompactBatch,
  settings: CellIngestSettings,
  admitted: AdmittedCell | undefined,
): ParsedMessage | ReadingPairs {
  const convert = defaultConverter(ch, settings);
  if (typeof convert !== 'string') {
    const read = b.pairs;
    // A plain array of doubles: a typed array costs ~6 times as much to make, and this one lives for one message.
    const pairs: number[] = new Array<number>(2 * b.n);
    for (let k = 0; k < pairs.length; k += 2) {
      pairs[k] = read[k] ?? NaN;
      pairs[k + 1] = convert(read[k + 1] ?? NaN);
    }
    return { cell: cellId, channel: ch, pairs, admitted };
  }
  const readings: Reading[] = [];
  const rejections: Rejection[] = [];
  const pairs = b.pairs;
  const memo = newUnitMemo();
  for (let k = 0; k < b.n; k++) {
    const r = canonicalOf(cellId, ch, pairs[2 * k] ?? NaN, pairs[2 * k + 1] ?? NaN, undefined, undefined, settings, memo);
    if (isRejection(r)) rejections.push(r);
    else readings.push(r);
  }
  return { readings, rejections, bare: 0 };
}

function parseBatch(cellId: string, ch: Channel, data: unknown[], settings: CellIngestSettings, readings: Reading[], rejections: Rejection[]): ParsedMessage {
  const channel = ch;
  if (data.length > MAX_BATCH_READINGS) {
    // the prescan refuses longer batches before parsing; this holds for a caller with looser limits
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
