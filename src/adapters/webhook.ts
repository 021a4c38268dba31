/**
 * Alert webhook: generic JSON (the alert event) or Slack-compatible (`{"text": …}`), posted with
 * retries and exponential backoff. Never blocks the pipeline: `send` queues and returns; the queue is
 * bounded (the oldest are dropped and counted when a dead endpoint lets it fill up).
 */
import type { AlertEvent } from '../domain/alerts/incidents.js';
import type { LabEvent } from '../domain/lab.js';
import { errorMessage } from './log-text.js';
import type { Sink, SinkReport } from './sink.js';

export interface WebhookOptions {
  readonly url: string;
  readonly format: 'json' | 'slack';
  readonly timeout_ms: number;
  readonly retries: number;
  readonly levels: readonly string[];
  readonly onError?: (message: string) => void;
}

export const WEBHOOK_QUEUE_MAX = 1_000;
export const WEBHOOK_BACKOFF_MS = 1_000;

export function webhookBody(a: AlertEvent, format: 'json' | 'slack'): string {
  if (format === 'slack') {
    const icon = a.level === 'critical' ? ':rotating_light:' : a.level === 'warning' ? ':warning:' : ':white_check_mark:';
    return JSON.stringify({ text: `${icon} oep ${a.cell}: ${a.message} (${new Date(a.t).toISOString()}, cycle ${String(a.cycle)})` });
  }
  return JSON.stringify({ ...a, time: new Date(a.t).toISOString() });
}

export class Webhook implements Sink {
  readonly name = 'webhook';
  private readonly queue: AlertEvent[] = [];
  private running = false;
  private stopped = false;
  sent = 0;
  failed = 0;
  dropped = 0;

  constructor(private readonly opts: WebhookOptions) {}

  /** Queues the alert events of the batch (at the configured levels). */
  write(events: readonly LabEvent[]): void {
    for (const e of events) if (e.type === 'alert') this.send(e.alert);
  }

  send(a: AlertEvent): void {
    // One post per incident event (open, escalate, resolve); nothing during a maintenance silence.
    if (this.stopped || a.silenced || !this.opts.levels.includes(a.level)) return;
    if (this.queue.length >= WEBHOOK_QUEUE_MAX) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(a);
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    for (let a = this.queue[0]; a !== undefined && !this.stopped; a = this.queue[0]) {
      let ok = false;
      // stop() may set `stopped` while an attempt waits.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      for (let attempt = 0; attempt <= this.opts.retries && !this.stopped; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, WEBHOOK_BACKOFF_MS * 2 ** (attempt - 1)));
        try {
          const res = await fetch(this.opts.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: webhookBody(a, this.opts.format),
            signal: AbortSignal.timeout(this.opts.timeout_ms),
          });
          if (res.ok) {
            ok = true;
            break;
          }
          this.opts.onError?.(`webhook: HTTP ${res.status} for ${a.cell}/${a.kind}`);
          if (res.status >= 400 && res.status < 500 && res.status !== 429) break;
        } catch (e) {
          this.opts.onError?.(`webhook: ${errorMessage(e)}`);
        }
      }
      this.queue.shift();
      if (ok) this.sent++;
      else this.failed++;
    }
    this.running = false;
  }

  /** Waits up to `timeout_ms` for the queue to drain. */
  async flush(timeout_ms = 5_000): Promise<void> {
    const end = Date.now() + timeout_ms;
    while ((this.running || this.queue.length > 0) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  }

  /** Waits up to `timeout_ms` for the queue to drain; returns how many alerts were not delivered. */
  async stop(timeout_ms = 5_000): Promise<number> {
    await this.flush(timeout_ms);
    this.stopped = true;
    return this.queue.length + this.failed + this.dropped;
  }

  async close(timeout_ms = 5_000): Promise<SinkReport> {
    const lost = await this.stop(timeout_ms);
    return { written: this.sent, lost };
  }
}
