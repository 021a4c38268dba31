/**
 * Metrics of the edge: rejections that belong to no cell holding state (made-up ids, refused cells,
 * bad topics), how many cells hold state, how many unknown cells were forgotten, and how often the broker
 * lost the daemon's persistent session. Read at scrape time from {@link HealthSource.edge}.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface EdgeHealth {
  /** Rejected messages of cells that hold no state, by reason. */
  readonly unattributed: Readonly<Record<string, number>>;
  readonly configuredCells: number;
  readonly unknownCells: number;
  /** Unknown cells forgotten after going idle. */
  readonly evicted: number;
  /** Connections on which the broker had lost the persistent session. */
  readonly sessionsLost: number;
  /** Holes in a channel's readings while current flowed, and readings estimated missing in them. */
  readonly gaps: readonly { readonly cell: string; readonly channel: string; readonly count: number; readonly missing: number }[];
}

export function registerEdgeMetrics(registers: Registry[], edge: () => EdgeHealth | undefined): void {
  new Counter({
    name: 'oep_messages_rejected_unattributed_total',
    help: 'Messages rejected for a cell that holds no state (made-up or refused ids, bad topics), by reason; they create no cell',
    labelNames: ['reason'] as const,
    registers,
    collect(this: Counter<'reason'>) {
      this.reset();
      for (const [reason, n] of Object.entries(edge()?.unattributed ?? {})) this.inc({ reason }, n);
    },
  });
  new Gauge({
    name: 'oep_cells',
    help: 'Cells holding state, by whether the config names them (configured) or not (unknown)',
    labelNames: ['kind'] as const,
    registers,
    collect(this: Gauge<'kind'>) {
      const e = edge();
      if (e === undefined) return;
      this.set({ kind: 'configured' }, e.configuredCells);
      this.set({ kind: 'unknown' }, e.unknownCells);
    },
  });
  // Per (cell, channel) with the per-cell series (health-cells.ts); summed over the cells here, always.
  const byChannel = (name: string, help: string, value: (g: EdgeHealth['gaps'][number]) => number): void => {
    new Counter({
      name,
      help,
      labelNames: ['channel'] as const,
      registers,
      collect(this: Counter<'channel'>) {
        this.reset();
        const sums = new Map<string, number>();
        for (const g of edge()?.gaps ?? []) sums.set(g.channel, (sums.get(g.channel) ?? 0) + value(g));
        for (const [channel, n] of sums) this.inc({ channel }, n);
      },
    });
  };
  byChannel('oep_lab_gaps_total', "Holes in a channel's event time while current flowed, by channel, summed over the cells", (g) => g.count);
  byChannel('oep_lab_gap_missing_readings_total', 'Readings estimated missing in those holes, by channel, summed over the cells', (g) => g.missing);
  const counter = (name: string, help: string, value: (e: EdgeHealth) => number): void => {
    new Counter({
      name,
      help,
      registers,
      collect(this: Counter) {
        this.reset();
        const e = edge();
        if (e !== undefined) this.inc(value(e));
      },
    });
  };
  counter('oep_cells_evicted_total', 'Unknown cells forgotten after edge.evictIdle_s without a message (they had closed no step)', (e) => e.evicted);
  counter(
    'oep_mqtt_sessions_lost_total',
    'Connections on which the broker did not resume the persistent session (CONNACK sessionPresent false): readings sent meanwhile may be lost',
    (e) => e.sessionsLost,
  );
}
