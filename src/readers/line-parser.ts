/**
 * The line loop every format shares, so that a format says only what is its own: which line is its header
 * (and what the header's columns are), which data line is blank, and how one data line becomes rows.
 *
 * The loop: each line is cleaned (trailing `\r`, a byte-order mark on line 1); until the header is found,
 * every line goes to the format's `header` (preamble lines give `undefined`); after it, blank lines are
 * skipped and the others go to `row`. The input ending before the header is a ReaderError naming the
 * file and the last line. A line that throws leaves the parser as it was before that line (`ready` tells
 * a follower whether the header was read).
 */
import { isBlankLine } from './common.js';
import { cleanLine, parseAll, type CyclerRowParser, type RowParser } from './stream.js';
import { ReaderError, type CyclerParseResult, type CyclerRow, type CyclerStepOracle } from './types.js';

/**
 * How a format's text is laid out, what the loop needs before any row: which line is the header, which
 * data lines are blank, and what was expected when the input ends before the header.
 */
export interface LineLayout<C> {
  /** A line before the header: its columns when it is the header, `undefined` for a preamble or blank line; may throw. */
  header(text: string, line: number, fileName: string): C | undefined;
  /** Data lines skipped as blank: made only of spaces, tabs and this separator, or (`trim`) only of white space. */
  readonly blank: ',' | '\t' | 'trim';
  /** What was expected when the input ended before the header. */
  readonly noHeader: string | (() => string);
  /** The line `header` recognised is also the first data line (a header-less file: columns by position). */
  readonly headerIsData?: boolean;
}

/** What one format does with the data lines of one file. */
export interface LineRows<C, R> {
  /** One data line (cleaned, not blank): appends the rows it completes to `out`. */
  row(text: string, line: number, cols: C, out: R[]): void;
  /**
   * The same data line as ASCII bytes buf[start, end) (without its end of line), when the format can read
   * it without making a string: true when it did (rows appended), false to have the line read as text
   * (then nothing was changed). Optional: a format without it reads every line as text.
   */
  rowBytes?(buf: Uint8Array, start: number, end: number, line: number, cols: C, out: R[]): boolean;
  /** End of input, the header read: release held rows, close the open step. May be called twice. */
  finish?(out: R[]): void;
  /** Rows parsed but not yet appended (see `RowParser.held`); 0 when absent. */
  held?(): number;
}

/** The shared loop over one file of one format (see the module comment). */
export class LineParser<C, R> implements RowParser<R> {
  private cols: C | undefined = undefined;
  private lastLine = 0;
  private readonly blank: (text: string) => boolean;
  /** Present when the format reads data lines from bytes (`LineRows.rowBytes`). */
  readonly bytes?: (buf: Uint8Array, start: number, end: number, line: number, out: R[]) => boolean;

  constructor(
    private readonly layout: LineLayout<C>,
    private readonly fileName: string,
    private readonly rows: LineRows<C, R>,
  ) {
    if (rows.rowBytes !== undefined) this.bytes = (buf, start, end, line, out) => this.rowFromBytes(buf, start, end, line, out);
    const sep = layout.blank;
    // A line that starts with a printable ASCII character that is not the separator is not blank: the
    // common case decided without trimming (which copies a row that ends in a tab, as EC-Lab's do).
    const printable = (c: number): boolean => c > 32 && c < 127 && c !== 44;
    this.blank =
      sep === 'trim' ? (text) => !printable(text.charCodeAt(0)) && text.trim() === '' : (text) => !printable(text.charCodeAt(0)) && isBlankLine(text, sep);
  }

  /** The header's columns, once read. */
  protected get columns(): C | undefined {
    return this.cols;
  }

  get ready(): boolean {
    return this.cols !== undefined;
  }

  get held(): number {
    return this.rows.held === undefined ? 0 : this.rows.held();
  }

  line(raw: string, line: number, out: R[]): void {
    this.lastLine = line;
    const text = cleanLine(raw, line);
    const cols = this.cols;
    if (cols === undefined) {
      const found = this.layout.header(text, line, this.fileName);
      if (found !== undefined && this.layout.headerIsData === true) this.rows.row(text, line, found, out);
      this.cols = found;
    } else if (!this.blank(text)) this.rows.row(text, line, cols, out);
  }

  /** A line as bytes (see `RowParser.bytes`): only data lines that start with a printable character, the rest as text. */
  private rowFromBytes(buf: Uint8Array, start: number, end: number, line: number, out: R[]): boolean {
    const cols = this.cols;
    if (cols === undefined || this.rows.rowBytes === undefined) return false;
    const first = buf[start] ?? 0;
    if (!(first > 32 && first < 127 && first !== 44)) return false;
    const e = end > start && buf[end - 1] === 13 ? end - 1 : end;
    if (!this.rows.rowBytes(buf, start, e, line, cols, out)) return false;
    this.lastLine = line;
    return true;
  }

  end(out: R[]): void {
    if (this.cols === undefined) {
      const { noHeader } = this.layout;
      throw new ReaderError({ fileName: this.fileName, line: Math.max(1, this.lastLine), expected: typeof noHeader === 'string' ? noHeader : noHeader() });
    }
    this.rows.finish?.(out);
  }
}

/** A cycler export's rows: the loop's part plus the oracle it fills and the time zero it settles on. */
export interface CyclerLineRows<C> extends LineRows<C, CyclerRow> {
  /** The cycler's per-step capacities, filled as rows are read (empty when the export carries none). */
  readonly oracle: CyclerStepOracle[];
  /** Epoch ms of the export's time zero, once known. */
  startTs(): number | undefined;
  /** What the current column holds (see `CyclerRowParser.currentSampling`); absent: instantaneous. */
  currentSampling?(): 'instantaneous' | 'interval-average' | undefined;
}

/** The shared loop for a cycler export. */
export class CyclerLineParser<C> extends LineParser<C, CyclerRow> implements CyclerRowParser {
  readonly oracle: CyclerStepOracle[];
  private readonly timeZero: () => number | undefined;
  private readonly sampling: () => 'instantaneous' | 'interval-average' | undefined;

  constructor(layout: LineLayout<C>, fileName: string, rows: CyclerLineRows<C>) {
    super(layout, fileName, rows);
    this.oracle = rows.oracle;
    this.timeZero = () => rows.startTs();
    this.sampling = () => rows.currentSampling?.();
  }

  get startTs(): number | undefined {
    return this.timeZero();
  }

  get currentSampling(): 'instantaneous' | 'interval-average' | undefined {
    return this.sampling();
  }
}

/** Feeds every line of `text` to a cycler parser: its rows and its oracle (what each format's `parse…(text)` returns). */
export function parseCyclerText(parser: CyclerRowParser, text: string): CyclerParseResult {
  const rows = parseAll(parser, text);
  return { rows, oracle: parser.oracle };
}
