/**
 * The daemon: wires the MQTT adapter, the OEP pipeline and the sinks (InfluxDB, local files, a live
 * table), snapshots the lab for restarts, and stops in order, flushing and reporting what was lost.
 */
import { join } from 'node:path';
import { filter, merge, Subject, type Subscription } from 'rxjs';
import { AlertPublisher } from '../src/adapters/alert-publisher.js';
import { AlertTally } from '../src/adapters/alert-tally.js';
import { FileSink, type FileOffsets } from '../src/adapters/file-sink.js';
import { HealthServer } from '../src/adapters/health-server.js';
import { InstanceLock } from '../src/adapters/instance-lock.js';
import { InfluxSink, type SinkReport } from '../src/adapters/influx-sink.js';
import { DiskOutbox } from '../src/adapters/outbox.js';
import { ingestLine } from '../src/adapters/line-protocol.js';
import type { Logger } from '../src/adapters/log.js';
import { errorMessage, RateLimitedLog, redactUrl } from '../src/adapters/log-text.js';
import { Journal } from '../src/adapters/journal.js';
import { MqttAdapter, type RawMessage } from '../src/adapters/mqtt.js';
import { closeAll, writeAll, type Sink } from '../src/adapters/sink.js';
import { StateStore, type CheckpointReport } from '../src/adapters/state-store.js';
import { settingsSharer } from './shared-settings.js';
import { Webhook } from '../src/adapters/webhook.js';
import { resolveCell, type OepConfig, type ResolvedCell } from '../src/config/schema.js';
import { ALL_CELLS, Lab, type LabEvent } from '../src/domain/lab.js';
import { controlSubscriptions, isControlTopic, parseSilence } from '../src/ingest/control.js';
import { ActivityLog } from './activity-log.js';
import { AdmissionControl } from './admission.js';
import { healthSourceFor, type HealthInputs } from './health.js';
import { oepPipeline } from './operators.js';

