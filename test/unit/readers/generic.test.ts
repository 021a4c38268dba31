/**
 * Generic CSV reader through a column mapping (mapping file, command-line options, inline).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mappingFrom } from '../../../src/commands/mapping-options.js';
import { parseGenericMapping } from '../../../src/readers/generic/mapping.js';
import { parseGenericCsv } from '../../../src/readers/generic/parser.js';
import { cycleTruth, FORMAT_TRUTH as T } from '../../support/format-truth.js';
import { fixtureUtf8, readerError, trapz } from './support.js';

describe('generic CSV with a column mapping', () => {
  const mapping = parseGenericMapping(
    {
      separator: ';',
      time: 'Zeit',
      timeFormat: 'duration',
      start: '2024-03-14T09:00:00Z',
      current: 'Strom [mA]',
      currentSign: 'discharge-positive',
      voltage: 'Spannung [V]',
      cycle: 'Zyklus',
    },
    'test',
  );

  it('skips the preamble, reads H:MM:SS,mmm times, decimal commas, and flips a discharge-positive current', () => {
    const r = parseGenericCsv(fixtureUtf8('generic_logger.csv'), { fileName: 'generic_logger.csv', mapping });
    expect(r.rows[0]).toMatchObject({ ts: T.genericStartTs, line: 4, current_mA: -0, voltage_V: 3.45, cycleIndex: 1 });
    const charging = r.rows.find((x) => x.current_mA > 0)!;
    expect(charging.current_mA).toBe(0.65);
    expect(r.oracle).toEqual([]);
    // Two cycles of the truth: total |charge| = 2 × (Q_charge + Q_discharge).
    const truth = cycleTruth(T.current_mA);
    expect(trapz(r.rows) / (2 * (truth.qCharge_mAh + truth.qDischarge_mAh))).toBeCloseTo(1, 3);
  });

  it('the same mapping from the YAML mapping file, and from command-line options, gives the same rows', () => {
    const text = fixtureUtf8('generic_logger.csv');
    const inline = parseGenericCsv(text, { fileName: 'g', mapping }).rows;
    const fromFile = mappingFrom({ mapping: fileURLToPath(new URL('../../fixtures/formats/generic_logger.mapping.yaml', import.meta.url)) })!;
    expect(parseGenericCsv(text, { fileName: 'g', mapping: fromFile }).rows).toEqual(inline);
    const fromCli = mappingFrom({
      sep: ';',
      'time-col': 'Zeit',
      'time-format': 'duration',
      'current-col': 'Strom [mA]',
      'current-sign-in-file': 'discharge-positive',
      'voltage-col': 'Spannung [V]',
      'cycle-col': 'Zyklus',
    })!;
    expect(parseGenericCsv(text, { fileName: 'g', mapping: fromCli, startTs: T.genericStartTs }).rows).toEqual(inline);
    expect(() => mappingFrom({ 'time-col': 'Zeit' })).toThrow(/current/);
  });

  it('reports a mapped column missing from the header, and a bad mapping', () => {
    const m = parseGenericMapping({ headerLine: 1, time: 't', current: 'I' }, 'test');
    expect(readerError(() => parseGenericCsv('t;V\n0;3.1\n', { fileName: 'g.csv', mapping: m })).message).toMatch(
      /^g\.csv:1: expected the mapped column 'I' in the header/,
    );
    expect(() => parseGenericMapping({ time: 't' }, 'map.yaml')).toThrow(/map\.yaml is not a valid column mapping/);
    expect(() => parseGenericMapping({ time: 't', current: 'I', currentUnit: 'kA' }, 'map.yaml')).toThrow(/currentUnit/);
  });

  it('epoch and datetime time columns', () => {
    const m = parseGenericMapping({ time: 'time', timeFormat: 'epoch-s', current: 'I (A)', currentUnit: 'A' }, 'test');
    const r = parseGenericCsv('time,I (A)\n1710406800,0.001\n1710406801.5,-0.002\n', { fileName: 'g.csv', mapping: m });
    expect(r.rows.map((x) => [x.ts, x.current_mA])).toEqual([
      [1_710_406_800_000, 1],
      [1_710_406_801_500, -2],
    ]);
    const d = parseGenericMapping({ time: 'when', timeFormat: 'datetime', current: 'mA' }, 'test');
    expect(parseGenericCsv('when\tmA\n2024-03-14T09:00:00+01:00\t1\n', { fileName: 'g.tsv', mapping: d }).rows[0]!.ts).toBe(Date.UTC(2024, 2, 14, 8));
  });
});
