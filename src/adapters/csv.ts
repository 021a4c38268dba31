/**
 * The one CSV codec of oep's own output files (RFC 4180: comma separated, `"` quoting with `""` escapes,
 * quoted fields may hold commas, CR and LF; CRLF or LF line ends). The file sink writes with `csvField`;
 * the report and the tests read with `parseCsv`. Rows are keyed by the header's column names, so columns
 * added by a later version do not break older reports, and a repeated header line (two runs appended to
 * one file by different versions) is skipped.
 */

/** One field, quoted when it holds a comma, a quote, CR or LF (a cell id or an alert message may). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/** Splits CSV text into records of fields. */
export function parseCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let i = 0;
  const n = text.length;
  const endField = (): void => {
    record.push(field);
    field = '';
  };
  const endRecord = (): void => {
    endField();
    if (!(record.length === 1 && record[0] === '')) records.push(record);
    record = [];
  };
  while (i < n) {
    const ch = text.charAt(i);
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === ',') {
      endField();
    } else if (ch === '\n') {
      endRecord();
    } else if (ch === '\r') {
      if (text[i + 1] === '\n') i++;
      endRecord();
    } else {
      field += ch;
    }
    i++;
  }
  if (field !== '' || record.length > 0) endRecord();
  return records;
}

export interface CsvTable {
  readonly columns: readonly string[];
  readonly rows: readonly Readonly<Record<string, string>>[];
}

/** Parses CSV text with a header line into rows keyed by column name (missing trailing fields are ''). */
export function parseCsv(text: string): CsvTable {
  const records = parseCsvRecords(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const header = records[0];
  if (header === undefined) return { columns: [], rows: [] };
  const columns = header.map((c) => c.trim());
  const headerLine = columns.join(',');
  const rows: Record<string, string>[] = [];
  for (const rec of records.slice(1)) {
    if (rec.map((c) => c.trim()).join(',') === headerLine) continue;
    const row: Record<string, string> = {};
    columns.forEach((c, k) => (row[c] = rec[k] ?? ''));
    rows.push(row);
  }
  return { columns, rows };
}

/** A number from a CSV field, or undefined when empty or not a finite number. */
export function csvNumber(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = v.trim();
  if (s === '') return undefined;
  const x = Number(s);
  return Number.isFinite(x) ? x : undefined;
}
