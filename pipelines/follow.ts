/**
 * `oep follow`: a bridge from a cycler export that is still being written (EC-Lab appends to its .mpt
 * during a run) to MQTT. Each new row is published once, under the wire contract.
 *
 * - Only complete lines are read: a partial last line waits for its newline.
 * - Position: the byte offset after the last line whose rows have been published and acknowledged by the
 *   broker (PUBACK, QoS 1), saved atomically in the state file after every round, with the file's identity
 *   (device, inode) and the bytes just before the offset. On restart the bridge re-reads the file up to
 *   that offset without publishing (the parser's state: header, time zero, step index) and continues.
 * - Truncation or replacement (another inode, a size below the offset, or different bytes before the
 *   offset): the file is read again from its first line, and rows at or before the newest timestamp
 *   already published are skipped, so a rewritten export is not published twice.
 * - Exactly once for graceful stops (SIGINT/SIGTERM finish the round in flight and save) and restarts
 *   between rounds. A SIGKILL after the broker received a round but before the state was saved publishes
 *   that one round again on restart (at least once, never skipped; the daemon drops exact duplicates).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { basename } from 'node:path';
import type { MqttClient } from 'mqtt';
import { detectFormat } from '../src/readers/detect.js';
import { createParser, type AnyParser, type FormatName, type ReaderOptions } from '../src/readers/formats.js';
import { RowsToReadings } from '../src/readers/readings.js';
import type { PressureRow } from '../src/readers/stream.js';
import { ReaderError, type CyclerRow } from '../src/readers/types.js';
import { HEAD_BYTES, sniffEncoding, type TextEncoding } from '../src/adapters/files.js';
import { mqttClient, whenConnected } from '../src/adapters/mqtt.js';
import { checkWireTime, sleep, WindowPublisher } from '../src/adapters/mqtt-publisher.js';
import { recordedMerge, RecordedLanes, type RecordedReading } from '../src/adapters/recorded.js';

export const DEFAULT_POLL_MS = 500;
/**
 * Rows published per round (the state is saved after each round). A round repeated after a SIGKILL must
 * stay within the daemon's duplicate memory (alignment.dedupDepth, 1024 released readings per channel).
 */
export const DEFAULT_ROUND_ROWS = 500;
/** Bytes kept from just before the offset, to recognise a rewritten file. */
const TAIL_BYTES = 64;
/** Bytes read per poll at most. */
const READ_BYTES = 4 * 1024 * 1024;
export const STATE_VERSION = 1;
/** After a stop signal, how long the round in flight may still wait for the broker, ms. */
const STOP_WAIT_MS = 10_000;

export interface FollowOptions {
  readonly file: string;
  readonly cell: string;
  readonly url: string;
  readonly topicPrefix: string;
  /** Where the position is kept. */
  readonly statePath: string;
  readonly format?: FormatName | undefined;
  readonly reader?: Omit<ReaderOptions, 'fileName' | 'pressure'>;
  readonly pressure?: ReaderOptions['pressure'];
  readonly cyclerSteps?: boolean;
  readonly poll_ms?: number;
  readonly window_ms?: number;
  readonly roundRows?: number;
  readonly clientId?: string;
  readonly signal?: AbortSignal;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
}

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

export interface FollowReport {
  readonly rows: number;
  readonly messages: number;
  readonly resets: number;
  readonly skipped: number;
  readonly badRows: number;
}

export function readFollowState(path: string): FollowState | undefined {
  if (!existsSync(path)) return undefined;
  let s: FollowState;
  try {
    s = JSON.parse(readFileSync(path, 'utf8')) as FollowState;
  } catch (e) {
    throw new Error(`the follow state ${path} is not readable JSON (${(e as Error).message}); remove it to start over`);
  }
  if (s.version !== STATE_VERSION) throw new Error(`the follow state ${path} has version ${s.version}, expected ${STATE_VERSION}`);
  return s;
}

