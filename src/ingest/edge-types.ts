/**
 * What the edge's parts share: why a reading is rejected, what the edge knows of a cell, one reading as it
 * reaches the edge, and how a piece of a payload is quoted in a rejection's detail.
 */
import type { Channel } from '../domain/types.js';
import type { CurrentUnit, PressureUnit, VoltageUnit } from '../domain/units.js';

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

/** Longest piece of a payload quoted in a rejection's detail, characters. */
export const MAX_DETAIL_QUOTE = 60;

/** `s` cut to `n` characters, saying how long it was: a 10 MB unit string must not reach the log whole. */
export function clip(s: string, n = MAX_DETAIL_QUOTE): string {
  return s.length <= n ? s : `${s.slice(0, n)}…(${s.length} chars)`;
}

/** A value quoted for a detail: JSON, clipped (never the whole of a large value). */
export function quote(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v.length > MAX_DETAIL_QUOTE * 2 ? v.slice(0, MAX_DETAIL_QUOTE * 2) : v) : String(v);
  return clip(s);
}
