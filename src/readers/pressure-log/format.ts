/** Load-cell pressure logs: recognised by a header with a time and a force/pressure column and no current column. */
import { defineFormat } from '../format.js';
import { createPressureLogParser, pressureLogColumns } from './parser.js';

/** A current column in the same header means a cycler export, not a pressure log. */
const CURRENT_NAME = /current|strom|\bamps?\b|^<?i>?\s*[/([]/i;

export const pressureLogFormat = defineFormat({
  name: 'pressure',
  kind: 'pressure',
  aliases: ['load-cell', 'loadcell'],
  detect: {
    header: (cells) => {
      const p = pressureLogColumns(cells);
      return p.time >= 0 && p.value >= 0 && !cells.some((c, i) => i !== p.value && CURRENT_NAME.test(c));
    },
    expected: 'a load-cell log (a time and a force/pressure column)',
  },
  create: (o) => ({ kind: 'pressure', parser: createPressureLogParser({ ...(o.pressure ?? {}), fileName: o.fileName }) }),
});
