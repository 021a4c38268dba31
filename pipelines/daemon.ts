/**
 * The daemon: wires the MQTT adapter, the OEP pipeline and the sinks (InfluxDB, local files, a live
 * table), snapshots the lab for restarts, and stops in order, flushing and reporting what was lost.
 */
import type { Subscription } from 'rxjs';
import { AlertPublisher } from '../src/adapters/alert-publisher.js';
import { AlertTally } from '../src/adapters/alert-tally.js';
import { FileSink } from '../src/adapters/file-sink.js';
import { HealthServer } from '../src/adapters/health-server.js';
import { InstanceLock } from '../src/adapters/instance-lock.js';
import { InfluxSink, type SinkReport } from '../src/adapters/influx-sink.js';
import { ingestLine } from '../src/adapters/line-protocol.js';
import { errorMessage, RateLimitedLog, redactUrl, type Logger } from '../src/adapters/log.js';
import { MqttAdapter } from '../src/adapters/mqtt.js';
import { closeAll, writeAll, type Sink } from '../src/adapters/sink.js';
import { StateStore } from '../src/adapters/state-store.js';
import { Webhook } from '../src/adapters/webhook.js';
import { resolveCell, type OepConfig, type ResolvedCell } from '../src/config/schema.js';
import { Lab, type LabEvent } from '../src/domain/lab.js';
import { AdmissionControl } from './admission.js';
import { healthSourceFor, type HealthInputs } from './health.js';
import { oepPipeline } from './operators.js';

/** How often idle unknown cells are looked for, ms. */
const EVICT_SWEEP_MS = 10_000;

export interface DaemonOptions {
  readonly config: OepConfig;
  readonly log: Logger;
  readonly now?: () => number;
  /** Called with every batch of events (the demo's live table, tests). */
  readonly onEvents?: (events: readonly LabEvent[]) => void;
  /** How often idle cells are checked, ms. */
  readonly tick_ms?: number;
}

export interface StopReport {
  readonly influx?: SinkReport;
  readonly fileLines?: number;
  readonly stateSaved: boolean;
  readonly errors: string[];
  /** Every sink's report, by sink name. */
  readonly sinks: Readonly<Record<string, SinkReport>>;
}

export class Daemon implements HealthInputs {
  readonly lab: Lab;
  readonly mqtt: MqttAdapter;
  private influx: InfluxSink | undefined;
  private files: FileSink | undefined;
  /** Where every batch of events goes: the alert tally, MQTT alerts, the webhook, InfluxDB, the files. */
  private sinks: Sink[] = [];
  private readonly state: StateStore | undefined;
  private sub: Subscription | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<StopReport> | undefined;
  private health: HealthServer | undefined;
  /** Alerts raised by cell, kind and level (for /metrics). */
  readonly alertTally = new AlertTally();
  /** Failures isolated so far (a cell the lab stopped, or a batch whose processing threw). */
  cellFailures = 0;
  /** Why the pipeline stopped, once its subscription errored or completed before `stop()`; /readyz then answers 503. */
  pipelineStopped: string | undefined;
  private readonly now: () => number;
  /** Each cell's settings, resolved from the config once. */
  private readonly setupFor: (cell: string) => ResolvedCell;
  readonly rejectLog: RateLimitedLog;
  /** Which cells hold state: the edge's admission check and the eviction of idle unknown cells. */
  readonly admission: AdmissionControl;
  private evictTimer: NodeJS.Timeout | undefined;
  /** This daemon's hold on its state folder (one daemon per state folder and client id). */
  private lock: InstanceLock | undefined;

