/**
 * The edge's unit conversion, shared by MQTT payloads and recorded files: a value in the unit its source
 * states (or the cell's default) → the canonical unit (MPa, mA with the cell's sign convention, V).
 */
import { channelCode } from '../domain/reading-buffer.js';
import type { Channel, Reading } from '../domain/types.js';
import { currentToMilliamp, normalizeUnit, pressureToMPa, voltageToVolt } from '../domain/units.js';
import { quote, type CellIngestSettings, type EdgeReading, type RejectReason, type Rejection } from './edge-types.js';

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

export function defaultConverter(ch: Channel, settings: CellIngestSettings): ((v: number) => number) | RejectReason {
  const memo = defaultConversions[channelCode(ch)] ?? { settings: undefined, convert: 'schema' };
  if (memo.settings !== settings) {
    memo.settings = settings;
    memo.convert = converter(ch, undefined, settings);
  }
  return memo.convert;
}
