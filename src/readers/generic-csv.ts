/** Old import path of the generic reader, kept for importers outside src/readers (see `generic/`). */
export {
  genericCsvMappingSchema,
  parseGenericMapping,
  TIME_FORMATS,
  type GenericCsvMapping,
  type GenericCsvMappingInput,
  type TimeFormat,
} from './generic/mapping.js';
export { createGenericCsvParser, parseGenericCsv, type GenericCsvOptions } from './generic/parser.js';
