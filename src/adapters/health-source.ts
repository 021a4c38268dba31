/**
 * What the health server reads: the {@link HealthSource} contract (cells, MQTT, InfluxDB, alerts, journal,
 * checkpoints), and the readiness verdict drawn from it. `pipelines/health.ts` builds one over the Daemon;
 * `health-metrics.ts` turns one into Prometheus metrics.
 */
import type { PublishCounts } from './publish-queue.js';
import type { EdgeHealth } from './health-edge.js';

/**
 * Per-cell series by default while the lab holds at most this many cells (`health.perCellMetrics`). Past it
 * a scrape has only the lab-wide aggregates: 10+ series per cell are 100,000+ series and 4.2 MB a scrape at
 * 10,000 cells, more than a lab's Prometheus should store for counters that InfluxDB gets per cell anyway
 * (`oep_ingest`, every checkpoint).
 */
export const DEFAULT_PER_CELL_METRICS_MAX_CELLS = 1_000;

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
  /** Times the MQTT client stopped reading until its writes to the broker drained (optional). */
  mqttWriteStalls?(): number;
  /** The alert and status messages published: acknowledged, refused, replaced, in flight, queued (optional). */
  mqttPublishes?(): PublishCounts;
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
  /** Bytes in the write-ahead journal now (undefined without a journal). */
  journalBytes?(): number | undefined;
  /** fdatasync calls on the write-ahead journal since start (undefined without a journal). */
  journalSyncs?(): number | undefined;
  /** The last checkpoint: how long it took and when it ended (undefined before the first, or without state). */
  lastCheckpoint?(): CheckpointHealth | undefined;
}

/** One checkpoint of the lab state. */
export interface CheckpointHealth {
  /** Wall time it took (counters written, outputs synced, state saved, journal emptied), ms. */
  readonly duration_ms: number;
  /** Its longest piece of work in one turn of the event loop (the messages waited that long), ms. */
  readonly longestBlock_ms: number;
  /** The same, the longest of every checkpoint since the daemon started, ms. */
  readonly longestEver_ms: number;
  /** When it ended, epoch ms. */
  readonly at: number;
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
