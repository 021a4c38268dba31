/**
 * Typed output of the cycler-export readers (one folder per format, `<format>/parser.ts`).
 *
 * The readers are pure functions from the export's text to rows and the cycler's own per-step
 * capacities (the "oracle"); they do no I/O. Conventions, made explicit:
 * - `ts` is epoch ms: the reader's `startTs` plus the export's elapsed test time.
 * - `current_mA` is signed, positive = charge (the cycler's own convention for both formats).
 * - Rows keep file order, including rows that share a timestamp.
 */

/** One data row of a cycler export, in canonical units. */
export interface CyclerRow {
  /** Epoch ms: `startTs` + the row's elapsed test time. */
  ts: number;
  /** Signed current in mA, + = charge. */
  current_mA: number;
  /** Cell voltage, V (absent when the export has no voltage column or the cell is empty). */
  voltage_V?: number;
  /** The cycler's step index. */
  stepIndex?: number;
  /** The cycler's cycle index. */
  cycleIndex?: number;
  /** 1-based line number in the source text. */
  line: number;
}

/** What the cycler says about one step: a maximal run of rows with equal cycle and step index. */
export interface CyclerStepOracle {
  cycleIndex: number;
  stepIndex: number;
  kind: 'charge' | 'discharge' | 'rest';
  /** The cycler's own capacity for the step (step-final counter), mAh, ≥ 0. */
  capacity_mAh: number;
  /** Step start instant as the cycler reports it, epoch ms (see each reader for the rule). */
  tStart: number;
  /** Timestamp of the step's last row that the oracle counts, epoch ms. */
  tEnd: number;
  /**
   * The cycler's own capacity counters over the step, split by direction, mAh (what `oracle.py` credits:
   * reset-aware increments of the file's counter columns). Reported beside oep's integral (`q_charge_cycler_mAh`).
   */
  qChargeCycler_mAh?: number;
  qDischargeCycler_mAh?: number;
}

/** What every reader returns. */
export interface CyclerParseResult {
  rows: CyclerRow[];
  oracle: CyclerStepOracle[];
}

export interface ReaderErrorDetails {
  /** Name of the file being read (as the caller passed it). */
  fileName: string;
  /** 1-based source line the problem is on. */
  line: number;
  /** What the reader expected, e.g. "a number", "a 'Rec#' column in the header". */
  expected: string;
  /** Column name, when the problem is in one cell. */
  column?: string;
  /** The offending text, when there is one. */
  value?: string;
}

const MAX_VALUE_CHARS = 60;

/** A malformed export. The message names the file, the line, the column and value when known, and what was expected. */
export class ReaderError extends Error {
  override readonly name = 'ReaderError';
  readonly fileName: string;
  readonly line: number;
  readonly expected: string;
  readonly column: string | undefined;
  readonly value: string | undefined;

  constructor(details: ReaderErrorDetails) {
    super(formatReaderError(details));
    this.fileName = details.fileName;
    this.line = details.line;
    this.expected = details.expected;
    this.column = details.column;
    this.value = details.value;
  }
}

function formatReaderError(d: ReaderErrorDetails): string {
  const where = `${d.fileName}:${d.line}`;
  const col = d.column === undefined ? '' : ` column '${d.column}':`;
  let got = '';
  if (d.value !== undefined) {
    const v = d.value.length > MAX_VALUE_CHARS ? `${d.value.slice(0, MAX_VALUE_CHARS)}…` : d.value;
    got = `, got ${JSON.stringify(v)}`;
  }
  return `${where}:${col} expected ${d.expected}${got}`;
}
