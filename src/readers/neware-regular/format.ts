/** Neware regular export, three-level layout: recognised by its first two header rows. */
import { cyclerBase, defineFormat } from '../format.js';
import { createNewareRegularParser, NEWARE_REGULAR_CYCLE_HEADER, NEWARE_REGULAR_STEP_HEADER } from './parser.js';

export const newareRegularFormat = defineFormat({
  name: 'neware-regular',
  kind: 'cycler',
  aliases: ['neware3'],
  detect: {
    head: (lines, first) => (lines[first] ?? '').startsWith(NEWARE_REGULAR_CYCLE_HEADER) && (lines[first + 1] ?? '').startsWith(NEWARE_REGULAR_STEP_HEADER),
    expected: "a Neware regular export ('Cycle Index,Chg. Cap.(Ah),…' then ',Step Index,…')",
  },
  create: (o) => ({ kind: 'cycler', parser: createNewareRegularParser(cyclerBase(o)) }),
});
