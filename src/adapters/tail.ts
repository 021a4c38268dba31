/**
 * Following a recorded file that is still being written (EC-Lab appends to its .mpt during a run): only
 * complete lines are read (a partial last line waits for its newline), in rounds whose end is a safe
 * position (every row before it handed out by the parser), with the file's identity and the bytes just
 * before the position kept so that truncation, replacement or rewriting is noticed. The position itself
 * lives in a small JSON state file written atomically. `pipelines/follow.ts` publishes the rounds.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { basename } from 'node:path';
import { detectFormat } from '../readers/detect.js';
import { createParser, type AnyParser, type FormatName, type ReaderOptions } from '../readers/formats.js';
import { RowsToReadings } from '../readers/readings.js';
import type { PressureRow } from '../readers/stream.js';
import { ReaderError, type CyclerRow } from '../readers/types.js';
import { HEAD_BYTES, sniffEncoding, type TextEncoding } from './files.js';
import { errorMessage } from './log-text.js';

/** Bytes kept from just before the offset, to recognise a rewritten file. */
const TAIL_BYTES = 64;
/** Bytes read per poll at most. */
const READ_BYTES = 4 * 1024 * 1024;
export const STATE_VERSION = 1;

export interface FollowState {
  readonly version: number;
  readonly file: string;
  readonly dev: number;
  readonly ino: number;
  readonly format: FormatName;
  readonly encoding: TextEncoding;
  /** Bytes of the file whose rows are all published. */
  readonly offset: number;
  /** Lines in those bytes. */
  readonly line: number;
  /** Base64 of the bytes just before `offset`. */
  readonly tail: string;
  /** Newest timestamp published, epoch ms. */
  readonly lastTs: number | null;
  /** Rows published, all runs. */
  readonly rows: number;
}

/** The saved position, or undefined when there is none yet. */
export function readFollowState(path: string): FollowState | undefined {
  if (!existsSync(path)) return undefined;
  let s: FollowState;
  try {
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- JSON.parse returns any: the version is checked next
    s = JSON.parse(readFileSync(path, 'utf8')) as FollowState;
  } catch (e) {
    throw new Error(`the follow state ${path} is not readable JSON (${errorMessage(e)}); remove it to start over`);
  }
  if (s.version !== STATE_VERSION) throw new Error(`the follow state ${path} has version ${s.version}, expected ${STATE_VERSION}`);
  return s;
}

/** Saves the position atomically (a temporary file, fsync, rename). */
export function writeFollowState(path: string, s: FollowState): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, JSON.stringify(s));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function readBytes(path: string, position: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, position);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** The bytes just before `offset` (at most TAIL_BYTES). */
export const tailBefore = (path: string, offset: number): Buffer => readBytes(path, Math.max(0, offset - TAIL_BYTES), Math.min(TAIL_BYTES, offset));

/** The file being followed: identity, parser, positions. */
export interface Tracked {
  readonly dev: number;
  readonly ino: number;
  readonly format: FormatName;
  readonly encoding: TextEncoding;
  readonly reader: AnyParser;
  /** Rows → readings, with the step index state that must survive between rounds. */
  readonly convert: RowsToReadings;
  /** Bytes consumed by the parser, and lines. */
  readPos: number;
  readLine: number;
  /** Bytes (and lines) whose rows have all been handed out by the parser. */
  safePos: number;
  safeLine: number;
}

/** Rows read in one round (a file gives one kind: the other list stays empty), and the safe position after them. */
export interface TailRound {
  readonly cycler: CyclerRow[];
  readonly pressure: PressureRow[];
  readonly pos: number;
  readonly line: number;
}

export interface FileTailOptions {
  readonly file: string;
  readonly format?: FormatName | undefined;
  readonly reader?: Omit<ReaderOptions, 'fileName' | 'pressure'>;
  readonly pressure?: ReaderOptions['pressure'];
  readonly cyclerSteps?: boolean;
  /** Where the position is kept (named in messages). */
  readonly statePath: string;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
}

/** What one poll found: rounds of new rows, and why the file was read again from its start, if it was. */
export interface TailPoll {
  readonly rounds: TailRound[];
  readonly reset?: string;
}

export class FileTail {
  private tracked: Tracked | undefined;
  private tailAtRead: Buffer | undefined;
  private waitingNote = '';
  /** Malformed rows skipped so far. */
  badRows = 0;

  constructor(private readonly o: FileTailOptions) {}

  private log(level: 'info' | 'warn', m: string): void {
    this.o.log?.(level, m);
  }

  /** The file being read, once its format is known. */
  get current(): Tracked | undefined {
    return this.tracked;
  }

  /** The file's status, or undefined while it does not exist (said once). */
  stat(): Stats | undefined {
    try {
      const st = statSync(this.o.file);
      this.waitingNote = '';
      return st;
    } catch {
      if (this.waitingNote === '') this.log('warn', (this.waitingNote = `follow: ${this.o.file} does not exist (yet); waiting`));
      return undefined;
    }
  }

  /**
   * Continues from a saved position when the file is the same one (re-reading it up to there without
   * handing rows out: the parser and the step index pick up their state); false when it is not.
   */
  resume(s: FollowState, st: Stats): boolean {
    const same = s.dev === st.dev && s.ino === st.ino && st.size >= s.offset && tailBefore(this.o.file, s.offset).equals(Buffer.from(s.tail, 'base64'));
    if (!same) return false;
    const t = this.track(st, s.format, s.encoding);
    const discard = { step: (): void => undefined, current: (): void => undefined, voltage: (): void => undefined, pressure: (): void => undefined };
    this.consume(t, readBytes(this.o.file, t.readPos, s.offset - t.readPos), (cycler) => {
      t.convert.cycler(cycler, discard);
    });
    this.tailAtRead = tailBefore(this.o.file, t.readPos);
    if (t.safePos !== s.offset)
      throw new Error(`follow: re-reading ${this.o.file} up to the saved offset ${s.offset} stopped at ${t.safePos}; remove ${this.o.statePath} to start over`);
    this.log('info', `follow: resuming ${basename(this.o.file)} at line ${t.readLine + 1} (byte ${s.offset}); ${s.rows} rows published before`);
    return true;
  }

