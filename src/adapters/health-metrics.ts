/**
 * The daemon's health as data: what a {@link HealthSource} offers (cells, MQTT, InfluxDB, alerts), the
 * readiness verdict, and the Prometheus metrics (prom-client) read from it. Nothing is counted here per
 * reading: every value is read from the source in prom-client `collect()` callbacks, at scrape time, from
 * one snapshot per scrape (so the metrics of one scrape agree). The metric names, labels and meanings are
 * listed in the README ("Health and metrics"). `health-server.ts` serves them over HTTP.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { registerEdgeMetrics, type EdgeHealth } from './health-edge.js';
import { LEVEL_CODE } from './line-protocol.js';

/** The per-cell counters the lab keeps (structurally `CellCounters` of src/domain/lab.ts). */
export interface CellCountersView {
  readonly accepted: number;
  readonly duplicate: number;
  readonly late: number;
  readonly bare: number;
  /** Rejected messages (or batch elements) by reason. */
  readonly rejected: Readonly<Record<string, number>>;
  readonly steps: number;
  readonly cycles: number;
}

/** What the health server needs to know about one cell. */
export interface CellHealth {
  readonly counters: CellCountersView;
  /** The cell's event-time watermark, epoch ms (−Infinity until the cell has one). */
  readonly watermark: number;
  /** Newest event time received on any of the cell's channels, epoch ms (−Infinity before the first reading). */
  readonly newestTs: number;
  /** Readings waiting in the aligner for the watermark. */
  readonly buffered: number;
  /** Readings released before the watermark because the buffer hit its cap. */
  readonly forcedReleases?: number;
}

/** Lines toward InfluxDB (`InfluxSink.stats`, plus whether writes are failing). */
export interface InfluxHealth {
  readonly enqueued: number;
  readonly written: number;
  readonly pending: number;
  readonly dropped: number;
  /** True while the database does not accept writes. */
  readonly failing: boolean;
}

/** Alerts raised so far, one entry per (cell, kind, level). */
export interface AlertCount {
  readonly cell: string;
  readonly kind: string;
  readonly level: string;
  readonly count: number;
}

/** The current level of one alert kind of one cell (`ok`, `warning`, `critical`). */
export interface AlertState {
  readonly cell: string;
  readonly kind: string;
  readonly level: string;
}

/** `oep_alert_level` values: ok 0, warning 1, critical 2 (the line protocol's level codes; an unknown level counts as a warning). */
export const ALERT_LEVEL_VALUES: Readonly<Record<string, number>> = LEVEL_CODE;

/**
 * Where the health server reads its values; every method is called at scrape time only, so it should be
 * cheap (a walk over the cells, no copies of data). `pipelines/health.ts` builds one over the Daemon.
 */
export interface HealthSource {
  /** Every cell the daemon knows, with its counters and aligner state. */
  cells(): Iterable<readonly [cell: string, health: CellHealth]>;
  /** Whether the MQTT client is connected to the broker now. */
  mqttConnected(): boolean;
  /** Why the processing pipeline stopped (it errored or completed unexpectedly); undefined while it runs. */
  pipelineStopped?(): string | undefined;
  /** MQTT messages received since start (optional). */
  mqttReceived?(): number;
  /** InfluxDB output, or undefined when InfluxDB is not configured. */
  influx(): InfluxHealth | undefined;
  /** Alerts raised since start, by cell, kind and level (optional). */
  alertsRaised?(): Iterable<AlertCount>;
  /** The current level of every alert kind evaluated so far (optional). */
  alertLevels?(): Iterable<AlertState>;
  /** Why readiness is withheld after the broker lost the persistent session (undefined: it did not, or long ago). */
  mqttSessionLost?(): string | undefined;
  /** Rejections without a cell, cells by kind, evictions, sessions lost (optional). */
  edge?(): EdgeHealth;
}

