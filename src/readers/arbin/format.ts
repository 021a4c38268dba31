/** Arbin CSV: recognised by a comma-separated header with a test-time and a current column. */
import { cyclerBase, defineFormat } from '../format.js';
import { arbinColumns, createArbinParser } from './parser.js';

export const arbinFormat = defineFormat({
  name: 'arbin',
  kind: 'cycler',
  aliases: [],
  detect: {
    header: (cells, sep) => sep === ',' && arbinColumns(cells) !== undefined,
    expected: "an Arbin CSV ('Test_Time(s)' and 'Current(A)' columns)",
  },
  create: (o) => ({ kind: 'cycler', parser: createArbinParser(cyclerBase(o)) }),
});