function writeFollowState(path: string, s: FollowState): void {
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

const tailBefore = (path: string, offset: number): Buffer => readBytes(path, Math.max(0, offset - TAIL_BYTES), Math.min(TAIL_BYTES, offset));


/** The file being followed: identity, parser, positions. */
interface Tracked {
  readonly dev: number;
  readonly ino: number;
  readonly format: FormatName;
  readonly encoding: TextEncoding;
  readonly reader: AnyParser;
  readonly convert: RowsToReadings;
  /** Bytes consumed by the parser, and lines. */
  readPos: number;
  readLine: number;
  /** Bytes (and lines) whose rows have all been handed out by the parser. */
  safePos: number;
  safeLine: number;
}

export class Follower {
  private client: MqttClient | undefined;
  private tracked: Tracked | undefined;
  private lastTs = -Infinity;
  private skipUpTo = -Infinity;
  private rowsTotal = 0;
  private published = 0;
  private messages = 0;
  private resets = 0;
  private skipped = 0;
  private waitingNote = '';

  constructor(private readonly o: FollowOptions) {}

  private log(level: 'info' | 'warn', m: string): void {
    this.o.log?.(level, m);
  }

  /** Follows until the signal aborts; then finishes the round in flight, saves, disconnects. */
  async run(): Promise<FollowReport> {
    const o = this.o;
    const client = mqttClient({ url: o.url, clientId: o.clientId ?? `oep-follow-${o.cell}-${process.pid}`, clean: true });
    this.client = client;
    client.on('error', (e) => this.log('warn', `mqtt: ${e.message}`));
    try {
      // The bridge may start before the broker: it keeps retrying until connected (or stopped).
      await whenConnected(client, { failOnError: false, signal: o.signal });
      const saved = readFollowState(o.statePath);
      if (saved !== undefined) {
        this.lastTs = saved.lastTs ?? -Infinity;
        this.rowsTotal = saved.rows;
      }
      let resumed = saved === undefined;
      while (o.signal?.aborted !== true) {
        const st = this.statFile();
        if (st !== undefined) {
          if (!resumed && saved !== undefined) {
            resumed = true;
            this.resume(saved, st);
          }
          await this.poll(st);
        }
        await sleep(o.poll_ms ?? DEFAULT_POLL_MS, o.signal);
      }
    } finally {
      await client.endAsync();
    }
    return { rows: this.published, messages: this.messages, resets: this.resets, skipped: this.skipped, badRows: this.badRows };
  }

  private statFile(): Stats | undefined {
    try {
      const st = statSync(this.o.file);
      this.waitingNote = '';
      return st;
    } catch {
      if (this.waitingNote === '') this.log('warn', (this.waitingNote = `follow: ${this.o.file} does not exist (yet); waiting`));
      return undefined;
    }
  }

  /** Continues from a saved position when the file is the same one, else reads it again from the start. */
  private resume(s: FollowState, st: Stats): void {
    const same = s.dev === st.dev && s.ino === st.ino && st.size >= s.offset && tailBefore(this.o.file, s.offset).equals(Buffer.from(s.tail, 'base64'));
    if (!same) {
      this.log('warn', `follow: ${this.o.file} is not the file the state describes (replaced or truncated while stopped); reading it from the start, skipping rows up to ${new Date(this.lastTs).toISOString()}`);
      this.skipUpTo = this.lastTs;
      this.resets++;
      return;
    }
    const t = this.track(st, s.format, s.encoding);
    // Re-read up to the saved offset without publishing: the parser and the step index pick up their state.
    const discard = { step: (): void => undefined, current: (): void => undefined, voltage: (): void => undefined, pressure: (): void => undefined };
    this.consume(t, readBytes(this.o.file, t.readPos, s.offset - t.readPos), (rows) => {
      if (t.reader.kind === 'cycler') t.convert.cycler(rows as CyclerRow[], discard);
    });
    this.tailAtRead = tailBefore(this.o.file, t.readPos);
    if (t.safePos !== s.offset) throw new Error(`follow: re-reading ${this.o.file} up to the saved offset ${s.offset} stopped at ${t.safePos}; remove ${this.o.statePath} to start over`);
    this.log('info', `follow: resuming ${basename(this.o.file)} at line ${t.readLine + 1} (byte ${s.offset}); ${s.rows} rows published before`);
  }

  private track(st: Stats, format: FormatName, encoding: TextEncoding): Tracked {
    const o = this.o;
    const reader = createParser(format, { ...(o.reader ?? {}), oracle: false, pressure: o.pressure ?? {}, fileName: basename(o.file) });
    const bom = encoding === 'utf8' && readBytes(o.file, 0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])) ? 3 : 0;
    const t: Tracked = { dev: st.dev, ino: st.ino, format, encoding, reader, convert: new RowsToReadings(o.cyclerSteps ?? true), readPos: bom, readLine: 0, safePos: bom, safeLine: 0 };
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
  private consume(t: Tracked, buf: Buffer, onRows: (rows: CyclerRow[] | PressureRow[], line: number, safe: boolean) => void): void {
    let s = 0;
    for (;;) {
      const nl = buf.indexOf(10, s);
      if (nl < 0) break;
      const text = buf.toString(t.encoding, s, nl);
      t.readLine++;
      const rows: (CyclerRow | PressureRow)[] = [];
      try {
        if (t.reader.kind === 'cycler') t.reader.parser.line(text, t.readLine, rows as CyclerRow[]);
        else t.reader.parser.line(text, t.readLine, rows as PressureRow[]);
      } catch (e) {
        // A bad row in a file being written is skipped (and said), the same way on every re-read; a bad header is fatal.
        if (!(e instanceof ReaderError) || !t.reader.parser.ready || rows.length > 0) throw e;
        this.badRow(e);
      }
      t.readPos += nl + 1 - s;
      const safe = t.reader.parser.held === 0;
      if (safe) {
        t.safePos = t.readPos;
        t.safeLine = t.readLine;
      }
      if (rows.length > 0 || safe) onRows(rows as CyclerRow[] | PressureRow[], t.readLine, safe);
      s = nl + 1;
    }
  }

  private badRows = 0;

  private badRow(e: ReaderError): void {
    this.badRows++;
    if (this.badRows <= 10 || this.badRows % 1000 === 0) this.log('warn', `follow: skipping a row: ${e.message}${this.badRows === 10 ? ' (further ones are counted, reported every 1000)' : ''}`);
  }

  private changed(t: Tracked, st: Stats): string | undefined {
    if (st.dev !== t.dev || st.ino !== t.ino) return 'replaced (another file at that path)';
    if (st.size < t.readPos) return `truncated (${st.size} bytes, ${t.readPos} were read)`;
    return undefined;
  }

  private async poll(st: Stats): Promise<void> {
    let t = this.tracked;
    if (t !== undefined) {
      let why = this.changed(t, st);
      if (why === undefined && t.readPos > 0 && this.tailAtRead !== undefined && !tailBefore(this.o.file, t.readPos).equals(this.tailAtRead)) why = 'rewritten (the bytes already read changed)';
      if (why !== undefined) {
        this.log('warn', `follow: ${this.o.file} was ${why}; reading it from the start, skipping rows up to ${new Date(this.lastTs).toISOString()}`);
        this.skipUpTo = this.lastTs;
        this.resets++;
        this.tracked = t = undefined;
      }
    }
    t ??= this.start(st);
    if (t === undefined || st.size <= t.readPos) return;
    const buf = readBytes(this.o.file, t.readPos, Math.min(READ_BYTES, st.size - t.readPos));
    const end = buf.lastIndexOf(10);
    if (end < 0) return; // only a partial line so far
    const roundRows = this.o.roundRows ?? DEFAULT_ROUND_ROWS;
    let batch: (CyclerRow | PressureRow)[] = [];
    let batchSafe = { pos: t.safePos, line: t.safeLine };
    const rounds: { rows: (CyclerRow | PressureRow)[]; pos: number; line: number }[] = [];
    this.consume(t, buf.subarray(0, end + 1), (rows, _line, safe) => {
      for (const r of rows) batch.push(r);
      if (safe) batchSafe = { pos: t.safePos, line: t.safeLine };
      if (safe && batch.length >= roundRows) {
        rounds.push({ rows: batch, ...batchSafe });
        batch = [];
      }
    });
    rounds.push({ rows: batch, ...batchSafe });
    this.tailAtRead = tailBefore(this.o.file, t.readPos);
    for (const r of rounds) await this.publishRound(t, r.rows, r.pos, r.line);
  }

  private tailAtRead: Buffer | undefined;

  private async publishRound(t: Tracked, rows: (CyclerRow | PressureRow)[], pos: number, line: number): Promise<void> {
    const merge = recordedMerge(1);
    const sink = new RecordedLanes(merge, this.o.cell, 0, 1);
    let n = 0;
    if (t.reader.kind === 'cycler') {
      const keep = (rows as CyclerRow[]).filter((r) => r.ts > this.skipUpTo);
      this.skipped += rows.length - keep.length;
      t.convert.cycler(keep, sink);
      n = keep.length;
    } else {
      sink.pressureUnit = t.reader.parser.unit ?? 'MPa';
      const keep = (rows as PressureRow[]).filter((r) => r.ts > this.skipUpTo);
      this.skipped += rows.length - keep.length;
      RowsToReadings.pressure(keep, sink);
      n = keep.length;
    }
    const items: RecordedReading[] = [];
    merge.drain(Infinity, items);
    for (const it of items) checkWireTime(it.ts, basename(this.o.file));
    if (items.length > 0) {
      const pub = new WindowPublisher(this.client!, { topicPrefix: this.o.topicPrefix, ...(this.o.window_ms !== undefined ? { window_ms: this.o.window_ms } : {}) });
      await this.acknowledged(pub.add(items).then(() => pub.flush()));
      this.messages += pub.messages;
      for (const it of items) if (it.ts > this.lastTs) this.lastTs = it.ts;
    }
    this.published += n;
    this.rowsTotal += n;
    if (pos !== this.savedPos) this.save(t, pos, line);
  }

  /** Waits for the broker's acknowledgements; once stopping, for at most STOP_WAIT_MS (the position then stays put). */
  private acknowledged(p: Promise<void>): Promise<void> {
    const signal = this.o.signal;
    if (signal === undefined) return p;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        timer = setTimeout(() => reject(new Error(`the broker did not acknowledge the last rows within ${STOP_WAIT_MS / 1000} s of the stop; they were not marked as published and go out again on the next start`)), STOP_WAIT_MS);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        (e: unknown) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  private savedPos = -1;

  private save(t: Tracked, pos: number, line: number): void {
    writeFollowState(this.o.statePath, {
      version: STATE_VERSION,
      file: this.o.file,
      dev: t.dev,
      ino: t.ino,
      format: t.format,
      encoding: t.encoding,
      offset: pos,
      line,
      tail: tailBefore(this.o.file, pos).toString('base64'),
      lastTs: Number.isFinite(this.lastTs) ? this.lastTs : null,
      rows: this.rowsTotal,
    });
    this.savedPos = pos;
  }
}
