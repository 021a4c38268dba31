/**
 * The daemon's own health over HTTP (bound to localhost by default, config `health.host`/`health.port`):
 *
 *   GET /healthz   200 while the process runs (liveness)
 *   GET /readyz    200 when the pipeline runs, MQTT is connected and InfluxDB (if configured) is not failing; 503 with the reasons
 *   GET /metrics   Prometheus text format (see health-metrics.ts)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HealthMetrics, readiness, type HealthSource } from './health-metrics.js';

export interface HealthServerOptions {
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  /** Also export prom-client's process metrics (CPU, memory, event-loop lag, GC). Default true. */
  readonly processMetrics?: boolean;
  /** Per-cell series: always, never, or while the lab holds at most this many cells (HealthMetricsOptions.perCellMetrics). */
  readonly perCellMetrics?: boolean | number;
}

export class HealthServer {
  private server: Server | undefined;
  /** Base URL once listening. */
  url: string | undefined;
  readonly metrics: HealthMetrics;
  private readonly started = Date.now();

  constructor(
    private readonly source: HealthSource,
    private readonly opts: HealthServerOptions,
  ) {
    this.metrics = new HealthMetrics(source, {
      processMetrics: opts.processMetrics ?? true,
      ...(opts.perCellMetrics !== undefined ? { perCellMetrics: opts.perCellMetrics } : {}),
    });
  }

  /** Listens; resolves with the base URL (with the actual port when `port` is 0). Rejects if the port is taken. */
  async start(): Promise<{ url: string }> {
    if (this.server !== undefined) throw new Error('HealthServer already started');
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${String(e)}\n`);
        else res.destroy();
      });
    });
    // Scrapers keep connections alive; never let an idle one hold stop() up.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        reject(new Error(`health server: cannot listen on ${this.opts.host}:${this.opts.port}: ${e.message}`));
      };
      server.once('error', onError);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.server = server;
    const bound = server.address();
    if (bound === null || typeof bound === 'string') throw new Error('health server: not listening on a TCP port');
    const { address, port } = bound;
    const host = address.includes(':') ? `[${address}]` : address;
    this.url = `http://${host}:${port}`;
    return { url: this.url };
  }

  /** Stops listening and closes open connections. Idempotent. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    switch (path) {
      case '/healthz':
        sendJson(res, 200, { status: 'ok', uptime_s: Math.round((Date.now() - this.started) / 1000) });
        return;
      case '/readyz': {
        const r = readiness(this.source);
        sendJson(res, r.ready ? 200 : 503, r);
        return;
      }
      case '/metrics': {
        const text = await this.metrics.text();
        send(res, 200, this.metrics.contentType, text);
        return;
      }
      default:
        send(res, 404, 'text/plain; charset=utf-8', 'not found: try /healthz, /readyz or /metrics\n');
    }
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body) + '\n');
}
