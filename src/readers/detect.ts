/**
 * Content-based format detection: the first lines of a file (a few tens of kB) decide, never the file
 * name (labs rename exports freely). `--format` overrides.
 */
import { splitCsvLine } from './common.js';
import { arbinColumns } from './arbin.js';
import { detectSeparator, unquote } from './fields.js';
import type { FormatName } from './formats.js';
import { pressureLogColumns } from './pressure-log.js';
import { cleanLine } from './stream.js';
import { ReaderError } from './types.js';

/** Lines looked at. */
const HEAD_LINES = 120;
const CURRENT_NAME = /current|strom|\bamps?\b|^<?i>?\s*[/([]/i;

export const EXPECTED_FORMATS =
  "an EC-Lab .mpt ('EC-Lab ASCII FILE' on line 1), a Neware CSV ('Cycle Index', 'Step Index', 'Cumulative Time' columns), " +
  "a Maccor export (a tab-separated 'Rec#' column), an Arbin CSV ('Test_Time(s)' and 'Current(A)' columns), " +
  'or a load-cell log (a time and a force/pressure column); or give --format (generic takes a column mapping)';

/** The format of a file from its first lines; a ReaderError naming the file and what was expected otherwise. */
export function detectFormat(head: string, fileName: string): FormatName {
  const lines = head.split('\n').slice(0, HEAD_LINES).map((l, i) => cleanLine(l, i + 1));
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) throw new ReaderError({ fileName, line: 1, expected: `${EXPECTED_FORMATS} (the file is empty)` });
  const l0 = lines[first]!.trim();
  if (l0.startsWith('EC-Lab ASCII FILE') || l0.startsWith('BT-Lab ASCII FILE')) return 'biologic';
  for (const line of lines) {
    if (line.includes('Rec#') && line.split('\t').some((c) => c.trim() === 'Rec#')) return 'maccor';
  }
  for (const line of lines) {
    if (line.trim() === '') continue;
    const sep = detectSeparator(line);
    const cells = splitCsvLine(line, sep).map((c) => unquote(c));
    if (sep === ',' && ['Cycle Index', 'Step Index', 'Cumulative Time'].every((n) => cells.includes(n))) return 'neware';
    if (sep === ',' && arbinColumns(cells) !== undefined) return 'arbin';
    const p = pressureLogColumns(cells);
    if (p.time >= 0 && p.value >= 0 && !cells.some((c, i) => i !== p.value && CURRENT_NAME.test(c))) return 'pressure';
  }
  throw new ReaderError({ fileName, line: first + 1, expected: EXPECTED_FORMATS, value: l0 });
}
