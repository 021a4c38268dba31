/**
 * A header-less file (a logger's CSV: elapsed seconds, current mA, voltage V, force kgf, a UTF-8 BOM, no
 * header row): the generic reader takes time, current and voltage by position (`#1`), the pressure-log reader
 * the force by position, from the same file; `oep process` reads it end to end with `--time-col '#1'` ….
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mappingFrom } from '../../../src/commands/mapping-options.js';
import { parseGenericCsv } from '../../../src/readers/generic/parser.js';
import { parsePressureLog } from '../../../src/readers/pressure-log/parser.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readerError } from './support.js';

const START = '2025-02-03T10:00:00Z';
const OEP = fileURLToPath(new URL('../../../bin/oep.js', import.meta.url));
/** Two cycles at 10 s: charge 1 mA for 1 h, rest 10 min, discharge 1 mA for 1 h, rest 10 min. */
function loggerLines(): string[] {
  const lines: string[] = [];
  let t = 0;
  let force = 50;
  for (let c = 0; c < 2; c++)
    for (const [i, s] of [
      [1, 3600],
      [0, 600],
      [-1, 3600],
      [0, 600],
    ] as const)
      for (let k = 0; k < s; k += 10, t += 10) {
        force += i * 0.05;
        lines.push(`${String(t)},${i.toFixed(3)},${(3.6 + i * 0.3 * (k / s)).toFixed(4)},${force.toFixed(2)}`);
      }
  return lines;
}
const TEXT = '\uFEFF' + loggerLines().join('\r\n') + '\r\n';

describe('columns by position (a header-less logger file)', () => {
  const mapping = mappingFrom({ 'time-col': '#1', 'current-col': '#2', 'voltage-col': '#3', 'time-format': 'seconds' })!;

  it('the generic reader takes the first line as data, not as a header', () => {
    const r = parseGenericCsv(TEXT, { fileName: 'log.csv', mapping, startTs: Date.parse(START) });
    expect(r.rows).toHaveLength(loggerLines().length);
    expect(r.rows[0]).toMatchObject({ ts: Date.parse(START), current_mA: 1, voltage_V: 3.6, line: 1 });
    expect(r.rows.at(-1)?.ts).toBe(Date.parse(START) + (2 * 8400 - 10) * 1000);
  });

  it('the pressure-log reader takes the force by position from the same file (unit given)', () => {
    const r = parsePressureLog(TEXT, { fileName: 'log.csv', timeColumn: '#1', valueColumn: '#4', unit: 'kgf', startTs: Date.parse(START) });
    expect(r.unit).toBe('kgf');
    expect(r.rows).toHaveLength(loggerLines().length);
    expect(r.rows[0]).toMatchObject({ ts: Date.parse(START), value: 50.05 });
  });

  it('a preamble before the data is skipped; a column past the end of the rows is one clear error', () => {
    const r = parseGenericCsv('logger v2\r\nserial 1234\r\n' + TEXT.slice(1), { fileName: 'log.csv', mapping, startTs: 0 });
    expect(r.rows[0]?.line).toBe(3);
    const wide = mappingFrom({ 'time-col': '#1', 'current-col': '#9' })!;
    expect(readerError(() => parseGenericCsv(TEXT, { fileName: 'log.csv', mapping: wide })).message).toMatch(
      /log\.csv.*a data line with numbers in columns #1 \(time\) and #9 \(current\)/,
    );
  });

  it('oep process reads it end to end: cycles and capacities from the positions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-bypos-'));
    const file = join(dir, 'log.csv');
    writeFileSync(file, TEXT);
    const flags = ['--time-col', '#1', '--current-col', '#2', '--voltage-col', '#3', '--start', START];
    const res = spawnSync(
      process.execPath,
      [
        OEP,
        'process',
        file,
        '--cell',
        'c',
        '--out',
        join(dir, 'out'),
        '--pressure',
        file,
        '--pressure-time-col',
        '#1',
        '--pressure-col',
        '#4',
        '--pressure-unit',
        'kgf',
        '--pressure-start',
        START,
        ...flags,
      ],
      { encoding: 'utf8' },
    );
    expect(res.stderr).not.toMatch(/error/i);
    expect(res.status).toBe(0);
    const cycles = readFileSync(join(dir, 'out', 'cycles.csv'), 'utf8')
      .trim()
      .split('\n');
    const head = cycles[0]!.split(',');
    const q = (row: string, name: string) => Number(row.split(',')[head.indexOf(name)]);
    const complete = cycles.slice(1).filter((row) => q(row, 'complete') === 1);
    expect(complete.length).toBeGreaterThanOrEqual(1);
    for (const row of complete) {
      expect(q(row, 'q_charge_mAh')).toBeCloseTo(1, 2);
      expect(q(row, 'q_discharge_mAh')).toBeCloseTo(1, 2);
      expect(Number.isFinite(q(row, 'dp_charge_MPa'))).toBe(true);
    }
  });
});
