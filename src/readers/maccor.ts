/** Old import path of the Maccor reader, kept for importers outside src/readers (see `maccor/`). */
export { createMaccorParser, maccorStateKind, parseMaccorText, type MaccorCurrentSign, type MaccorTextOptions } from './maccor/parser.js';