  private track(st: Stats, format: FormatName, encoding: TextEncoding): Tracked {
    const o = this.o;
    const reader = createParser(format, { ...(o.reader ?? {}), oracle: false, pressure: o.pressure ?? {}, fileName: basename(o.file) });
    const bom = encoding === 'utf8' && readBytes(o.file, 0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])) ? 3 : 0;
    const t: Tracked = {
      dev: st.dev,
      ino: st.ino,
      format,
      encoding,
      reader,
      convert: new RowsToReadings(o.cyclerSteps ?? true),
      readPos: bom,
      readLine: 0,
      safePos: bom,
      safeLine: 0,
    };
    this.tracked = t;
    return t;
  }

  /** Starts on a file from its first byte: encoding and format from its head (waits while it is too short to tell). */
  private start(st: Stats): Tracked | undefined {
    const head = readBytes(this.o.file, 0, HEAD_BYTES);
    const { encoding, bom } = sniffEncoding(head, basename(this.o.file));
    let format = this.o.format;
    if (format === undefined) {
      try {
        format = detectFormat(head.toString(encoding, bom, head.lastIndexOf(10) + 1), basename(this.o.file));
      } catch (e) {
        // A file just created holds a partial header: wait for more before giving up.
        if (e instanceof ReaderError && st.size < HEAD_BYTES) return undefined;
        throw e;
      }
    }
    return this.track(st, format, encoding);
  }

  /** Feeds the complete lines of `buf` (file bytes from t.readPos) to the parser; `onRows` after each line that produced rows. */
  private consume(t: Tracked, buf: Buffer, onRows: (cycler: CyclerRow[], pressure: PressureRow[], safe: boolean) => void): void {
    let s = 0;
    for (;;) {
      const nl = buf.indexOf(10, s);
      if (nl < 0) break;
      const text = buf.toString(t.encoding, s, nl);
      t.readLine++;
      const cycler: CyclerRow[] = [];
      const pressure: PressureRow[] = [];
      try {
        if (t.reader.kind === 'cycler') t.reader.parser.line(text, t.readLine, cycler);
        else t.reader.parser.line(text, t.readLine, pressure);
      } catch (e) {
        // A bad row in a file being written is skipped (and said), the same way on every re-read; a bad header is fatal.
        if (!(e instanceof ReaderError) || !t.reader.parser.ready || cycler.length + pressure.length > 0) throw e;
        this.badRow(e);
      }
      t.readPos += nl + 1 - s;
      const safe = t.reader.parser.held === 0;
      if (safe) {
        t.safePos = t.readPos;
        t.safeLine = t.readLine;
      }
      if (cycler.length + pressure.length > 0 || safe) onRows(cycler, pressure, safe);
      s = nl + 1;
    }
  }

  private badRow(e: ReaderError): void {
    this.badRows++;
    if (this.badRows <= 10 || this.badRows % 1000 === 0)
      this.log('warn', `follow: skipping a row: ${e.message}${this.badRows === 10 ? ' (further ones are counted, reported every 1000)' : ''}`);
  }

  private changed(t: Tracked, st: Stats): string | undefined {
    if (st.dev !== t.dev || st.ino !== t.ino) return 'replaced (another file at that path)';
    if (st.size < t.readPos) return `truncated (${st.size} bytes, ${t.readPos} were read)`;
    return undefined;
  }

  /**
   * Reads the complete lines added since the last poll, in rounds of at least `roundRows` rows ending at
   * a safe position. A file that was replaced, truncated or rewritten is read again from its start (`reset`).
   */
  poll(st: Stats, roundRows: number): TailPoll {
    let t = this.tracked;
    let reset: string | undefined;
    if (t !== undefined) {
      reset = this.changed(t, st);
      if (reset === undefined && t.readPos > 0 && this.tailAtRead !== undefined && !tailBefore(this.o.file, t.readPos).equals(this.tailAtRead))
        reset = 'rewritten (the bytes already read changed)';
      if (reset !== undefined) this.tracked = t = undefined;
    }
    const r = reset !== undefined ? { reset } : {};
    t ??= this.start(st);
    if (t === undefined || st.size <= t.readPos) return { rounds: [], ...r };
    const buf = readBytes(this.o.file, t.readPos, Math.min(READ_BYTES, st.size - t.readPos));
    const end = buf.lastIndexOf(10);
    if (end < 0) return { rounds: [], ...r }; // only a partial line so far
    const tracked = t;
    let batch = { cycler: new Array<CyclerRow>(), pressure: new Array<PressureRow>() };
    let batchSafe = { pos: tracked.safePos, line: tracked.safeLine };
    const rounds: TailRound[] = [];
    this.consume(tracked, buf.subarray(0, end + 1), (cycler, pressure, safe) => {
      for (const row of cycler) batch.cycler.push(row);
      for (const row of pressure) batch.pressure.push(row);
      if (safe) batchSafe = { pos: tracked.safePos, line: tracked.safeLine };
      if (safe && batch.cycler.length + batch.pressure.length >= roundRows) {
        rounds.push({ ...batch, ...batchSafe });
        batch = { cycler: [], pressure: [] };
      }
    });
    rounds.push({ ...batch, ...batchSafe });
    this.tailAtRead = tailBefore(this.o.file, tracked.readPos);
    return { rounds, ...r };
  }
}
