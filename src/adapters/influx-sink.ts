/**
 * Writes line protocol to InfluxDB (2.x/3.x `/api/v2/write`, or any server speaking it) through
 * `@influxdata/influxdb-client`'s transport: lines wait in an outbox (on disk for the daemon, see
 * outbox.ts) until the database acknowledges them, sent in batches, one at a time, retried with backoff
 * across outages; a refusal of the setup (401/403/404/413: token, URL, bucket, batch size) keeps the lines
 * waiting, logged once with its cause, tried again every {@link SETUP_RETRY_MS}; a batch whose data the server
 * refuses (other 4xx) is dropped and counted (influx-check.ts). An honest account at the end:
 * how many lines were written, how many could not be, how many wait on disk for the next start.
 */
import { HttpError, InfluxDB, setLogger, type Transport } from '@influxdata/influxdb-client';
import type { LabEvent } from '../domain/lab.js';
import { refusalCause, writeErrorKind, type InfluxTarget } from './influx-check.js';
import { batchLines } from './line-protocol.js';
import { MemoryOutbox, type Outbox } from './outbox.js';
import type { Sink, SinkReport } from './sink.js';
import { readTls } from './tls.js';

export type { SinkReport } from './sink.js';

/** Where to write (url, org, bucket, token, TLS for `https://`), and how. */
export interface InfluxSinkOptions extends InfluxTarget {
  /** Lines per write request. */
  readonly batchSize: number;
  /** Longest a line waits before it is sent, ms. */
  readonly flushInterval_ms: number;
  /** Lines kept for retry while the server is down; beyond it the oldest are dropped (and counted). */
  readonly maxBufferLines: number;
  readonly maxRetries: number;
  /** Longest a line is retried, ms (default: 30 days: a database outage over a weekend must not lose data). */
  readonly maxRetryTime_ms?: number;
  /** Also write the dP/dQ curve of each step (`oep_dpdq`; default true). */
  readonly writeCurves?: boolean;
  /** Called with a short message on each failed write attempt (rate-limit it at the caller). */
  readonly onError?: (message: string) => void;
  /**
   * Called once when the server starts refusing the setup (token, URL, bucket), with the cause and the fix,
   * and once when it takes writes again. Each is one state change: not rate-limited, not repeated.
   */
  readonly onStateChange?: (message: string) => void;
}

export const DEFAULT_MAX_RETRY_TIME_MS = 30 * 24 * 3_600_000;
export const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;
const MIN_RETRY_DELAY_MS = 500;
/** While the server refuses the setup (401/403/404/413), the waiting lines are tried again this often, ms. */
export const SETUP_RETRY_MS = 60_000;

export class InfluxSink implements Sink {
  readonly name = 'influx';
  private readonly transport: Transport;
  private readonly path: string;
  private readonly outbox: Outbox;
  private enqueued = 0;
  private succeeded = 0;
  /** Lines given up on: a batch the server refused (4xx), or one past the retry limits. The outbox's own drops are added. */
  private givenUp = 0;
  private closed = false;
  private sending: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Wakes a sender waiting out its retry delay (close). */
  private wake: (() => void) | undefined;
  /** True after a failed write until the next success: the database is unreachable, or refuses the setup. */
  failing = false;
  /** Write attempts the server refused for its setup (401/403/404/413), so far. */
  setupRefusals = 0;
  /** The cause of the current setup refusal, logged once; undefined while writes go through. */
  private refusing: string | undefined;

  /** @param outbox where lines wait for the database (default: in memory, `maxBufferLines` at most). */
  constructor(
    private readonly opts: InfluxSinkOptions,
    outbox?: Outbox,
  ) {
    // The client logs to the console; route it through our rate-limited reporting instead.
    setLogger({
      error: (message: string, err?: unknown) => opts.onError?.(`InfluxDB client: ${message}${err instanceof Error ? `: ${err.message}` : ''}`),
      warn: (message: string, err?: unknown) => opts.onError?.(`InfluxDB client: ${message}${err instanceof Error ? `: ${err.message}` : ''}`),
    });
    this.transport = new InfluxDB({ url: opts.url, token: opts.token ?? '', timeout: 30_000, transportOptions: { ...readTls(opts.tls) } }).transport;
    this.path = `/api/v2/write?${new URLSearchParams({ org: opts.org, bucket: opts.bucket, precision: 'ms' }).toString()}`;
    this.outbox = outbox ?? new MemoryOutbox(opts.maxBufferLines);
  }

  /** Queues the events' points; never blocks and never throws into the pipeline. */
  write(events: readonly LabEvent[]): void {
    this.writeLines(batchLines(events, this.opts.writeCurves ?? true));
  }

