/** The one CSV codec: what the file sink writes, the report and the tests read back unchanged. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField, parseCsvRecords } from '../../src/adapters/csv.js';

describe('csv codec', () => {
  it('quotes a field with a comma, a quote, CR or LF, and leaves a plain one alone', () => {
    expect(csvField('cell-01')).toBe('cell-01');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\rbreak')).toBe('"line\rbreak"');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
  });

  it('round-trips any fields, whatever they hold', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ unit: 'binary' }), { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 5 }), (rows) => {
        const text = rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
        expect(parseCsvRecords(text)).toEqual(rows);
      }),
    );
  });
});