/** One file of the InfluxDB outbox holds this much before the next one starts (a sent file is deleted whole). */
const OUTBOX_SEGMENT_BYTES = 16 * 1024 * 1024;
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
  private readonly state: StateStore | undefined;
  /** The write-ahead journal of incoming messages (with the state folder, unless `state.journal: false`). */
  readonly journal: Journal | undefined;
  /** Journaled messages replayed into the lab at start (those after the last checkpoint). */
  private readonly replay$ = new Subject<RawMessage>();
  private checkpointSoon = false;
  private checkpointing: Promise<void> | undefined;
  /** How the latest checkpoint went (cells encoded, bytes, the longest slice of work). */
  lastCheckpointReport: CheckpointReport | undefined;
  private sub: Subscription | undefined;
  private control: Subscription | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<StopReport> | undefined;
  private health: HealthServer | undefined;
  /** Alerts raised by cell, kind and level (for /metrics). */
  readonly alertTally = new AlertTally();
  /** Failures isolated so far (a cell the lab stopped, or a batch whose processing threw). */
  cellFailures = 0;
  /** Why the pipeline stopped, once its subscription errored or completed before `stop()`; /readyz then answers 503. */
  pipelineStopped: string | undefined;
  /** How long the last checkpoint took and when it ended (for /metrics). */
  lastCheckpoint: { duration_ms: number; at: number } | undefined;
  private readonly now: () => number;
  /** Each cell's settings, resolved from the config once. */
  private readonly setupFor: (cell: string) => ResolvedCell;
  readonly rejectLog: RateLimitedLog;
  /** Which cells hold state: the edge's admission check and the eviction of idle unknown cells. */
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
    const cache = new Map<string, ReturnType<typeof resolveCell>>();
    const shared = settingsSharer();
    const resolved = (id: string): ResolvedCell => {
      let r = cache.get(id);
      if (r === undefined) cache.set(id, (r = shared(resolveCell(cfg, id))));
      return r;
    };
    this.setupFor = resolved;
    this.activity = new ActivityLog(opts.log, this.now);
    // The lab asks a cell's settings once, when it first sees the cell (or restores it): the moment to say so.
    const announced = (id: string): ResolvedCell => {
      const r = resolved(id);
      this.activity.cell(r, this.restoring);
      return r;
    };
    this.lab = new Lab(announced, undefined, { trackGaps: true });
    this.state = cfg.state !== undefined ? new StateStore(cfg.state.dir) : undefined;
    this.journal =
      cfg.state?.journal === true
        ? new Journal(cfg.state.dir, {
            onError: (m) => {
              opts.log.error(m);
            },
          })
        : undefined;
    this.admission = new AdmissionControl(cfg, this.lab);
    this.mqtt = new MqttAdapter({
      ...cfg.mqtt,
      controlTopics: controlSubscriptions(cfg.mqtt.topicPrefix),
      failFast: opts.waitForBroker !== true,
      now: this.now,
      log: (m) => {
        opts.log.info(m);
      },
      ...(this.journal !== undefined
        ? { beforeDelivery: (m: RawMessage) => this.journaled(m), holdAck: (send: () => void) => this.journal?.whenDurable(send) }
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
    const restored = this.state?.restore(this.lab);
    this.restoring = false;
    // the daemon ran before with this client id: the broker should still hold its session
    this.mqtt.expectSession = restored !== undefined;
    if (restored !== undefined && restored.cells > 0)
      log.info(`state: resumed ${restored.cells} cells from ${this.state?.path ?? ''} (saved ${new Date(restored.savedAt).toISOString()})`);
    this.lab.resumeAt(this.now());
    this.sinks = this.makeSinks(restored?.files);
    const prefix = cfg.mqtt.topicPrefix;
    this.control = this.mqtt.messages$.pipe(filter((m) => isControlTopic(prefix, m.topic))).subscribe((m) => {
      this.onControl(m.topic, m.payload);
    });
    // Control messages (retained, sent again at every subscription) are not readings, nor replayed from the journal.
    const events$ = oepPipeline(merge(this.replay$, this.mqtt.messages$).pipe(filter((m) => !isControlTopic(prefix, m.topic))), {
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
    this.replayJournal(restored?.journal ?? { seq: 0, recent: [] });
    if (this.state !== undefined && cfg.state !== undefined) {
      void this.checkpoint();
      this.stateTimer = setInterval(() => {
        void this.checkpoint();
      }, cfg.state.interval_s * 1000);
      this.stateTimer.unref();
    }
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

  /**
   * Feeds the lab the journaled messages after the checkpoint, with their arrival times (the lab then
   * stands where it stood before the stop or the crash), and restarts the cells' clocks.
   */
  private replayJournal(mark: { readonly seq: number; readonly recent: readonly string[] }): void {
    if (this.journal === undefined) return;
    const entries = this.journal.open(mark.seq, mark.recent);
    for (const e of entries) this.replay$.next(e);
    if (entries.length > 0) this.opts.log.info(`journal: replayed ${entries.length} messages received after the last checkpoint`);
    this.lab.resumeAt(this.now());
  }

  /** Journals a message before the pipeline sees it (and before its PUBACK); a journal past its bound asks for an early checkpoint. */
  private journaled(m: RawMessage): boolean {
    const j = this.journal;
    if (j === undefined) return true;
    const fresh = j.append(m);
    const max = this.opts.config.state?.maxJournalBytes;
    if (max !== undefined && j.bytes > max && !this.checkpointSoon) {
      this.checkpointSoon = true;
      // After this message has gone through the (synchronous) pipeline: the journal and the lab agree.
      setImmediate(() => {
        this.checkpointSoon = false;
        if (this.stopping === undefined) void this.checkpoint();
      });
    }
    return fresh;
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

  /** The sinks the config asks for, in the order they are closed. */
  private makeSinks(resumeAt: FileOffsets | undefined): Sink[] {
    const { config: cfg, log } = this.opts;
    const sinks: Sink[] = [
      this.alertTally,
      new AlertPublisher(this.mqtt, {
        topicPrefix: cfg.mqtt.topicPrefix,
        incidentsOf: (cell) => this.lab.cell(cell).incidents,
        silencedUntil: (cell) => this.lab.silencedUntil(cell, this.now()),
      }),
    ];
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
      // With a state folder, the lines wait on disk until the database has them (they survive a stop and a crash).
      const outbox =
        cfg.state !== undefined ? new DiskOutbox(join(cfg.state.dir, 'outbox'), { maxBytes: i.outboxMaxBytes, segmentBytes: OUTBOX_SEGMENT_BYTES }) : undefined;
      sinks.push(
        (this.influx = new InfluxSink(
          {
            ...i,
            onError: (m) => {
              this.rejectLog.report('influx', m);
            },
            onStateChange: (m) => {
              log.warn(m);
            },
          },
          outbox,
        )),
      );
      if (outbox !== undefined && outbox.pending > 0) log.info(`influx: ${outbox.pending} lines from before the restart wait in ${outbox.dir}`);
      log.info(`influx: writing to ${redactUrl(i.url)} bucket ${i.bucket}`);
    }
    if (cfg.output !== undefined) {
      sinks.push((this.files = new FileSink(cfg.output.dir, true, this.journal !== undefined ? resumeAt : undefined)));
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
    this.activity.events(events);
    this.opts.onEvents?.(events);
  }

  /**
   * Saves the lab state and writes the per-cell counters; errors are logged, never thrown. In order: the
   * outputs made durable (their sizes recorded), the journal's position noted and its file set aside, the
   * state saved a slice at a time while messages go on (the lab as it stood at that position: see
   * StateStore), the set-aside journal dropped once the state is durable. A crash anywhere in between
   * leaves a checkpoint and a journal that agree. One at a time: a call while one is being taken returns it.
   */
  checkpoint(): Promise<void> {
    this.checkpointing ??= this.takeCheckpoint().finally(() => {
      this.checkpointing = undefined;
    });
    return this.checkpointing;
  }

  private async takeCheckpoint(): Promise<void> {
    const started = performance.now();
    try {
      const t = this.now();
      const lines = [...this.lab.cells].map(([id, c]) => ingestLine(id, c.counters, t)).filter((l): l is string => l !== undefined);
      this.influx?.writeLines(lines);
      this.files?.writeLines(lines);
      this.files?.sync();
      this.influx?.sync();
      if (this.state === undefined) return;
      const j = this.journal;
      const journal = { seq: j?.seq ?? 0, recent: j?.recentDigests ?? [] };
      j?.rotate();
      const r = await this.state.checkpoint(this.lab, { savedAt: t, journal, files: this.files?.offsets });
      j?.dropThrough(journal.seq);
      this.lastCheckpointReport = r;
      const log = this.opts.log;
      if (log.enabled('debug'))
        log.debug(
          `checkpoint: ${this.lab.cells.size} cells, ${r.encoded} written, ${r.bytes} bytes, ${lines.length} counter lines, ` +
            `${(performance.now() - started).toFixed(1)} ms (longest slice ${r.longestSlice_ms.toFixed(1)} ms)`,
        );
    } catch (e) {
      this.opts.log.error(`checkpoint failed: ${errorMessage(e)}`);
    } finally {
      this.lastCheckpoint = { duration_ms: performance.now() - started, at: this.now() };
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
    // The held PUBACKs go out before the client disconnects (the broker then keeps nothing it need not).
    await step('journal', () => this.journal?.syncNow());
    await step('mqtt', () => this.mqtt.stop());
    await step('pipeline', () => {
      this.sub?.unsubscribe();
      this.control?.unsubscribe();
    });
    clearInterval(this.stateTimer);
    clearInterval(this.evictTimer);
    this.activity.flush();
    await step('state', async () => {
      if (this.state !== undefined) {
        await this.checkpointing;
        await this.checkpoint();
        this.state.close();
        stateSaved = true;
      }
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
