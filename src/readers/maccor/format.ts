/** Maccor text export: recognised by a tab-separated `Rec#` column on any of the first lines. */
import { cyclerBase, defineFormat } from '../format.js';
import { createMaccorParser } from './parser.js';

export const maccorFormat = defineFormat({
  name: 'maccor',
  kind: 'cycler',
  aliases: [],
  detect: {
    head: (lines) => lines.some((line) => line.includes('Rec#') && line.split('\t').some((c) => c.trim() === 'Rec#')),
    expected: "a Maccor export (a tab-separated 'Rec#' column)",
  },
  create: (o) => ({
    kind: 'cycler',
    parser: createMaccorParser({ ...cyclerBase(o), ...(o.maccorCurrentSign !== undefined ? { currentSign: o.maccorCurrentSign } : {}) }),
  }),
});
