/**
 * The daemon's Prometheus metrics (prom-client) over a {@link HealthSource}. Nothing is counted here per
 * reading: every value is read from the source at scrape time, from one snapshot per scrape (so the metrics
 * of one scrape agree). Lab-wide aggregates are always there; the per-cell series only while the lab holds
 * at most `perCellMetrics` cells (health-cells.ts writes those). The metric names, labels and meanings are
 * listed in the README ("Health and metrics"). `health-server.ts` serves them over HTTP.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { passCells, perCellText, type CellsPass } from './health-cells.js';
import { registerEdgeMetrics, type EdgeHealth } from './health-edge.js';
import {
  DEFAULT_PER_CELL_METRICS_MAX_CELLS,
  type AlertCount,
  type AlertState,
  type CheckpointHealth,
  type HealthSource,
  type InfluxHealth,
} from './health-source.js';

export type { AlertCount, AlertState, CellCountersView, CellHealth, CheckpointHealth, HealthSource, InfluxHealth, Readiness } from './health-source.js';
export { DEFAULT_PER_CELL_METRICS_MAX_CELLS, readiness } from './health-source.js';
export { ALERT_LEVEL_VALUES } from './health-cells.js';

export interface HealthMetricsOptions {
  /** Also export prom-client's process metrics (CPU, memory, event-loop lag, GC). Default true. */
  readonly processMetrics?: boolean;
  /**
   * Per-cell series: `true` always, `false` never, a number: while the lab holds at most that many cells.
   * Default {@link DEFAULT_PER_CELL_METRICS_MAX_CELLS}.
   */
  readonly perCellMetrics?: boolean | number;
  /** Processing clock, epoch ms (which cells count as active). */
  readonly now?: () => number;
}

/** Alerts open now, by level (an alert kind of a cell whose level is not ok). */
interface OpenAlerts {
  warning: number;
  critical: number;
}

interface Snapshot {
  readonly cells: CellsPass;
  readonly pipelineStopped: string | undefined;
  readonly mqttConnected: boolean;
  readonly mqttReceived: number | undefined;
  readonly influx: InfluxHealth | undefined;
  /** Copies of the cell-labelled alert entries, only with per-cell series. */
  readonly alerts: readonly AlertCount[] | undefined;
  readonly alertLevels: readonly AlertState[] | undefined;
  /** Alerts raised summed over the cells, by kind and level. */
  readonly raisedByKind: ReadonlyMap<string, { readonly kind: string; readonly level: string; count: number }>;
  readonly open: OpenAlerts;
  readonly sessionLost: string | undefined;
  readonly edge: EdgeHealth | undefined;
  readonly journalBytes: number | undefined;
  readonly checkpoint: CheckpointHealth | undefined;
}

function maxCells(perCell: boolean | number | undefined): number {
  if (perCell === undefined) return DEFAULT_PER_CELL_METRICS_MAX_CELLS;
  if (typeof perCell === 'number') return perCell;
  return perCell ? Infinity : 0;
}

/** Copies what one scrape needs (numbers only), so that every metric of the scrape sees the same state. */
function takeSnapshot(source: HealthSource, max: number, now: number): Snapshot {
  const cells = passCells(source, max, now);
  const perCell = cells.rows !== undefined;
  const raisedByKind = new Map<string, { kind: string; level: string; count: number }>();
  const alerts: AlertCount[] | undefined = perCell && source.alertsRaised !== undefined ? [] : undefined;
  for (const a of source.alertsRaised?.() ?? []) {
    alerts?.push({ ...a });
    const key = `${a.kind}\u0000${a.level}`;
    const k = raisedByKind.get(key);
    if (k === undefined) raisedByKind.set(key, { kind: a.kind, level: a.level, count: a.count });
    else k.count += a.count;
  }
  const open: OpenAlerts = { warning: 0, critical: 0 };
  const alertLevels: AlertState[] | undefined = perCell && source.alertLevels !== undefined ? [] : undefined;
  for (const a of source.alertLevels?.() ?? []) {
    alertLevels?.push({ ...a });
    if (a.level === 'critical') open.critical++;
    else if (a.level !== 'ok') open.warning++;
  }
  const i = source.influx();
  return {
    cells,
    pipelineStopped: source.pipelineStopped?.(),
    mqttConnected: source.mqttConnected(),
    mqttReceived: source.mqttReceived?.(),
    influx: i === undefined ? undefined : { ...i },
    alerts,
    alertLevels,
    raisedByKind,
    open,
    sessionLost: source.mqttSessionLost?.(),
    edge: source.edge?.(),
    journalBytes: source.journalBytes?.(),
    checkpoint: source.lastCheckpoint?.(),
  };
}

/**
 * The oep metrics over a health source: a prom-client registry whose values are read at scrape time, plus
 * the per-cell series written by {@link text} (so a scrape is `text()`, not `registry.metrics()` alone).
 */
export class HealthMetrics {
  readonly registry = new Registry();
  /** The snapshot of the scrape in progress (taken by {@link text}). */
  private snap: Snapshot | undefined;

  /** Where every metric registers. */
  private readonly registers: Registry[];
  /** The snapshot of this scrape; a collect() outside text() (registry.metrics() called directly) takes its own. */
  private readonly current: () => Snapshot;
  private readonly maxPerCell: number;
  private readonly now: () => number;

