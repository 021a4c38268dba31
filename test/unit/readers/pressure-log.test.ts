/**
 * Load-cell pressure log reader: separators, decimal commas, units in the column name, time zero and clock offset.
 */
import { describe, expect, it } from 'vitest';
import { parsePressureLog } from '../../../src/readers/pressure-log/parser.js';
import { FORMAT_TRUTH as T } from '../../support/format-truth.js';
import { fixture, fixtureUtf8, readerError } from './support.js';

describe('load-cell pressure logs', () => {
  it('reads `;` with decimal commas, the unit from "Force (kgf)", time zero from the Start line, and a clock offset', () => {
    const log = parsePressureLog(fixture('loadcell_kgf.csv'), { fileName: 'loadcell_kgf.csv', offset_ms: 300_000 });
    expect(log.unit).toBe('kgf');
    expect(log.rows[0]).toEqual({ ts: T.loadCellTrueStartTs, value: 203, line: 7 });
    expect(log.rows[1]!.ts - log.rows[0]!.ts).toBe(10_000);
    const noOffset = parsePressureLog(fixture('loadcell_kgf.csv'), { fileName: 'loadcell_kgf.csv' });
    expect(noOffset.rows[0]!.ts).toBe(T.loadCellTrueStartTs - 300_000);
    // 0.1 kgf counts.
    for (const r of log.rows.slice(0, 500)) expect(Math.abs(r.value * 10 - Math.round(r.value * 10))).toBeLessThan(1e-9);
  });

  it('reads ISO-8601 UTC timestamps and MPa from "Stack Pressure [MPa]" next to another column', () => {
    const log = parsePressureLog(fixtureUtf8('pressure_iso_mpa.csv'), { fileName: 'pressure_iso_mpa.csv' });
    expect(log.unit).toBe('MPa');
    expect(log.rows[0]).toEqual({ ts: T.arbinStartTs + (T.arbinTimeOffset_s - 300) * 1000, value: 15, line: 2 });
  });

  it('converts kN, bar and psi to wire units; refuses an unknown unit and elapsed times without a start', () => {
    expect(parsePressureLog('Time (s),Load [kN]\n0,1.5\n', { fileName: 'p.csv', startTs: 0 })).toEqual({ rows: [{ ts: 0, value: 1500, line: 2 }], unit: 'N' });
    expect(parsePressureLog('Time (s),Pressure (bar)\n0,100\n', { fileName: 'p.csv', startTs: 0 }).rows[0]!.value).toBeCloseTo(10, 12);
    expect(parsePressureLog('Time (s),Force\n0,12\n', { fileName: 'p.csv', startTs: 0, unit: 'N' }).unit).toBe('N');
    expect(readerError(() => parsePressureLog('Time (s),Force (furlong)\n0,1\n', { fileName: 'p.csv', startTs: 0 })).message).toMatch(
      /^p\.csv:1: column 'Force \(furlong\)': expected a force or pressure unit/,
    );
    expect(readerError(() => parsePressureLog('Time (s),Force\n0,1\n', { fileName: 'p.csv', startTs: 0 })).message).toMatch(
      /expected a unit in the value column name/,
    );
    expect(readerError(() => parsePressureLog('Elapsed (s);Force (N)\n0;1\n', { fileName: 'p.csv' })).message).toMatch(
      /^p\.csv:2: column 'Elapsed \(s\)': expected a start time for elapsed times/,
    );
  });
});
