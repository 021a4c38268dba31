/** Neware CSV: recognised by a comma-separated header with its cycle, step and cumulative-time columns. */
import { cyclerBase, defineFormat } from '../format.js';
import { createNewareParser } from './parser.js';

const HEADER_NAMES = ['Cycle Index', 'Step Index', 'Cumulative Time'];

export const newareFormat = defineFormat({
  name: 'neware',
  kind: 'cycler',
  aliases: [],
  detect: {
    header: (cells, sep) => sep === ',' && HEADER_NAMES.every((n) => cells.includes(n)),
    expected: "a Neware CSV ('Cycle Index', 'Step Index', 'Cumulative Time' columns)",
  },
  create: (o) => ({ kind: 'cycler', parser: createNewareParser(cyclerBase(o)) }),
});
