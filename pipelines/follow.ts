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
import { basename } from 'node:path';
import type { MqttClient } from 'mqtt';
import { mqttClient, whenConnected } from '../src/adapters/mqtt-client.js';
import { checkWireTime, sleep, WindowPublisher } from '../src/adapters/mqtt-publisher.js';
import { recordedMerge, RecordedLanes, type RecordedReading } from '../src/adapters/recorded.js';
import { FileTail, readFollowState, STATE_VERSION, tailBefore, writeFollowState, type TailRound, type Tracked } from '../src/adapters/tail.js';
import type { FormatName, ReaderOptions } from '../src/readers/formats.js';
import { RowsToReadings } from '../src/readers/readings.js';

export { readFollowState, STATE_VERSION, type FollowState } from '../src/adapters/tail.js';

export const DEFAULT_POLL_MS = 500;
/**
 * Rows published per round (the state is saved after each round). A round repeated after a SIGKILL must
 * stay within the daemon's duplicate memory (alignment.dedupDepth, 1024 released readings per channel).
 */
export const DEFAULT_ROUND_ROWS = 500;
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

export interface FollowReport {
  readonly rows: number;
  readonly messages: number;
  readonly resets: number;
  readonly skipped: number;
  readonly badRows: number;
}

/** The bridge: a {@link FileTail} of the export, each round of rows published through the one MQTT client factory and publisher. */
export class Follower {
  private client: MqttClient | undefined;
  private readonly tail: FileTail;
  private lastTs = -Infinity;
  private skipUpTo = -Infinity;
  private rowsTotal = 0;
  private published = 0;
  private messages = 0;
  private resets = 0;
  private skipped = 0;

  constructor(private readonly o: FollowOptions) {
    this.tail = new FileTail(o);
  }

  private log(level: 'info' | 'warn', m: string): void {
    this.o.log?.(level, m);
  }

  /** Follows until the signal aborts; then finishes the round in flight, saves, disconnects. */
  async run(): Promise<FollowReport> {
    const o = this.o;
    const client = mqttClient({ url: o.url, clientId: o.clientId ?? `oep-follow-${o.cell}-${process.pid}`, clean: true });
    this.client = client;
    client.on('error', (e) => {
      this.log('warn', `mqtt: ${e.message}`);
    });
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
        const st = this.tail.stat();
        if (st !== undefined) {
          if (!resumed && saved !== undefined) {
            resumed = true;
            if (!this.tail.resume(saved, st)) this.reset('is not the file the state describes (replaced or truncated while stopped)');
          }
          const polled = this.tail.poll(st, o.roundRows ?? DEFAULT_ROUND_ROWS);
          if (polled.reset !== undefined) this.reset(`was ${polled.reset}`);
          const t = this.tail.current;
          if (t !== undefined) for (const r of polled.rounds) await this.publishRound(t, r);
        }
        await sleep(o.poll_ms ?? DEFAULT_POLL_MS, o.signal);
      }
    } finally {
      await client.endAsync();
    }
    return { rows: this.published, messages: this.messages, resets: this.resets, skipped: this.skipped, badRows: this.tail.badRows };
  }

  /** The file is read again from its start: rows up to the newest already published are skipped. */
  private reset(why: string): void {
    this.log('warn', `follow: ${this.o.file} ${why}; reading it from the start, skipping rows up to ${new Date(this.lastTs).toISOString()}`);
    this.skipUpTo = this.lastTs;
    this.resets++;
  }

  private async publishRound(t: Tracked, { cycler, pressure, pos, line }: TailRound): Promise<void> {
    const merge = recordedMerge(1);
    const sink = new RecordedLanes(merge, this.o.cell, 0, 1);
    // Rows of a file read again after a reset are skipped up to the newest already published.
    const keepCycler = cycler.filter((r) => r.ts > this.skipUpTo);
    const keepPressure = pressure.filter((r) => r.ts > this.skipUpTo);
    const n = keepCycler.length + keepPressure.length;
    this.skipped += cycler.length + pressure.length - n;
    t.convert.cycler(keepCycler, sink);
    if (t.reader.kind === 'pressure') sink.pressureUnit = t.reader.parser.unit ?? 'MPa';
    RowsToReadings.pressure(keepPressure, sink);
    const items: RecordedReading[] = [];
    merge.drain(Infinity, items);
    for (const it of items) checkWireTime(it.ts, basename(this.o.file));
    const client = this.client;
    if (items.length > 0 && client !== undefined) {
      const pub = new WindowPublisher(client, { topicPrefix: this.o.topicPrefix, ...(this.o.window_ms !== undefined ? { window_ms: this.o.window_ms } : {}) });
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
        timer = setTimeout(() => {
          reject(
            new Error(
              `the broker did not acknowledge the last rows within ${STOP_WAIT_MS / 1000} s of the stop; they were not marked as published and go out again on the next start`,
            ),
          );
        }, STOP_WAIT_MS);
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
