/** Old import path of the Neware reader, kept for importers outside src/readers (see `neware/`). */
export { createNewareParser, newareStepKind, parseNewareCsv, type NewareCsvOptions } from './neware/parser.js';
