/**
 * The daemon's Prometheus metrics (prom-client) over a {@link HealthSource}. Nothing is counted here per
 * reading: every value is read from the source at scrape time, from one snapshot per scrape (so the metrics
 * of one scrape agree). Lab-wide aggregates are always there; the per-cell series only while the lab holds
 * at most `perCellMetrics` cells (health-cells.ts writes those). The metric names, labels and meanings are
 * listed in the README ("Health and metrics"). `health-server.ts` serves them over HTTP.
 */
import type { PublishCounts } from './publish-queue.js';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { passCells, perCellText, type CellsPass } from './health-cells.js';
import { registerEdgeMetrics, type EdgeHealth } from './health-edge.js';
import { scrapeCounter, scrapeCounterBy, scrapeGauge, scrapeGaugeBy, type ScrapeMetric } from './prom-scrape.js';
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
  readonly mqttWriteStalls: number | undefined;
  readonly mqttPublishes: PublishCounts | undefined;
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
  readonly journalSyncs: number | undefined;
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
    mqttWriteStalls: source.mqttWriteStalls?.(),
    mqttPublishes: source.mqttPublishes?.(),
    influx: i === undefined ? undefined : { ...i },
    alerts,
    alertLevels,
    raisedByKind,
    open,
    sessionLost: source.mqttSessionLost?.(),
    edge: source.edge?.(),
    journalBytes: source.journalBytes?.(),
    journalSyncs: source.journalSyncs?.(),
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
    const sum = (name: string, help: string, value: (t: CellsPass['totals']) => number): void => {
      scrapeCounter({ registers, name, help }, () => value(current().cells.totals));
    };
    sum('oep_lab_readings_accepted_total', 'Readings accepted, summed over the cells (oep_readings_accepted_total without the cell)', (t) => t.accepted);
    sum('oep_lab_readings_duplicate_total', 'Exact duplicate readings dropped, summed over the cells', (t) => t.duplicate);
    sum('oep_lab_readings_late_total', 'Readings behind the watermark, summed over the cells', (t) => t.late);
    sum('oep_lab_readings_bare_total', 'Bare-number payloads, summed over the cells', (t) => t.bare);
    sum(
      'oep_lab_readings_forced_release_total',
      'Readings released before the watermark (alignment.maxBuffered), summed over the cells',
      (t) => t.forcedReleases,
    );
    sum('oep_lab_steps_total', 'Steps closed, summed over the cells', (t) => t.steps);
    sum('oep_lab_cycles_total', 'Cycles closed, summed over the cells', (t) => t.cycles);
    scrapeCounterBy(
      {
        registers,
        name: 'oep_lab_readings_rejected_total',
        help: 'Messages or batch elements of cells holding state rejected at the edge, by reason, summed over the cells',
      },
      ['reason'],
      () => [...current().cells.totals.rejected].map(([reason, n]) => [{ reason }, n] as const),
    );
    const gauge = (name: string, help: string, value: (s: Snapshot) => number | undefined): void => {
      scrapeGauge({ registers, name, help }, () => value(current()));
    };
    gauge('oep_lab_readings_buffered', 'Readings waiting in the aligners for the watermark, summed over the cells', (s) => s.cells.totals.buffered);
    gauge('oep_lab_watermark_lag_max_seconds', 'Largest watermark lag of a cell, s (0 while no cell has a watermark)', (s) => s.cells.totals.lagMax_s);
    gauge('oep_cells_active', "Cells whose newest reading's event time is at most 10 min before the clock", (s) => s.cells.totals.active);
    gauge('oep_metrics_per_cell', '1 when this scrape has the per-cell series (health.perCellMetrics), else 0', (s) => (s.cells.rows !== undefined ? 1 : 0));
  }

  /** MQTT connection, messages received, readiness. */
  private connectionMetrics(): void {
    const { registers, current, source } = this;
    scrapeGauge({ registers, name: 'oep_mqtt_connected', help: '1 while the MQTT client is connected to the broker, else 0' }, () =>
      current().mqttConnected ? 1 : 0,
    );
    if (source.mqttReceived !== undefined) {
      scrapeCounter(
        { registers, name: 'oep_mqtt_messages_received_total', help: 'MQTT messages received (a batch payload is one message)' },
        () => current().mqttReceived ?? 0,
      );
    }
    if (source.mqttWriteStalls !== undefined) {
      const help = 'Times no further MQTT message was read until the writes to the broker (PUBACKs) drained: a broker slow to read them';
      scrapeCounter({ registers, name: 'oep_mqtt_write_stalls_total', help }, () => current().mqttWriteStalls ?? 0);
    }
    if (source.mqttPublishes !== undefined) this.publishMetrics();
    const help = '1 when /readyz answers 200 (pipeline running, MQTT connected, InfluxDB not failing, broker session not just lost), else 0';
    scrapeGauge({ registers, name: 'oep_ready', help }, () => {
      const s = current();
      return s.pipelineStopped === undefined && s.mqttConnected && s.influx?.failing !== true && s.sessionLost === undefined ? 1 : 0;
    });
  }

  /** The alert and status messages the daemon publishes: what became of them, what waits (publish-queue.ts). */
  private publishMetrics(): void {
    const { registers, current } = this;
    const read = (f: (c: PublishCounts) => number) => (): number => {
      const c = current().mqttPublishes;
      return c === undefined ? 0 : f(c);
    };
    const counters: [string, string, (c: PublishCounts) => number][] = [
      ['oep_mqtt_published_total', 'Alert events and cell statuses published to MQTT and acknowledged by the broker (PUBACK)', (c) => c.acked],
      ['oep_mqtt_publish_failed_total', 'Alert events and cell statuses handed to the MQTT client that failed (client stopped, error code)', (c) => c.failed],
      [
        'oep_mqtt_publish_dropped_total',
        'Alert events refused because the publish queue was full (logged; still in InfluxDB and the files): should stay 0',
        (c) => c.dropped,
      ],
      [
        'oep_mqtt_status_superseded_total',
        "Retained cell statuses replaced by the cell's newer one before they were sent (the broker keeps the latest only)",
        (c) => c.superseded,
      ],
    ];
    for (const [name, help, f] of counters) scrapeCounter({ registers, name, help }, read(f));
    const gauges: [string, string, (c: PublishCounts) => number][] = [
      ['oep_mqtt_publish_inflight', 'Alert events and statuses handed to the MQTT client, awaiting their PUBACK', (c) => c.inflight],
      ['oep_mqtt_publish_queued', 'Alert events and statuses waiting behind them in the publish queue', (c) => c.queued],
      ['oep_mqtt_publish_queued_bytes', 'Bytes of alert events waiting in the publish queue', (c) => c.queuedBytes],
    ];
    for (const [name, help, f] of gauges) scrapeGauge({ registers, name, help }, read(f));
  }

  /** Points toward InfluxDB: enqueued, written, dropped, pending, failing. */
  private influxMetrics(): void {
    const { registers, current } = this;
    const influx = (name: string, help: string, value: (i: InfluxHealth) => number): ScrapeMetric & { read: () => number } => ({
      registers,
      name,
      help,
      read: () => {
        const i = current().influx;
        return i === undefined ? 0 : value(i);
      },
    });
    for (const m of [
      influx('oep_influx_points_enqueued_total', 'Line-protocol points handed to the InfluxDB writer (0 when InfluxDB is not configured)', (i) => i.enqueued),
      influx('oep_influx_points_written_total', 'Points InfluxDB acknowledged', (i) => i.written),
      influx('oep_influx_points_dropped_total', 'Points given up on (retry limit or outage buffer overflow): lost for InfluxDB', (i) => i.dropped),
    ])
      scrapeCounter(m, m.read);
    for (const m of [
      influx('oep_influx_points_pending', 'Points waiting to be written to InfluxDB (batched or in retry)', (i) => i.pending),
      influx('oep_influx_failing', '1 while writes to InfluxDB are failing, else 0 (0 when InfluxDB is not configured)', (i) => (i.failing ? 1 : 0)),
    ])
      scrapeGauge(m, m.read);
  }

  /** Alerts raised by kind and level, and alerts open now by level (summed over the cells). */
  private alertMetrics(): void {
    const { registers, current, source } = this;
    if (source.alertsRaised !== undefined) {
      scrapeCounterBy(
        { registers, name: 'oep_lab_alerts_raised_total', help: 'Alerts raised, by kind and level, summed over the cells' },
        ['kind', 'level'],
        () => [...current().raisedByKind.values()].map((a) => [{ kind: a.kind, level: a.level }, a.count] as const),
      );
    }
    if (source.alertLevels !== undefined) {
      const help = 'Alert kinds of a cell whose condition is present now, by level (warning, critical)';
      scrapeGaugeBy({ registers, name: 'oep_alerts_open', help }, ['level'], () => {
        const { open } = current();
        return [
          [{ level: 'warning' }, open.warning],
          [{ level: 'critical' }, open.critical],
        ];
      });
    }
  }

  /** The write-ahead journal's size and the last checkpoint (when the source has them; 0 without a journal, before the first checkpoint). */
  private durabilityMetrics(): void {
    const { registers, current, source } = this;
    const gauge = (name: string, help: string, value: (s: Snapshot) => number | undefined): void => {
      scrapeGauge({ registers, name, help }, () => value(current()));
    };
    if (source.journalBytes !== undefined) gauge('oep_journal_bytes', 'Bytes in the write-ahead journal (emptied at each checkpoint)', (s) => s.journalBytes);
    if (source.journalSyncs !== undefined)
      scrapeCounter(
        { registers, name: 'oep_journal_syncs_total', help: 'fdatasync calls on the write-ahead journal since start' },
        () => current().journalSyncs,
      );
    if (source.lastCheckpoint !== undefined) {
      gauge('oep_checkpoint_duration_seconds', 'Wall time of the last checkpoint, s (0 before the first)', (s) =>
        s.checkpoint === undefined ? undefined : s.checkpoint.duration_ms / 1000,
      );
      gauge(
        'oep_checkpoint_longest_block_seconds',
        'Longest piece of work of the last checkpoint in one turn of the event loop, s: messages waited that long (0 before the first)',
        (s) => (s.checkpoint === undefined ? undefined : s.checkpoint.longestBlock_ms / 1000),
      );
      gauge('oep_checkpoint_longest_block_max_seconds', 'The same, the longest of every checkpoint since start, s', (s) =>
        s.checkpoint === undefined ? undefined : s.checkpoint.longestEver_ms / 1000,
      );
      gauge('oep_checkpoint_last_timestamp_seconds', 'When the last checkpoint ended, Unix s (0 before the first)', (s) =>
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
