/** Reads oep's own CSV outputs (steps.csv, cycles.csv) back as records: numbers, or undefined for empty cells. */
import { readFileSync } from 'node:fs';

export type CsvRecord = Record<string, number | string | undefined>;

export function readCsv(path: string): { header: string[]; rows: CsvRecord[]; lines: string[] } {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const header = lines[0]!.split(',');
  const rows = lines.slice(1).map((l) => {
    const cells = l.split(',');
    const r: CsvRecord = {};
    header.forEach((h, i) => {
      const c = cells[i] ?? '';
      r[h] = c === '' ? undefined : Number.isNaN(Number(c)) ? c : Number(c);
    });
    return r;
  });
  return { header, rows, lines: lines.slice(1) };
}

export const num = (r: CsvRecord, k: string): number => {
  const v = r[k];
  if (typeof v !== 'number') throw new Error(`${k} is ${String(v)}, not a number`);
  return v;
};
