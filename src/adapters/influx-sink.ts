/**
 * Writes line protocol to InfluxDB (2.x/3.x `/api/v2/write`, or any server speaking it) through
 * `@influxdata/influxdb-client`, with batching, retries with backoff across outages, and an honest
 * account at the end: how many lines were written and how many could not be.
 */
import { InfluxDB, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import type { LabEvent } from '../domain/lab.js';
import { eventLines } from './line-protocol.js';
import type { Sink, SinkReport } from './sink.js';
import { readTls, type TlsFiles } from './tls.js';

export type { SinkReport } from './sink.js';

export interface InfluxSinkOptions {
  readonly url: string;
  readonly org: string;
  readonly bucket: string;
  readonly token?: string | undefined;
  /** TLS for `https://` (CA, client certificate and key, rejectUnauthorized). */
  readonly tls?: TlsFiles | undefined;
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
}

export const DEFAULT_MAX_RETRY_TIME_MS = 30 * 24 * 3_600_000;
export const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;

export class InfluxSink implements Sink {
  readonly name = 'influx';
  private readonly api: WriteApi;
  private enqueued = 0;
  private succeeded = 0;
  private dropped = 0;
  private closed = false;
  /** True after a failed write until the next success: the database is unreachable. */
  failing = false;

  constructor(private readonly opts: InfluxSinkOptions) {
    // The client logs every retry to the console; route it through our rate-limited reporting instead.
    setLogger({
      error: (message: string, err?: unknown) => opts.onError?.(`InfluxDB client: ${message}${err instanceof Error ? `: ${err.message}` : ''}`),
      warn: (message: string, err?: unknown) => opts.onError?.(`InfluxDB client: ${message}${err instanceof Error ? `: ${err.message}` : ''}`),
    });
    const client = new InfluxDB({ url: opts.url, token: opts.token ?? '', timeout: 30_000, transportOptions: { ...readTls(opts.tls) } });
    this.api = client.getWriteApi(opts.org, opts.bucket, 'ms', {
      batchSize: opts.batchSize,
      flushInterval: opts.flushInterval_ms,
      maxBufferLines: opts.maxBufferLines,
      maxRetries: opts.maxRetries,
      maxRetryTime: opts.maxRetryTime_ms ?? DEFAULT_MAX_RETRY_TIME_MS,
      maxRetryDelay: DEFAULT_MAX_RETRY_DELAY_MS,
      minRetryDelay: 500,
      writeSuccess: (lines) => {
        this.succeeded += lines.length;
        this.failing = false;
      },
      writeFailed: (error, lines, attempt) => {
        this.failing = true;
        opts.onError?.(`InfluxDB write of ${lines.length} lines failed (attempt ${attempt}): ${error.message}`);
        return undefined;
      },
      writeRetrySkipped: (entry) => {
        this.dropped += entry.lines.length;
      },
    });
  }

  /** Queues the events' points; never blocks and never throws into the pipeline. */
  write(events: readonly LabEvent[]): void {
    this.writeLines(eventLines(events, this.opts.writeCurves ?? true));
  }

  /** Queues lines (e.g. `oep_ingest` counters); never blocks and never throws into the pipeline. */
  writeLines(lines: readonly string[]): void {
    if (this.closed || lines.length === 0) return;
    this.enqueued += lines.length;
    this.api.writeRecords(lines.slice());
  }

  /** Lines accepted so far, written, and waiting (batched or in retry). */
  get stats(): { enqueued: number; written: number; pending: number; dropped: number } {
    return { enqueued: this.enqueued, written: this.succeeded, pending: this.enqueued - this.succeeded - this.dropped, dropped: this.dropped };
  }

  async flush(): Promise<void> {
    await this.api.flush(true);
  }

  /**
   * Flushes what it can within `timeout_ms`, then gives up on the rest and says how much was lost.
   */
  async close(timeout_ms = 10_000): Promise<SinkReport> {
    if (this.closed) return { written: this.succeeded, lost: this.enqueued - this.succeeded };
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (resolve) =>
        (timer = setTimeout(() => {
          resolve('timeout');
        }, timeout_ms)),
    );
    // flush() sends what is buffered and what waits for a retry, but does not wait for requests the
    // client already started by itself (batch full, flush interval): wait for the count to settle.
    const settled = (async (): Promise<void> => {
      await this.api.flush(true).catch(() => undefined);
      while (this.stats.pending > 0 && !this.failing) await new Promise((r) => setTimeout(r, 50));
      if (this.stats.pending > 0) await this.api.flush(true).catch(() => undefined);
    })();
    try {
      await Promise.race([settled, timeout]);
    } finally {
      clearTimeout(timer);
    }
    this.api.dispose();
    return { written: this.succeeded, lost: this.enqueued - this.succeeded };
  }
}
