/**
 * The daemon's state as a {@link HealthSource}: reads its public state (the lab's cells with their counters,
 * aligners and alert books, the MQTT adapter, the InfluxDB sink's counters, whether the pipeline still runs)
 * when the health server asks, at scrape time. Nothing is counted per reading; the {@link AlertTally} sink
 * counts alert events (a few per cell per day). The Daemon starts a HealthServer over this source when its
 * config has a `health` section. It reads the daemon through {@link HealthInputs}, so it does not import it.
 */
import type { AlertTally } from '../src/adapters/alert-tally.js';
import type { EdgeHealth } from '../src/adapters/health-edge.js';
import type { AlertCount, AlertState, CellHealth, CheckpointHealth, HealthSource, InfluxHealth } from '../src/adapters/health-source.js';
import type { InfluxSink } from '../src/adapters/influx-sink.js';
import type { PublishCounts } from '../src/adapters/publish-queue.js';

/** What the health source reads of one cell of the lab. */
export interface HealthCellView {
  readonly counters: CellHealth['counters'];
  readonly aligner: { readonly watermark: number; readonly newestTs: number; readonly buffered: number; readonly forcedReleases: number };
  readonly alerts: { readonly kinds: Readonly<Partial<Record<string, { readonly level: string }>>> };
}

/** What the health source reads: the Daemon has all of it. */
export interface HealthInputs {
  readonly lab: {
    readonly cells: ReadonlyMap<string, HealthCellView>;
    readonly unattributed?: Readonly<Record<string, number>>;
    gapsOf?(c: HealthCellView): { readonly counts: Partial<Record<string, number>>; readonly missing: Partial<Record<string, number>> } | undefined;
  };
  readonly mqtt: {
    readonly connected: boolean;
    readonly received: number;
    readonly writeStalls?: number;
    readonly publishCounts?: PublishCounts;
    readonly sessionsLost?: number;
    readonly sessionLostAt?: number | undefined;
  };
  /** Which cells hold state (configured or not) and how many unknown ones were forgotten. */
  readonly admission?: { readonly evicted: number; readonly admission: { unknownCount(cells: ReadonlyMap<string, unknown>): number } };
  readonly influxStats: InfluxSink['stats'] | undefined;
  /** True while InfluxDB writes are failing (undefined without InfluxDB). */
  readonly influxFailing?: boolean | undefined;
  readonly alertTally?: Pick<AlertTally, 'entries'> | undefined;
  /** Why the pipeline stopped, once its subscription errored or completed unexpectedly. */
  readonly pipelineStopped?: string | undefined;
  /** The write-ahead journal, when there is one. */
  readonly journal?: { readonly bytes: number; readonly syncs: number } | undefined;
  /** The last checkpoint of the lab state, once one was taken. */
  readonly lastCheckpoint?: CheckpointHealth | undefined;
}

/**
 * InfluxDB also counts as failing when points have been pending for this long without a single one
 * being written (a write in flight against a dead server may not have failed yet), ms.
 */
export const DEFAULT_INFLUX_STALL_MS = 30_000;

const NO_PUBLISHES: PublishCounts = { accepted: 0, acked: 0, failed: 0, dropped: 0, superseded: 0, inflight: 0, queued: 0, queuedBytes: 0 };

/**
 * After the broker lost the daemon's persistent session, /readyz answers 503 for this long (ms), so a
 * probe polling it sees the loss even though the daemon itself recovered at once.
 */
export const SESSION_LOST_UNREADY_MS = 15 * 60_000;

export interface HealthSourceOptions {
  /** Alerts raised so far (default: the daemon's `alertTally`). */
  readonly alertsRaised?: () => Iterable<AlertCount>;
  /** See {@link DEFAULT_INFLUX_STALL_MS}. */
  readonly influxStall_ms?: number;
  /** Processing clock (tests). */
  readonly now?: () => number;
}

export function healthSourceFor(daemon: HealthInputs, opts: HealthSourceOptions = {}): HealthSource {
  const alertsRaised = opts.alertsRaised ?? (() => daemon.alertTally?.entries() ?? []);
  const now = opts.now ?? Date.now;
  const stall_ms = opts.influxStall_ms ?? DEFAULT_INFLUX_STALL_MS;
  let lastWritten = -1;
  let progressAt = now();
  const stalled = (s: { written: number; pending: number }): boolean => {
    const t = now();
    if (s.pending === 0 || s.written !== lastWritten) {
      lastWritten = s.written;
      progressAt = t;
    }
    return t - progressAt >= stall_ms;
  };

  return {
    *cells(): Generator<readonly [string, CellHealth]> {
      for (const [id, c] of daemon.lab.cells) {
        const a = c.aligner;
        yield [id, { counters: c.counters, watermark: a.watermark, newestTs: a.newestTs, buffered: a.buffered, forcedReleases: a.forcedReleases }];
      }
    },
    mqttConnected: () => daemon.mqtt.connected,
    pipelineStopped: () => daemon.pipelineStopped,
    mqttReceived: () => daemon.mqtt.received,
    mqttWriteStalls: () => daemon.mqtt.writeStalls ?? 0,
    ...(daemon.mqtt.publishCounts !== undefined ? { mqttPublishes: () => daemon.mqtt.publishCounts ?? NO_PUBLISHES } : {}),
    influx(): InfluxHealth | undefined {
      const s = daemon.influxStats;
      return s === undefined ? undefined : { ...s, failing: daemon.influxFailing === true || stalled(s) };
    },
    *alertLevels(): Generator<AlertState> {
      for (const [cell, c] of daemon.lab.cells) {
        for (const [kind, st] of Object.entries(c.alerts.kinds)) if (st !== undefined) yield { cell, kind, level: st.level };
      }
    },
    alertsRaised,
    mqttSessionLost(): string | undefined {
      const at = daemon.mqtt.sessionLostAt;
      if (at === undefined || now() - at >= SESSION_LOST_UNREADY_MS) return undefined;
      return `mqtt: the broker did not resume the persistent session at ${new Date(at).toISOString()}: readings sent while oep was away may be lost`;
    },
    journalBytes: () => daemon.journal?.bytes,
    journalSyncs: () => daemon.journal?.syncs,
    lastCheckpoint: () => daemon.lastCheckpoint,
    edge(): EdgeHealth {
      const cells = daemon.lab.cells;
      const unknown = daemon.admission?.admission.unknownCount(cells) ?? 0;
      const gaps: EdgeHealth['gaps'][number][] = [];
      for (const [cell, c] of cells) {
        const g = daemon.lab.gapsOf?.(c);
        if (g !== undefined)
          for (const [channel, count] of Object.entries(g.counts)) gaps.push({ cell, channel, count: count ?? 0, missing: g.missing[channel] ?? 0 });
      }
      return {
        gaps,
        unattributed: daemon.lab.unattributed ?? {},
        unknownCells: unknown,
        configuredCells: cells.size - unknown,
        evicted: daemon.admission?.evicted ?? 0,
        sessionsLost: daemon.mqtt.sessionsLost ?? 0,
      };
    },
  };
}