  constructor(private readonly opts: DaemonOptions) {
    const cfg = opts.config;
    this.now = opts.now ?? Date.now;
    const cache = new Map<string, ReturnType<typeof resolveCell>>();
    const resolved = (id: string): ResolvedCell => {
      let r = cache.get(id);
      if (r === undefined) cache.set(id, (r = resolveCell(cfg, id)));
      return r;
    };
    this.setupFor = resolved;
    this.lab = new Lab(resolved, undefined, { trackGaps: true });
    this.admission = new AdmissionControl(cfg, this.lab);
    this.mqtt = new MqttAdapter({
      ...cfg.mqtt,
      now: this.now,
      log: (m) => {
        opts.log.info(m);
      },
      warn: (m) => {
        opts.log.warn(m);
      },
    });
    this.state = cfg.state !== undefined ? new StateStore(cfg.state.dir) : undefined;
    this.rejectLog = new RateLimitedLog(
      (m) => {
        opts.log.warn(m);
      },
      10_000,
      this.now,
    );
  }

  async start(): Promise<void> {
    const { config: cfg, log } = this.opts;
    if (cfg.state !== undefined) this.lock = InstanceLock.acquire(cfg.state.dir, cfg.mqtt.clientId);
    if (this.state !== undefined) {
      const r = this.state.restore(this.lab);
      // the daemon ran before with this client id: the broker should still hold its session
      this.mqtt.expectSession = r.savedAt !== undefined;
      if (r.cells > 0 && r.savedAt !== undefined)
        log.info(`state: resumed ${r.cells} cells from ${this.state.path} (saved ${new Date(r.savedAt).toISOString()})`);
    }
    this.sinks = this.makeSinks();
    const events$ = oepPipeline(this.mqtt.messages$, {
      topicPrefix: cfg.mqtt.topicPrefix,
      settingsFor: (id) => this.setupFor(id).ingest,
      maxFutureSkew_ms: cfg.alignment.maxFutureSkew_ms,
      edge: this.admission.edge,
      lab: this.lab,
      tick_ms: Math.min(1_000, cfg.alignment.idleTimeout_ms),
      now: this.now,
      onReject: (cell, reason, detail) => {
        this.rejectLog.report(this.admission.logKey(cell, reason), `rejected (${cell}, ${reason}): ${detail}`);
      },
      onFailure: (cell, message) => {
        this.cellFailures++;
        log.error(`cell ${cell} failed and stops processing (its readings are counted as rejected): ${message}`);
      },
    });
    this.sub = events$.subscribe({
      next: (events) => {
        this.write(events);
      },
      error: (e: unknown) => {
        this.pipelineStopped = `failed: ${String(e)}`;
        log.error(`pipeline failed: ${String(e)}`);
      },
      complete: () => {
        if (this.stopping === undefined) this.pipelineStopped = 'the message stream ended';
      },
    });
    if (this.state !== undefined && cfg.state !== undefined) {
      this.stateTimer = setInterval(() => {
        this.checkpoint();
      }, cfg.state.interval_s * 1000);
      this.stateTimer.unref();
    }
    this.evictTimer = setInterval(() => {
      const n = this.admission.sweep(this.now());
      if (n > 0) this.rejectLog.report('evict', `edge: forgot ${n} idle cells the config does not name (${this.admission.evicted} so far)`);
    }, EVICT_SWEEP_MS);
    this.evictTimer.unref();
    if (cfg.health !== undefined) {
      this.health = new HealthServer(healthSourceFor(this), cfg.health);
      const { url } = await this.health.start();
      log.info(`health: ${url}/healthz, /readyz, /metrics`);
    }
    await this.mqtt.start();
    log.info(`oep: listening on ${redactUrl(cfg.mqtt.url)} under ${cfg.mqtt.topicPrefix}/<cell>/{pressure,current,voltage,step}`);
  }

