/**
 * The column mapping of the generic reader: which column is the time (and in what form), the current (and
 * its unit and sign), and optionally the voltage, the cycler's step and cycle index. It comes from the
 * command line (`--time-col`, `--current-col`, …) or a YAML/JSON mapping file (`--mapping`) and is
 * validated once by zod. A column is named by its header (`Current(mA)`) or by its 1-based position (`#2`);
 * when the time and the current are both given by position and no `headerLine` is set, the file has no
 * header row: data starts at the first line whose time and current cells are numbers.
 */
import { z } from 'zod';

export const TIME_FORMATS = ['seconds', 'minutes', 'hours', 'ms', 'duration', 'datetime', 'epoch-s', 'epoch-ms'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

export const genericCsvMappingSchema = z.strictObject({
  /** Field separator; `auto` = the most frequent of tab, `;`, `,` on the header line. */
  separator: z.enum([',', ';', '\t', 'tab', 'auto']).default('auto'),
  /** 1-based line of the column names; default: the first line naming both the time and the current column. */
  headerLine: z.number().int().positive().optional(),
  time: z.string().min(1).describe('time column name'),
  /**
   * seconds|minutes|hours|ms: elapsed since `start`; duration: H:MM:SS[.sss] or Nd H:MM:SS elapsed since
   * `start`; datetime: wall clock (read as UTC unless it carries a zone); epoch-s|epoch-ms: Unix time.
   */
  timeFormat: z.enum(TIME_FORMATS).default('seconds'),
  /** ISO-8601 date-time of elapsed time 0 (elapsed formats only; default: epoch 0). */
  start: z.string().optional(),
  current: z.string().min(1).describe('current column name'),
  currentUnit: z.enum(['A', 'mA', 'uA']).default('mA'),
  /** The file's convention; rows come out + = charge. */
  currentSign: z.enum(['charge-positive', 'discharge-positive']).default('charge-positive'),
  voltage: z.string().min(1).optional(),
  voltageUnit: z.enum(['V', 'mV']).default('V'),
  step: z.string().min(1).optional(),
  cycle: z.string().min(1).optional(),
});

export type GenericCsvMapping = z.infer<typeof genericCsvMappingSchema>;

export type GenericCsvMappingInput = z.input<typeof genericCsvMappingSchema>;

/** Validates a mapping; a bad one is a ReaderError-free, readable message (thrown as Error). */
export function parseGenericMapping(raw: unknown, source: string): GenericCsvMapping {
  const r = genericCsvMappingSchema.safeParse(raw);
  if (!r.success) throw new Error(`${source} is not a valid column mapping:\n${z.prettifyError(r.error)}`);
  return r.data;
}
