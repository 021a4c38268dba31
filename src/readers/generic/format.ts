/** Any delimited text through a column mapping: never detected (it needs the mapping), only named. */
import { cyclerBase, defineFormat } from '../format.js';
import { ReaderError } from '../types.js';
import { createGenericCsvParser } from './parser.js';

export const genericFormat = defineFormat({
  name: 'generic',
  kind: 'cycler',
  aliases: ['csv'],
  create: (o) => {
    if (o.mapping === undefined) {
      throw new ReaderError({
        fileName: o.fileName,
        line: 1,
        expected: 'a column mapping for the generic format (--time-col and --current-col, or --mapping <file>)',
      });
    }
    return { kind: 'cycler', parser: createGenericCsvParser({ ...cyclerBase(o), mapping: o.mapping }) };
  },
});
