/** PEC CSV: recognised by its header row (`Test,Cell,Rack,…`) on any of the first lines, after the metadata. */
import { cyclerBase, defineFormat } from '../format.js';
import { createPecParser, isPecHeader } from './parser.js';

export const pecFormat = defineFormat({
  name: 'pec',
  kind: 'cycler',
  aliases: [],
  detect: {
    head: (lines) => lines.some(isPecHeader),
    expected: "a PEC CSV (a 'Test,Cell,Rack,…' header after its metadata)",
  },
  create: (o) => ({ kind: 'cycler', parser: createPecParser(cyclerBase(o)) }),
});
