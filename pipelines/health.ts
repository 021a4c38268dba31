/**
 * The daemon as a {@link HealthSource}: reads its public state (the lab's cells with their counters, aligners
 * and alert books, the MQTT adapter, the InfluxDB sink's counters) when the health server asks, at scrape time.
 * Nothing is counted per reading; {@link AlertTally} counts alert events (a few per cell per day).
 * The Daemon starts a HealthServer over this source when its config has a `health` section.
 */
import type { AlertCount, AlertState, CellHealth, HealthSource, InfluxHealth } from '../src/adapters/health-server.js';
import type { LabEvent } from '../src/domain/lab.js';
import type { Daemon } from './daemon.js';

const RANK: Readonly<Record<string, number>> = { ok: 0, warning: 1, critical: 2 };

/**
 * Counts the alerts raised (a change to a higher level: ok → warning, ok/warning → critical) by cell, kind
 * and level, from the lab's events. The daemon feeds it every batch (`count(events)` in its write path).
 */
export class AlertTally {
  private readonly counts = new Map<string, { cell: string; kind: string; level: string; count: number }>();

  count(events: readonly LabEvent[]): void {
    for (const e of events) {
      if (e.type !== 'alert') continue;
      const a = e.alert;
      if ((RANK[a.level] ?? 1) <= (RANK[a.previous] ?? 0)) continue;
      const key = `${a.cell}\u0000${a.kind}\u0000${a.level}`;
      const c = this.counts.get(key);
      if (c === undefined) this.counts.set(key, { cell: a.cell, kind: a.kind, level: a.level, count: 1 });
      else c.count++;
    }
  }

  entries(): Iterable<AlertCount> {
    return this.counts.values();
  }
}

/**
 * InfluxDB also counts as failing when points have been pending for this long without a single one
 * being written (a write in flight against a dead server may not have failed yet), ms.
 */
export const DEFAULT_INFLUX_STALL_MS = 30_000;

export interface HealthSourceOptions {
  /** Alerts raised so far (default: the daemon's `alertTally`). */
  readonly alertsRaised?: () => Iterable<AlertCount>;
  /** See {@link DEFAULT_INFLUX_STALL_MS}. */
  readonly influxStall_ms?: number;
  /** Processing clock (tests). */
  readonly now?: () => number;
}

export function healthSourceFor(daemon: Daemon, opts: HealthSourceOptions = {}): HealthSource {
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
    mqttReceived: () => daemon.mqtt.received,
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
  };
}
