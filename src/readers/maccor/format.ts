/** Maccor text export: recognised by a tab-separated header line starting with `Rec#` or `Rec` on any of the first lines. */
import { cyclerBase, defineFormat } from '../format.js';
import { isMaccorHeader } from './columns.js';
import { createMaccorParser } from './parser.js';

export const maccorFormat = defineFormat({
  name: 'maccor',
  kind: 'cycler',
  aliases: [],
  detect: {
    head: (lines) => lines.some((line) => line.startsWith('Rec') && isMaccorHeader(line.split('\t').map((c) => c.trim()))),
    expected: "a Maccor export (a tab-separated header starting with 'Rec#' or 'Rec', with a 'Step' column)",
  },
  create: (o) => ({
    kind: 'cycler',
    parser: createMaccorParser({ ...cyclerBase(o), ...(o.maccorCurrentSign !== undefined ? { currentSign: o.maccorCurrentSign } : {}) }),
  }),
});
