/** BioLogic EC-Lab / BT-Lab `.mpt`: recognised by its magic first line. */
import { cyclerBase, defineFormat } from '../format.js';
import { BIOLOGIC_MAGIC, createBiologicParser } from './parser.js';

export const biologicFormat = defineFormat({
  name: 'biologic',
  kind: 'cycler',
  aliases: ['mpt', 'eclab', 'ec-lab'],
  detect: {
    head: (lines, first) => BIOLOGIC_MAGIC.some((m) => (lines[first] ?? '').trim().startsWith(m)),
    expected: "an EC-Lab .mpt ('EC-Lab ASCII FILE' on line 1)",
  },
  create: (o) => ({ kind: 'cycler', parser: createBiologicParser({ ...cyclerBase(o), ...(o.oracle === false ? { oracle: false } : {}) }) }),
});