  /** Queues lines (e.g. `oep_ingest` counters); never blocks and never throws into the pipeline. */
  writeLines(lines: readonly string[]): void {
    if (this.closed || lines.length === 0) return;
    this.enqueued += lines.length;
    this.outbox.append(lines);
    if (this.outbox.pending >= this.opts.batchSize) this.send();
    else
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.send();
      }, this.opts.flushInterval_ms);
  }

  /** Makes the waiting lines durable, off the event loop (a disk outbox; the daemon's checkpoint awaits it before its commit). */
  sync(): Promise<void> {
    return this.outbox.sync();
  }

  /** Lines accepted so far, written, waiting (in the outbox), and dropped (refused, past the retry limits, or the outbox's bound). */
  get stats(): { enqueued: number; written: number; pending: number; dropped: number } {
    return { enqueued: this.enqueued, written: this.succeeded, pending: this.outbox.pending, dropped: this.givenUp + this.outbox.dropped };
  }

  /** Starts the sender if it is not running: it sends batch after batch until the outbox is empty. */
  private send(): void {
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
    });
  }

  private async drain(): Promise<void> {
    let delay = MIN_RETRY_DELAY_MS;
    let firstFailure: number | undefined;
    let attempts = 0;
    for (;;) {
      const batch = this.outbox.peek(this.opts.batchSize);
      if (batch.lines.length === 0) return;
      try {
        await this.transport.request(this.path, batch.lines.join('\n'), { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' } });
        this.outbox.ack(batch);
        this.succeeded += batch.lines.length;
        if (this.refusing !== undefined) this.opts.onStateChange?.(`influx: the server takes writes again (was: ${this.refusing})`);
        this.refusing = undefined;
        this.failing = false;
        delay = MIN_RETRY_DELAY_MS;
        firstFailure = undefined;
        attempts = 0;
      } catch (e) {
        attempts++;
        firstFailure ??= Date.now();
        const kind = writeErrorKind(e);
        if (kind === 'setup' && e instanceof HttpError) this.refused(refusalCause(e, this.opts));
        else
          this.opts.onError?.(
            `InfluxDB write of ${batch.lines.length} lines failed (attempt ${attempts}): ${e instanceof HttpError && kind === 'data' ? refusalCause(e, this.opts) : e instanceof Error ? e.message : String(e)}` +
              (kind === 'data' ? '; these lines are dropped (counted in oep_influx_points_dropped_total; output.dir keeps them in points.lp)' : ''),
          );
        if (kind === 'data' || attempts > this.opts.maxRetries || Date.now() - firstFailure > (this.opts.maxRetryTime_ms ?? DEFAULT_MAX_RETRY_TIME_MS)) {
          this.outbox.ack(batch);
          this.givenUp += batch.lines.length;
          attempts = 0;
          firstFailure = undefined;
          continue;
        }
        this.failing = true;
        if (this.closed) return;
        await this.pause(kind === 'setup' ? SETUP_RETRY_MS : delay);
        if (kind !== 'setup') delay = Math.min(delay * 2, DEFAULT_MAX_RETRY_DELAY_MS);
      }
    }
  }

  /** A setup refusal: counted every time, logged when its cause is new. */
  private refused(cause: string): void {
    this.setupRefusals++;
    if (this.refusing === cause) return;
    this.refusing = cause;
    this.opts.onStateChange?.(
      `influx: ${cause}; the ${this.outbox.pending} waiting lines are kept (none dropped) and tried again every ${SETUP_RETRY_MS / 1000} s`,
    );
  }

  /** Waits `ms`, or until close() wakes it. */
  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = undefined;
  }

  /** Resolves once the sender has tried everything waiting (sent, or failing). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.send();
    while (this.sending !== undefined && !this.failing) await this.sending;
  }

  /**
   * Sends what it can within `timeout_ms`, then stops. With a disk outbox what is not sent stays on disk
   * for the next start (not lost); in memory it is lost, and counted.
   */
  async close(timeout_ms = 10_000): Promise<SinkReport> {
    if (!this.closed) {
      this.closed = true;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout_ms)));
      try {
        await Promise.race([this.flush(), timeout]);
      } finally {
        clearTimeout(timer);
      }
      this.wake?.();
      await this.sending;
      this.outbox.close();
    }
    const kept = this.outbox instanceof MemoryOutbox ? 0 : this.outbox.pending;
    return { written: this.succeeded, lost: this.stats.dropped + (this.outbox.pending - kept), ...(kept > 0 ? { kept } : {}) };
  }
}
