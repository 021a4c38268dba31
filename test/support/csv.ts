/** Reads oep's own CSV outputs (steps.csv, cycles.csv) back as records: numbers, or undefined for empty cells. */
import { readFileSync } from 'node:fs';
import { parseCsv, parseCsvRecords } from '../../src/adapters/csv.js';

export type CsvRecord = Record<string, number | string | undefined>;

export function readCsv(path: string): { header: string[]; rows: CsvRecord[]; lines: string[] } {
  const text = readFileSync(path, 'utf8');
  const table = parseCsv(text);
  const rows = table.rows.map((row) => {
    const r: CsvRecord = {};
    for (const [h, c] of Object.entries(row)) r[h] = c === '' ? undefined : Number.isNaN(Number(c)) ? c : Number(c);
    return r;
  });
  // The data records as written (one line each unless a field is quoted across lines), for counting and comparing.
  const lines = parseCsvRecords(text)
    .slice(1)
    .map((rec) => rec.join(','));
  return { header: [...table.columns], rows, lines };
}

export const num = (r: CsvRecord, k: string): number => {
  const v = r[k];
  if (typeof v !== 'number') throw new Error(`${k} is ${String(v)}, not a number`);
  return v;
};