  constructor(
    private readonly source: HealthSource,
    opts: HealthMetricsOptions = {},
  ) {
    this.registers = [this.registry];
    this.maxPerCell = maxCells(opts.perCellMetrics);
    this.now = opts.now ?? Date.now;
    this.current = (): Snapshot => this.snap ?? takeSnapshot(source, this.maxPerCell, this.now());
    this.labMetrics();
    this.connectionMetrics();
    this.influxMetrics();
    this.alertMetrics();
    this.durabilityMetrics();
    if (source.edge !== undefined) registerEdgeMetrics(this.registers, () => this.current().edge);
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Lab-wide sums over the cells: readings by outcome, rejections by reason, steps, cycles, buffers, cells active. */
  private labMetrics(): void {
    const { registers, current } = this;
    const labCounter = (name: string, help: string, value: (t: CellsPass['totals']) => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect(this: Counter) {
          this.reset();
          this.inc(value(current().cells.totals));
        },
      });
    };
    labCounter('oep_lab_readings_accepted_total', 'Readings accepted, summed over the cells (oep_readings_accepted_total without the cell)', (t) => t.accepted);
    labCounter('oep_lab_readings_duplicate_total', 'Exact duplicate readings dropped, summed over the cells', (t) => t.duplicate);
    labCounter('oep_lab_readings_late_total', 'Readings behind the watermark, summed over the cells', (t) => t.late);
    labCounter('oep_lab_readings_bare_total', 'Bare-number payloads, summed over the cells', (t) => t.bare);
    labCounter(
      'oep_lab_readings_forced_release_total',
      'Readings released before the watermark (alignment.maxBuffered), summed over the cells',
      (t) => t.forcedReleases,
    );
    labCounter('oep_lab_steps_total', 'Steps closed, summed over the cells', (t) => t.steps);
    labCounter('oep_lab_cycles_total', 'Cycles closed, summed over the cells', (t) => t.cycles);
    new Counter({
      name: 'oep_lab_readings_rejected_total',
      help: 'Messages or batch elements of cells holding state rejected at the edge, by reason, summed over the cells',
      labelNames: ['reason'] as const,
      registers,
      collect(this: Counter<'reason'>) {
        this.reset();
        for (const [reason, n] of current().cells.totals.rejected) this.inc({ reason }, n);
      },
    });
    const labGauge = (name: string, help: string, value: (s: Snapshot) => number | undefined): void => {
      new Gauge({
        name,
        help,
        registers,
        collect(this: Gauge) {
          this.reset();
          const v = value(current());
          if (v !== undefined) this.set(v);
        },
      });
    };
    labGauge('oep_lab_readings_buffered', 'Readings waiting in the aligners for the watermark, summed over the cells', (s) => s.cells.totals.buffered);
    labGauge('oep_lab_watermark_lag_max_seconds', 'Largest watermark lag of a cell, s (absent while no cell has a watermark)', (s) => s.cells.totals.lagMax_s);
    labGauge('oep_cells_active', "Cells whose newest reading's event time is at most 10 min before the clock", (s) => s.cells.totals.active);
    labGauge('oep_metrics_per_cell', '1 when this scrape has the per-cell series (health.perCellMetrics), else 0', (s) => (s.cells.rows !== undefined ? 1 : 0));
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

  /** Alerts raised by kind and level, and alerts open now by level (summed over the cells). */
  private alertMetrics(): void {
    const { registers, current, source } = this;
    if (source.alertsRaised !== undefined) {
      new Counter({
        name: 'oep_lab_alerts_raised_total',
        help: 'Alerts raised, by kind and level, summed over the cells',
        labelNames: ['kind', 'level'] as const,
        registers,
        collect(this: Counter<'kind' | 'level'>) {
          this.reset();
          for (const a of current().raisedByKind.values()) this.inc({ kind: a.kind, level: a.level }, a.count);
        },
      });
    }
    if (source.alertLevels !== undefined) {
      new Gauge({
        name: 'oep_alerts_open',
        help: 'Alert kinds of a cell whose condition is present now, by level (warning, critical)',
        labelNames: ['level'] as const,
        registers,
        collect(this: Gauge<'level'>) {
          const { open } = current();
          this.set({ level: 'warning' }, open.warning);
          this.set({ level: 'critical' }, open.critical);
        },
      });
    }
  }

  /** The write-ahead journal's size and the last checkpoint (when the source has them). */
  private durabilityMetrics(): void {
    const { registers, current, source } = this;
    const gauge = (name: string, help: string, value: (s: Snapshot) => number | undefined): void => {
      new Gauge({
        name,
        help,
        registers,
        collect(this: Gauge) {
          this.reset();
          const v = value(current());
          if (v !== undefined) this.set(v);
        },
      });
    };
    if (source.journalBytes !== undefined) gauge('oep_journal_bytes', 'Bytes in the write-ahead journal (emptied at each checkpoint)', (s) => s.journalBytes);
    if (source.lastCheckpoint !== undefined) {
      gauge('oep_checkpoint_duration_seconds', 'Wall time of the last checkpoint, s (absent before the first)', (s) =>
        s.checkpoint === undefined ? undefined : s.checkpoint.duration_ms / 1000,
      );
      gauge('oep_checkpoint_last_timestamp_seconds', 'When the last checkpoint ended, Unix s (absent before the first)', (s) =>
        s.checkpoint === undefined ? undefined : s.checkpoint.at / 1000,
      );
    }
  }

  /** The Prometheus text exposition of one scrape, all oep metrics read from one snapshot of the source. */
  async text(): Promise<string> {
    const snap = takeSnapshot(this.source, this.maxPerCell, this.now());
    this.snap = snap;
    try {
      const text = await this.registry.metrics();
      const rows = snap.cells.rows;
      if (rows === undefined) return text;
      return `${text}\n${perCellText({ rows, alerts: snap.alerts, alertLevels: snap.alertLevels, gaps: snap.edge?.gaps })}`;
    } finally {
      this.snap = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
