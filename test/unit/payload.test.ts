import { describe, expect, it } from 'vitest';
import { canonicalReading, isRejection, newUnitMemo, type CellIngestSettings } from '../../src/ingest/canonical.js';
import { parseMessage, parseTopic } from '../../src/ingest/payload.js';
import { countPressure_MPa, MOLD_13MM_AREA_MM2, N_PER_KGF } from '../../src/domain/units.js';

const CELL: CellIngestSettings = { areaMm2: MOLD_13MM_AREA_MM2, currentSign: 1, defaultPressureUnit: 'MPa', defaultCurrentUnit: 'mA', defaultVoltageUnit: 'V' };
const T = Date.UTC(2026, 0, 1);
const parse = (topic: string, payload: string, settings = CELL) => parseMessage(topic, payload, T + 5, 'oep', () => settings);

describe('topics', () => {
  it('splits <prefix>/<cell>/<channel>, prefixes with slashes too', () => {
    expect(parseTopic('oep/c1/pressure', 'oep')).toEqual({ cell: 'c1', channel: 'pressure' });
    expect(parseTopic('lab/a/oep/c1/current', 'lab/a/oep')).toEqual({ cell: 'c1', channel: 'current' });
    expect(parseTopic('oep/c1/x/pressure', 'oep')).toBeUndefined();
    expect(parseTopic('other/c1/pressure', 'oep')).toBeUndefined();
  });
});

describe('payloads', () => {
  it('accepts a single reading with epoch ms or ISO-8601 time', () => {
    expect(parse('oep/c1/pressure', `{"ts":${T},"value":15.2}`).readings).toEqual([{ cell: 'c1', channel: 'pressure', ts: T, value: 15.2 }]);
    expect(parse('oep/c1/pressure', `{"ts":"2026-01-01T00:00:00.250Z","value":15.2}`).readings[0]!.ts).toBe(T + 250);
  });

  it('converts units: kgf and N through the cell area, kPa, A and µA, mV', () => {
    const kgf = parse('oep/c1/pressure', `{"ts":${T},"value":203.0,"unit":"kgf"}`).readings[0]!.value;
    expect(kgf).toBeCloseTo((203 * N_PER_KGF) / MOLD_13MM_AREA_MM2, 12);
    expect(parse('oep/c1/pressure', `{"ts":${T},"value":1000,"unit":"N"}`).readings[0]!.value).toBeCloseTo(1000 / MOLD_13MM_AREA_MM2, 12);
    expect(parse('oep/c1/pressure', `{"ts":${T},"value":15000,"unit":"kPa"}`).readings[0]!.value).toBe(15);
    expect(parse('oep/c1/current', `{"ts":${T},"value":0.0012,"unit":"A"}`).readings[0]!.value).toBeCloseTo(1.2, 12);
    expect(parse('oep/c1/current', `{"ts":${T},"value":1200,"unit":"µA"}`).readings[0]!.value).toBeCloseTo(1.2, 12);
    expect(parse('oep/c1/voltage', `{"ts":${T},"value":4200,"unit":"mV"}`).readings[0]!.value).toBe(4.2);
    expect(countPressure_MPa(MOLD_13MM_AREA_MM2) * 1000).toBeCloseTo(7.39, 2);
  });

  it('applies the per-cell sign convention', () => {
    const r = parse('oep/c1/current', `{"ts":${T},"value":1.5}`, { ...CELL, currentSign: -1 });
    expect(r.readings[0]!.value).toBe(-1.5);
  });

  it('accepts batches and keeps the good elements of a partly bad batch', () => {
    const r = parse('oep/c1/current', `[{"ts":${T},"value":1},{"ts":${T + 1},"value":"x"},{"ts":${T + 2},"value":3,"unit":"furlong"}]`);
    expect(r.readings.map((x) => x.value)).toEqual([1]);
    expect(r.rejections.map((x) => x.reason)).toEqual(['schema', 'unknown_unit']);
  });

  it('stamps a bare number with the arrival time and counts it', () => {
    const r = parse('oep/c1/pressure', '15.5');
    expect(r.readings).toEqual([{ cell: 'c1', channel: 'pressure', ts: T + 5, value: 15.5 }]);
    expect(r.bare).toBe(1);
  });

  it('carries the cycler cycle index on step readings', () => {
    expect(parse('oep/c1/step', `{"ts":${T},"value":4,"cycle":2}`).readings[0]).toEqual({ cell: 'c1', channel: 'step', ts: T, value: 4, cycleIndex: 2 });
  });

  it('rejects bad input with a reason and never throws', () => {
    const reasons = (topic: string, p: string) => parse(topic, p).rejections.map((x) => x.reason);
    expect(reasons('oep/c1/pressure', '{"ts":')).toEqual(['invalid_json']);
    expect(reasons('oep/c1/pressure', '{"value":1}')).toEqual(['schema']);
    expect(reasons('oep/c1/pressure', `{"ts":${Math.round(T / 1000)},"value":1}`)).toEqual(['bad_timestamp']);
    expect(reasons('oep/c1/pressure', `{"ts":"yesterday","value":1}`)).toEqual(['bad_timestamp']);
    expect(reasons('oep/c1/pressure', `{"ts":${T},"value":1,"unit":"mA"}`)).toEqual(['unit_not_for_channel']);
    expect(reasons('oep/c1/temperature', `{"ts":${T},"value":1}`)).toEqual(['unknown_channel']);
    expect(reasons('oep/c1/pressure', '"hello"')).toEqual(['schema']);
    expect(reasons('oep/c1/pressure', 'null')).toEqual(['schema']);
    expect(reasons('oep/c1/pressure', '')).toEqual(['invalid_json']);
  });
});

