/**
 * Content-based format detection: the first lines of a file (a few tens of kB) decide, never the file
 * name (labs rename exports freely). `--format` overrides. What each format looks like is in its own
 * folder (`<format>/format.ts`); the order is the list's in `formats.ts`.
 */
import { splitCsvLine } from './common.js';
import { detectSeparator, unquote } from './fields.js';
import { READER_FORMATS, type FormatName } from './formats.js';
import { cleanLine } from './stream.js';
import { ReaderError } from './types.js';

/** Lines looked at. */
const HEAD_LINES = 120;

const expectedPhrases = READER_FORMATS.flatMap((f) => (f.detect === undefined ? [] : [f.detect.expected]));

/** What detection knows, listed in the error for a file it does not recognise. */
export const EXPECTED_FORMATS = `${expectedPhrases.slice(0, -1).join(', ')}, or ${expectedPhrases.at(-1)}; or give --format (generic takes a column mapping)`;

/** The format of a file from its first lines; a ReaderError naming the file and what was expected otherwise. */
export function detectFormat(head: string, fileName: string): FormatName {
  const lines = head
    .split('\n')
    .slice(0, HEAD_LINES)
    .map((l, i) => cleanLine(l, i + 1));
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) throw new ReaderError({ fileName, line: 1, expected: `${EXPECTED_FORMATS} (the file is empty)` });
  for (const f of READER_FORMATS) {
    if (f.detect?.head?.(lines, first) === true) return f.name;
  }
  for (const line of lines) {
    if (line.trim() === '') continue;
    const sep = detectSeparator(line);
    const cells = splitCsvLine(line, sep).map((c) => unquote(c));
    for (const f of READER_FORMATS) {
      if (f.detect?.header?.(cells, sep) === true) return f.name;
    }
  }
  throw new ReaderError({ fileName, line: first + 1, expected: EXPECTED_FORMATS, value: (lines[first] ?? '').trim() });
}