export interface Readiness {
  readonly ready: boolean;
  /** Why not ready (empty when ready). */
  readonly reasons: string[];
  readonly pipeline: 'running' | 'stopped';
  readonly mqtt: 'connected' | 'disconnected';
  readonly influx: 'ok' | 'failing' | 'not configured';
  /** Set while readiness is withheld because the broker lost the persistent session. */
  readonly mqttSession?: string;
}

/** Ready = the pipeline runs, MQTT connected, and InfluxDB (when configured) not failing. */
export function readiness(source: HealthSource): Readiness {
  const reasons: string[] = [];
  const stopped = source.pipelineStopped?.();
  if (stopped !== undefined) reasons.push(`pipeline: stopped: ${stopped}`);
  const mqtt = source.mqttConnected() ? 'connected' : 'disconnected';
  if (mqtt !== 'connected') reasons.push('mqtt: not connected to the broker');
  const i = source.influx();
  const influx = i === undefined ? 'not configured' : i.failing ? 'failing' : 'ok';
  if (influx === 'failing') reasons.push(`influx: writes are failing (${i?.pending ?? 0} lines pending)`);
  const session = source.mqttSessionLost?.();
  if (session !== undefined) reasons.push(session);
  return {
    ready: reasons.length === 0,
    reasons,
    pipeline: stopped === undefined ? 'running' : 'stopped',
    mqtt,
    influx,
    ...(session !== undefined ? { mqttSession: session } : {}),
  };
}

interface CellSnapshot {
  readonly id: string;
  readonly accepted: number;
  readonly duplicate: number;
  readonly late: number;
  readonly bare: number;
  readonly steps: number;
  readonly cycles: number;
  readonly forcedReleases: number;
  readonly rejected: readonly (readonly [reason: string, count: number])[];
  readonly watermark: number;
  readonly newestTs: number;
  readonly buffered: number;
}

interface Snapshot {
  readonly cells: readonly CellSnapshot[];
  readonly pipelineStopped: string | undefined;
  readonly mqttConnected: boolean;
  readonly mqttReceived: number | undefined;
  readonly influx: InfluxHealth | undefined;
  readonly alerts: readonly AlertCount[] | undefined;
  readonly alertLevels: readonly AlertState[] | undefined;
  readonly sessionLost: string | undefined;
  readonly edge: EdgeHealth | undefined;
}

/** Copies what one scrape needs (numbers only), so that every metric of the scrape sees the same state. */
function takeSnapshot(source: HealthSource): Snapshot {
  const cells: CellSnapshot[] = [];
  for (const [id, h] of source.cells()) {
    const c = h.counters;
    cells.push({
      id,
      accepted: c.accepted,
      duplicate: c.duplicate,
      late: c.late,
      bare: c.bare,
      steps: c.steps,
      cycles: c.cycles,
      forcedReleases: h.forcedReleases ?? 0,
      rejected: Object.entries(c.rejected),
      watermark: h.watermark,
      newestTs: h.newestTs,
      buffered: h.buffered,
    });
  }
  const i = source.influx();
  return {
    cells,
    pipelineStopped: source.pipelineStopped?.(),
    mqttConnected: source.mqttConnected(),
    mqttReceived: source.mqttReceived?.(),
    influx: i === undefined ? undefined : { ...i },
    alerts: source.alertsRaised === undefined ? undefined : [...source.alertsRaised()].map((a) => ({ ...a })),
    alertLevels: source.alertLevels === undefined ? undefined : [...source.alertLevels()].map((a) => ({ ...a })),
    sessionLost: source.mqttSessionLost?.(),
    edge: source.edge?.(),
  };
}

/** The oep metrics over a health source: a prom-client registry whose values are read at scrape time. */
export class HealthMetrics {
  readonly registry = new Registry();
  /** The snapshot of the scrape in progress (taken by {@link text}). */
  private snap: Snapshot | undefined;