  /** The sinks the config asks for, in the order they are closed. */
  private makeSinks(): Sink[] {
    const { config: cfg, log } = this.opts;
    const sinks: Sink[] = [this.alertTally, new AlertPublisher(this.mqtt, { topicPrefix: cfg.mqtt.topicPrefix, bookOf: (cell) => this.lab.cell(cell).alerts })];
    if (cfg.alerts.webhook !== undefined)
      sinks.push(
        new Webhook({
          ...cfg.alerts.webhook,
          onError: (m) => {
            this.rejectLog.report('webhook', m);
          },
        }),
      );
    if (cfg.influx !== undefined) {
      const i = cfg.influx;
      sinks.push(
        (this.influx = new InfluxSink({
          ...i,
          onError: (m) => {
            this.rejectLog.report('influx', m);
          },
        })),
      );
      log.info(`influx: writing to ${redactUrl(i.url)} bucket ${i.bucket}`);
    }
    if (cfg.output !== undefined) {
      sinks.push((this.files = new FileSink(cfg.output.dir)));
      log.info(`output: writing CSV and line protocol under ${cfg.output.dir}`);
    }
    return sinks;
  }

  private write(events: readonly LabEvent[]): void {
    writeAll(this.sinks, events, (sink, e) => {
      this.rejectLog.report(`sink/${sink.name}`, `sink ${sink.name} failed to take ${events.length} events: ${errorMessage(e)}`);
    });
    for (const e of events) {
      if (e.type === 'gap') {
        const g = e.gap;
        this.rejectLog.report(
          `gap/${g.cell}/${g.channel}`,
          `gap ${g.cell}/${g.channel}: no readings for ${((g.to - g.from) / 1000).toFixed(1)} s while current flowed ` +
            `(about ${g.missing} missing at ${g.interval_ms} ms; a broker queue that overflowed, the device, or the network)`,
        );
      }
      if (e.type !== 'alert') continue;
      const a = e.alert;
      if (a.level === 'ok') this.opts.log.info(`alert ${a.cell}: ${a.message}`);
      else this.opts.log.warn(`alert ${a.cell}: ${a.message}`);
    }
    this.opts.onEvents?.(events);
  }

  /** Saves the lab state and writes the per-cell counters; errors are logged, never thrown. */
  checkpoint(): void {
    try {
      const t = this.now();
      const lines = [...this.lab.cells].map(([id, c]) => ingestLine(id, c.counters, t)).filter((l): l is string => l !== undefined);
      this.influx?.writeLines(lines);
      this.files?.writeLines(lines);
      this.state?.save(this.lab, t);
    } catch (e) {
      this.opts.log.error(`checkpoint failed: ${errorMessage(e)}`);
    }
  }

  /** Idempotent: a second call returns the first call's promise. */
  stop(): Promise<StopReport> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<StopReport> {
    const errors: string[] = [];
    const step = async (name: string, f: () => Promise<void> | void): Promise<void> => {
      try {
        await f();
      } catch (e) {
        errors.push(`${name}: ${errorMessage(e)}`);
      }
    };
    let stateSaved = false;
    await step('health', () => this.health?.stop());
    await step('mqtt', () => this.mqtt.stop());
    await step('pipeline', () => this.sub?.unsubscribe());
    clearInterval(this.stateTimer);
    clearInterval(this.evictTimer);
    await step('state', () => {
      if (this.state !== undefined) {
        this.checkpoint();
        stateSaved = true;
      }
    });
    const closed = await closeAll(this.sinks);
    this.lock?.release();
    errors.push(...closed.errors);
    const webhookLost = closed.reports.webhook?.lost ?? 0;
    if (webhookLost > 0) errors.push(`webhook: ${webhookLost} alerts not delivered`);
    const influx = closed.reports.influx;
    const fileLines = closed.reports.files?.written;
    return { stateSaved, errors, sinks: closed.reports, ...(influx ? { influx } : {}), ...(fileLines !== undefined ? { fileLines } : {}) };
  }

  get influxStats(): InfluxSink['stats'] | undefined {
    return this.influx?.stats;
  }

  /** True while InfluxDB writes are failing (undefined without InfluxDB). */
  get influxFailing(): boolean | undefined {
    return this.influx?.failing;
  }

  /** Where the health server listens, once started. */
  get healthUrl(): string | undefined {
    return this.health?.url;
  }
}
