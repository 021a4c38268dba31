/**
 * The edge's conversion without the wire's parsing (no zod): a reading's value, unit and channel and the
 * cell's settings → the canonical reading, or the rejection saying why not; the types and bounds of the
 * edge. payload.ts parses MQTT payloads and re-exports all of this; a recorded file (`oep process`) needs
 * only this part, so its start-up does not load zod (~0.15 s of CPU).
 */
import { MAX_EPOCH_MS, MIN_EPOCH_MS } from './epoch.js';
import type { Channel, Reading } from '../domain/types.js';
import { currentToMilliamp, normalizeUnit, pressureToMPa, voltageToVolt, type CurrentUnit, type PressureUnit, type VoltageUnit } from '../domain/units.js';

/** Why a message or one element of a batch was rejected. Counted per cell and reason. */
export type RejectReason =
  | 'bad_topic'
  | 'bad_cell_id'
  | 'unknown_channel'
  | 'too_large'
  | 'too_deep'
  | 'too_many_values'
  | 'invalid_json'
  | 'schema'
  | 'bad_timestamp'
  | 'unknown_unit'
  | 'unit_not_for_channel'
  | 'batch_too_large'
  | 'cell_not_allowed'
  | 'cell_limit';

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

/**
 * Largest payload parsed, bytes (8 MiB). A full batch of {@link MAX_BATCH_READINGS} readings as the wire
 * contract spells them (`{"ts":1767225600000,"value":12.3456789,"unit":"MPa"},` is 52 bytes) is 5.2 MB, so
 * every valid batch fits with room to spare; parsed, it costs the heap about 10 MB, which the daemon's
 * 128 MB old space holds even while the previous batch is still being processed.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
/** Deepest nesting accepted: a batch is 2 deep (an array of objects); the rest is margin. */
export const DEFAULT_MAX_JSON_DEPTH = 8;
/** Values (array elements and object members at every depth) in one payload: four fields per reading of a full batch. */
export const DEFAULT_MAX_JSON_VALUES = 4 * MAX_BATCH_READINGS;
/** Longest piece of a payload quoted in a rejection's detail, characters. */
export const MAX_DETAIL_QUOTE = 60;

/** What the edge accepts before it parses a payload (see the DEFAULT_* constants for each bound). */
export interface EdgeLimits {
  readonly maxMessageBytes: number;
  readonly maxDepth: number;
  readonly maxBatch: number;
  readonly maxValues: number;
}

export const DEFAULT_EDGE_LIMITS: EdgeLimits = Object.freeze({
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxDepth: DEFAULT_MAX_JSON_DEPTH,
  maxBatch: MAX_BATCH_READINGS,
  maxValues: DEFAULT_MAX_JSON_VALUES,
});

/** `s` cut to `n` characters, saying how long it was: a 10 MB unit string must not reach the log whole. */
export function clip(s: string, n = MAX_DETAIL_QUOTE): string {
  return s.length <= n ? s : `${s.slice(0, n)}…(${s.length} chars)`;
}

/** A value quoted for a detail: JSON, clipped (never the whole of a large value). */
export function quote(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v.length > MAX_DETAIL_QUOTE * 2 ? v.slice(0, MAX_DETAIL_QUOTE * 2) : v) : String(v);
  return clip(s);
}

/** One reading of a payload as the wire contract spells it (what `readingSchema` in payload.ts accepts). */
export interface ReadingPayload {
  ts: number | string;
  value: number;
  unit?: string | undefined;
  cycle?: number | undefined;
}

export interface ParsedMessage {
  readonly readings: Reading[];
  readonly rejections: Rejection[];
  /** How many readings came as bare numbers (stamped with arrival time). */
  readonly bare: number;
}

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
export function converter(channel: Channel, rawUnit: string | undefined, cell: CellIngestSettings): ((v: number) => number) | RejectReason {
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
  return canonicalOf(r.cell, r.channel, r.ts, r.value, r.unit, r.cycle, cell, memo);
}

/** {@link canonicalReading} of the reading's fields (the MQTT edge builds no EdgeReading per reading). */
export function canonicalOf(
  cellId: string,
  channel: Channel,
  ts: number,
  raw: number,
  unit: string | undefined,
  cycle: number | undefined,
  cell: CellIngestSettings,
  memo: UnitMemo,
): Reading | Rejection {
  if (!Number.isFinite(raw)) return { cell: cellId, channel, reason: 'schema', detail: 'value is not a finite number' };
  if (memo.unit !== unit || memo.channel !== channel) {
    memo.channel = channel;
    memo.unit = unit;
    memo.convert = converter(channel, unit, cell);
  }
  const f = memo.convert;
  if (typeof f === 'string') return { cell: cellId, channel, reason: f, detail: `unit ${quote(unit)} is not valid for ${channel}` };
  const value = f(raw);
  return channel === 'step' && cycle !== undefined ? { cell: cellId, channel, ts, value, cycleIndex: cycle } : { cell: cellId, channel, ts, value };
}

/** True for a rejection from {@link canonicalReading}. */
export function isRejection(x: Reading | Rejection): x is Rejection {
  return 'reason' in x;
}

export function convertOne(
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
    rejections.push({ cell: cellId, channel, reason: 'bad_timestamp', detail: `ts ${quote(p.ts)} is not epoch ms or ISO-8601 in 2000..2100` });
    return;
  }
  const r = canonicalOf(cellId, channel, ts, p.value, p.unit, p.cycle, cell, memo);
  if (isRejection(r)) rejections.push(r);
  else out.push(r);
}