describe('canonicalReading: the one conversion of MQTT payloads and recorded files', () => {
  const discharging: CellIngestSettings = { ...CELL, currentSign: -1 };
  it('gives a file reading the same bits as the same value published over MQTT', () => {
    const cases = [
      { channel: 'pressure', value: 203.1, unit: 'kgf' },
      { channel: 'pressure', value: 14.987654321, unit: 'MPa' },
      { channel: 'current', value: -0.6512345, unit: 'mA' },
      { channel: 'voltage', value: 3.7123456789, unit: 'V' },
    ] as const;
    for (const c of cases) {
      const wire = parse(`oep/c1/${c.channel}`, JSON.stringify({ ts: T, value: c.value, unit: c.unit }), discharging).readings;
      const file = canonicalReading({ cell: 'c1', channel: c.channel, ts: T, value: c.value, unit: c.unit }, discharging);
      expect(file).toEqual(wire[0]);
      expect(Object.is(isRejection(file) ? NaN : file.value, wire[0]?.value)).toBe(true);
    }
  });

  it('keeps the cycler index on a step, rejects what the wire rejects (non-finite value, unknown or wrong unit)', () => {
    expect(canonicalReading({ cell: 'c1', channel: 'step', ts: T, value: 4, cycle: 2 }, CELL)).toEqual({
      cell: 'c1',
      channel: 'step',
      ts: T,
      value: 4,
      cycleIndex: 2,
    });
    const memo = newUnitMemo();
    const reason = (value: number, unit: string | undefined, channel: 'pressure' | 'step' = 'pressure'): string | undefined => {
      const r = canonicalReading({ cell: 'c1', channel, ts: T, value, unit }, CELL, memo);
      return isRejection(r) ? r.reason : undefined;
    };
    expect(reason(Number.NaN, 'MPa')).toBe('schema');
    expect(reason(1, 'bar')).toBe('unknown_unit');
    expect(reason(1, 'mA')).toBe('unit_not_for_channel');
    expect(reason(1, 'MPa', 'step')).toBe('unit_not_for_channel');
    // the memo follows a change of unit within one batch
    expect(reason(1, 'kPa')).toBeUndefined();
    expect(canonicalReading({ cell: 'c1', channel: 'pressure', ts: T, value: 1500, unit: 'kPa' }, CELL, memo)).toMatchObject({ value: 1.5 });
  });
});
