/**
 * The daemon: wires the MQTT adapter, the OEP pipeline and the sinks (InfluxDB, local files, a live
 * table), and starts and stops them in order, flushing and reporting what was lost. The sinks are made in
 * daemon-sinks.ts; what survives a restart (restore, journal, checkpoints) is checkpoints.ts.
 */
import { filter, merge, Subject, type Subscription } from 'rxjs';
import { AlertTally } from '../src/adapters/alert-tally.js';
import type { FileSink } from '../src/adapters/file-sink.js';
import { HealthServer } from '../src/adapters/health-server.js';
import type { CheckpointHealth } from '../src/adapters/health-source.js';
import { InstanceLock } from '../src/adapters/instance-lock.js';
import type { InfluxSink, SinkReport } from '../src/adapters/influx-sink.js';
import type { Logger } from '../src/adapters/log.js';
import { errorMessage, RateLimitedLog, redactUrl } from '../src/adapters/log-text.js';
import type { Journal } from '../src/adapters/journal.js';
import { MqttAdapter, type RawMessage } from '../src/adapters/mqtt.js';
import { closeAll, type Sink } from '../src/adapters/sink.js';
import type { CheckpointReport } from '../src/adapters/state-store.js';
import { type OepConfig } from '../src/config/schema.js';
import { resolveCell, type ResolvedCell } from '../src/config/cell-setup.js';
import { ALL_CELLS, Lab, type LabEvent } from '../src/domain/lab.js';
import { controlSubscriptions, isControlTopic, parseSilence } from '../src/ingest/control.js';
import { ActivityLog } from './activity-log.js';
import { AdmissionControl } from './admission.js';
import { Checkpoints } from './checkpoints.js';
import { makeSinks, writeEvents } from './daemon-sinks.js';
import { healthSourceFor, type HealthInputs } from './health.js';
import { oepPipeline } from './operators.js';
import { settingsSharer } from './shared-settings.js';

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
  /** The broker unreachable at start: keep trying with backoff (`oep run`), or (default) fail `start()`. */
  readonly waitForBroker?: boolean;
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
  /** The state restored at start, the journal, the checkpoints. */
  private readonly checkpoints: Checkpoints;
  /** Journaled messages replayed into the lab at start (those after the last checkpoint). */
  private readonly replay$ = new Subject<RawMessage>();
  private sub: Subscription | undefined;
  private control: Subscription | undefined;
  private stopping: Promise<StopReport> | undefined;
  private health: HealthServer | undefined;
  /** Alerts raised by cell, kind and level (for /metrics). */
  readonly alertTally = new AlertTally();
  /** Failures isolated so far (a cell the lab stopped, or a batch whose processing threw). */
  cellFailures = 0;
  /** Why the pipeline stopped, once its subscription errored or completed before `stop()`; /readyz then answers 503. */
  pipelineStopped: string | undefined;
  private readonly now: () => number;
  readonly rejectLog: RateLimitedLog;
  /**
   * Which cells hold state: the edge's admission check and the eviction of idle unknown cells; each cell's
   * settings (resolved from the config once) and state, found by one lookup a message.
   */
  readonly admission: AdmissionControl;
  private evictTimer: NodeJS.Timeout | undefined;
  /** New cells, closed cycles (or their summary) at INFO. */
  private readonly activity: ActivityLog;
  /** True while the state is put back (its cells are not new). */
  private restoring = false;
  /** This daemon's hold on its state folder (one daemon per state folder and client id). */
  private lock: InstanceLock | undefined;

  constructor(private readonly opts: DaemonOptions) {
    const cfg = opts.config;
    this.now = opts.now ?? Date.now;
    const shared = settingsSharer();
    this.activity = new ActivityLog(opts.log, this.now);
    // The lab asks a cell's settings once, when it first sees the cell (or restores it): the moment to say so.
    const announced = (id: string): ResolvedCell => {
      const r = this.admission.entry(id).setup;
      this.activity.cell(r, this.restoring);
      return r;
    };
    this.lab = new Lab(announced, undefined, {
      trackGaps: true,
      onCell: (id, c) => {
        this.admission.placed(id, c);
      },
    });
    this.checkpoints = new Checkpoints({
      state: cfg.state,
      lab: this.lab,
      log: opts.log,
      now: this.now,
      outputs: () => ({ influx: this.influx, files: this.files }),
      stopping: () => this.stopping !== undefined,
    });
    this.admission = new AdmissionControl(cfg, this.lab, (id) => shared(resolveCell(cfg, id)));
    this.mqtt = new MqttAdapter({
      ...cfg.mqtt,
      controlTopics: controlSubscriptions(cfg.mqtt.topicPrefix),
      failFast: opts.waitForBroker !== true,
      now: this.now,
      log: (m) => {
        opts.log.info(m);
      },
      ...(this.journal !== undefined
        ? { beforeDelivery: (m: RawMessage) => this.checkpoints.journaled(m), holdAck: (send: () => void) => this.journal?.whenDurable(send) }
        : {}),
      warn: (m) => {
        opts.log.warn(m);
      },
    });
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
    this.restoring = true;
    const restored = this.checkpoints.restore();
    this.restoring = false;
    // the daemon ran before with this client id: the broker should still hold its session
    this.mqtt.expectSession = restored !== undefined;
    if (restored !== undefined && restored.cells > 0)
      log.info(`state: resumed ${restored.cells} cells from ${this.checkpoints.path ?? ''} (saved ${new Date(restored.savedAt).toISOString()})`);
    this.lab.resumeAt(this.now());
    const made = makeSinks({
      config: cfg,
      log,
      lab: this.lab,
      mqtt: this.mqtt,
      alertTally: this.alertTally,
      rejectLog: this.rejectLog,
      now: this.now,
      filesAt: this.journal !== undefined ? restored?.files : undefined,
    });
    this.sinks = made.all;
    this.influx = made.influx;
    this.files = made.files;
    const prefix = cfg.mqtt.topicPrefix;
    this.control = this.mqtt.messages$.pipe(filter((m) => isControlTopic(prefix, m.topic))).subscribe((m) => {
      this.onControl(m.topic, m.payload);
    });
    // Control messages (retained, sent again at every subscription) are not readings, nor replayed from the journal.
    const events$ = oepPipeline(merge(this.replay$, this.mqtt.messages$).pipe(filter((m) => !isControlTopic(prefix, m.topic))), {
      topicPrefix: cfg.mqtt.topicPrefix,
      settingsFor: (id) => this.admission.entry(id).settings,
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
    this.checkpoints.replayJournal(restored?.journal ?? { seq: 0, recent: [] }, (m) => {
      this.replay$.next(m);
    });
    this.checkpoints.startTimer();
    this.evictTimer = setInterval(() => {
      this.activity.tick();
      const n = this.admission.sweep(this.now());
      if (n > 0) this.rejectLog.report('evict', `edge: forgot ${n} idle cells the config does not name (${this.admission.evicted} so far)`);
    }, EVICT_SWEEP_MS);
    this.evictTimer.unref();
    if (cfg.health !== undefined) {
      this.health = new HealthServer(healthSourceFor(this), cfg.health);
      const { url } = await this.health.start();
      log.info(`health: ${url}/healthz, /readyz, /metrics`);
    }
    const m = cfg.mqtt;
    log.debug(
      `mqtt: ${redactUrl(m.url)} client id ${m.clientId}, QoS ${m.qos}, ${m.cleanSession ? 'clean session' : 'persistent session'}, ` +
        `TLS ${m.tls !== undefined ? 'on' : 'off'}, user ${m.username !== undefined ? 'set' : 'none'}; ${cfg.cells.length} cells named, edge admits ${cfg.edge.cells}`,
    );
    await this.mqtt.start();
    log.info(`oep: listening on ${redactUrl(cfg.mqtt.url)} under ${cfg.mqtt.topicPrefix}/<cell>/{pressure,current,voltage,step}`);
  }

  /** A control message (a retained one again after each restart): a maintenance silence. */
  private onControl(topic: string, payload: Buffer): void {
    const c = parseSilence(this.opts.config.mqtt.topicPrefix, topic, payload);
    if ('error' in c) {
      this.rejectLog.report('control', `control message ignored: ${c.error}`);
      return;
    }
    this.lab.silence(c.target, c.until_ms);
    const who = c.target === ALL_CELLS ? 'all cells' : `cell ${c.target}`;
    if (c.until_ms > this.now())
      this.opts.log.info(
        `silence: alerts of ${who} are recorded, not sent, until ${new Date(c.until_ms).toISOString()}${c.reason !== undefined ? ` (${c.reason})` : ''}`,
      );
    else this.opts.log.info(`silence: ${who} not silenced`);
  }

  private write(events: readonly LabEvent[]): void {
    writeEvents(this.sinks, events, this.opts.log, this.rejectLog);
    this.activity.events(events);
    this.opts.onEvents?.(events);
  }

  /** Saves the lab state and writes the per-cell counters now (see {@link Checkpoints.checkpoint}). */
  checkpoint(): Promise<void> {
    return this.checkpoints.checkpoint();
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
    // The held PUBACKs go out before the client disconnects (the broker then keeps nothing it need not).
    await step('journal', () => this.journal?.syncNow());
    await step('mqtt', () => this.mqtt.stop());
    await step('pipeline', () => {
      this.sub?.unsubscribe();
      this.control?.unsubscribe();
    });
    this.checkpoints.stopTimer();
    clearInterval(this.evictTimer);
    this.activity.flush();
    await step('state', async () => {
      stateSaved = await this.checkpoints.final();
    });
    const closed = await closeAll(this.sinks);
    this.journal?.close();
    this.lock?.release();
    errors.push(...closed.errors);
    const webhookLost = closed.reports.webhook?.lost ?? 0;
    if (webhookLost > 0) errors.push(`webhook: ${webhookLost} alerts not delivered`);
    const influx = closed.reports.influx;
    const fileLines = closed.reports.files?.written;
    return { stateSaved, errors, sinks: closed.reports, ...(influx ? { influx } : {}), ...(fileLines !== undefined ? { fileLines } : {}) };
  }

  /** The write-ahead journal of incoming messages (with the state folder, unless `state.journal: false`). */
  get journal(): Journal | undefined {
    return this.checkpoints.journal;
  }

  /** How long the last checkpoint took, its longest block of the event loop, and when it ended (for /metrics). */
  get lastCheckpoint(): CheckpointHealth | undefined {
    return this.checkpoints.last;
  }

  /** How the latest checkpoint went (cells encoded, bytes, the longest slice of work). */
  get lastCheckpointReport(): CheckpointReport | undefined {
    return this.checkpoints.lastReport;
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