  /** Where every metric registers. */
  private readonly registers: Registry[];
  /** The snapshot of this scrape; a collect() outside text() (registry.metrics() called directly) takes its own. */
  private readonly current: () => Snapshot;

  constructor(
    private readonly source: HealthSource,
    opts: { processMetrics?: boolean } = {},
  ) {
    this.registers = [this.registry];
    this.current = (): Snapshot => this.snap ?? takeSnapshot(source);
    this.cellMetrics();
    this.connectionMetrics();
    this.influxMetrics();
    this.alertMetrics();
    if (source.edge !== undefined) registerEdgeMetrics(this.registers, () => this.current().edge);
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Per-cell counters and gauges: readings by outcome, steps, cycles, rejections, watermark lag, buffers. */
  private cellMetrics(): void {
    const { registers, current } = this;
    const perCellCounter = (name: string, help: string, value: (c: CellSnapshot) => number): void => {
      new Counter({
        name,
        help,
        labelNames: ['cell'] as const,
        registers,
        collect(this: Counter<'cell'>) {
          this.reset();
          for (const c of current().cells) this.inc({ cell: c.id }, value(c));
        },
      });
    };
    perCellCounter('oep_readings_accepted_total', 'Readings accepted into the cell (in event-time order, not duplicate, not late)', (c) => c.accepted);
    perCellCounter(
      'oep_readings_duplicate_total',
      'Exact duplicate readings dropped (QoS 1 redelivery: same channel, timestamp and value)',
      (c) => c.duplicate,
    );
    perCellCounter('oep_readings_late_total', 'Readings that arrived behind the watermark (kept aside in oep_late / late.csv, not processed)', (c) => c.late);
    perCellCounter(
      'oep_readings_bare_total',
      'Bare-number payloads (stamped with their arrival time; also counted as accepted, duplicate or late)',
      (c) => c.bare,
    );
    perCellCounter(
      'oep_readings_forced_release_total',
      'Readings released before the watermark because the cell hit alignment.maxBuffered',
      (c) => c.forcedReleases,
    );
    perCellCounter('oep_steps_total', 'Steps closed (oep_step points)', (c) => c.steps);
    perCellCounter('oep_cycles_total', 'Cycles closed (oep_cycle points)', (c) => c.cycles);

    new Counter({
      name: 'oep_readings_rejected_total',
      help: 'Messages or batch elements rejected at the edge, by reason (see the wire contract)',
      labelNames: ['cell', 'reason'] as const,
      registers,
      collect(this: Counter<'cell' | 'reason'>) {
        this.reset();
        for (const c of current().cells) for (const [reason, n] of c.rejected) this.inc({ cell: c.id, reason }, n);
      },
    });

    const perCellGauge = (name: string, help: string, value: (c: CellSnapshot) => number | undefined): void => {
      new Gauge({
        name,
        help,
        labelNames: ['cell'] as const,
        registers,
        collect(this: Gauge<'cell'>) {
          this.reset();
          for (const c of current().cells) {
            const v = value(c);
            if (v !== undefined) this.set({ cell: c.id }, v);
          }
        },
      });
    };
    perCellGauge('oep_watermark_lag_seconds', "Newest reading's event time minus the cell's watermark, s (absent until the cell has a watermark)", (c) =>
      Number.isFinite(c.watermark) && Number.isFinite(c.newestTs) ? Math.max(0, c.newestTs - c.watermark) / 1000 : undefined,
    );
    perCellGauge(
      'oep_newest_reading_timestamp_seconds',
      "Event time of the cell's newest reading, Unix s (time() minus it: how old the cell's data is)",
      (c) => (Number.isFinite(c.newestTs) ? c.newestTs / 1000 : undefined),
    );
    perCellGauge('oep_readings_buffered', 'Readings buffered in the cell aligner, waiting for the watermark', (c) => c.buffered);
  }

  /** MQTT connection, messages received, readiness. */
  private connectionMetrics(): void {
    const { registers, current, source } = this;
    new Gauge({
      name: 'oep_mqtt_connected',
      help: '1 while the MQTT client is connected to the broker, else 0',
      registers,
      collect(this: Gauge) {
        this.set(current().mqttConnected ? 1 : 0);
      },
    });
    if (source.mqttReceived !== undefined) {
      new Counter({
        name: 'oep_mqtt_messages_received_total',
        help: 'MQTT messages received (a batch payload is one message)',
        registers,
        collect(this: Counter) {
          this.reset();
          this.inc(current().mqttReceived ?? 0);
        },
      });
    }
    new Gauge({
      name: 'oep_ready',
      help: '1 when /readyz answers 200 (pipeline running, MQTT connected, InfluxDB not failing, broker session not just lost), else 0',
      registers,
      collect(this: Gauge) {
        const s = current();
        this.set(s.pipelineStopped === undefined && s.mqttConnected && s.influx?.failing !== true && s.sessionLost === undefined ? 1 : 0);
      },
    });
  }

  /** Points toward InfluxDB: enqueued, written, dropped, pending, failing. */
  private influxMetrics(): void {
    const { registers, current } = this;
    const influxCounter = (name: string, help: string, value: (i: InfluxHealth) => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect(this: Counter) {
          this.reset();
          const i = current().influx;
          if (i !== undefined) this.inc(value(i));
        },
      });
    };
    influxCounter(
      'oep_influx_points_enqueued_total',
      'Line-protocol points handed to the InfluxDB writer (0 when InfluxDB is not configured)',
      (i) => i.enqueued,
    );
    influxCounter('oep_influx_points_written_total', 'Points InfluxDB acknowledged', (i) => i.written);
    influxCounter('oep_influx_points_dropped_total', 'Points given up on (retry limit or outage buffer overflow): lost for InfluxDB', (i) => i.dropped);
    new Gauge({
      name: 'oep_influx_points_pending',
      help: 'Points waiting to be written to InfluxDB (batched or in retry)',
      registers,
      collect(this: Gauge) {
        this.set(current().influx?.pending ?? 0);
      },
    });
    new Gauge({
      name: 'oep_influx_failing',
      help: '1 while writes to InfluxDB are failing, else 0 (0 when InfluxDB is not configured)',
      registers,
      collect(this: Gauge) {
        this.set(current().influx?.failing === true ? 1 : 0);
      },
    });
  }

  /** Alerts raised and current alert levels (when the source has them). */
  private alertMetrics(): void {
    const { registers, current, source } = this;
    if (source.alertsRaised !== undefined) {
      new Counter({
        name: 'oep_alerts_raised_total',
        help: 'Alerts raised, by cell, kind and level',
        labelNames: ['cell', 'kind', 'level'] as const,
        registers,
        collect(this: Counter<'cell' | 'kind' | 'level'>) {
          this.reset();
          for (const a of current().alerts ?? []) this.inc({ cell: a.cell, kind: a.kind, level: a.level }, a.count);
        },
      });
    }

    if (source.alertLevels !== undefined) {
      new Gauge({
        name: 'oep_alert_level',
        help: 'Current alert level of each kind evaluated for the cell: 0 ok, 1 warning, 2 critical',
        labelNames: ['cell', 'kind'] as const,
        registers,
        collect(this: Gauge<'cell' | 'kind'>) {
          this.reset();
          for (const a of current().alertLevels ?? []) this.set({ cell: a.cell, kind: a.kind }, ALERT_LEVEL_VALUES[a.level] ?? 1);
        },
      });
    }
  }

  /** The Prometheus text exposition of one scrape, all oep metrics read from one snapshot of the source. */
  async text(): Promise<string> {
    this.snap = takeSnapshot(this.source);
    try {
      return await this.registry.metrics();
    } finally {
      this.snap = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** HTTP server for /healthz, /readyz and /metrics over a {@link HealthSource}. */
