/**
 * Metrics of the edge: rejections that belong to no cell holding state (made-up ids, refused cells,
 * bad topics), how many cells hold state, how many unknown cells were forgotten, and how often the broker
 * lost the daemon's persistent session. Read at scrape time from {@link HealthSource.edge}.
 */
import type { Registry } from 'prom-client';
import { scrapeCounter, scrapeCounterBy, scrapeGaugeBy } from './prom-scrape.js';

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
  scrapeCounterBy(
    {
      registers,
      name: 'oep_messages_rejected_unattributed_total',
      help: 'Messages rejected for a cell that holds no state (made-up or refused ids, bad topics), by reason; they create no cell',
    },
    ['reason'],
    () => Object.entries(edge()?.unattributed ?? {}).map(([reason, n]) => [{ reason }, n] as const),
  );
  scrapeGaugeBy({ registers, name: 'oep_cells', help: 'Cells holding state, by whether the config names them (configured) or not (unknown)' }, ['kind'], () => {
    const e = edge();
    if (e === undefined) return [];
    return [
      [{ kind: 'configured' }, e.configuredCells],
      [{ kind: 'unknown' }, e.unknownCells],
    ];
  });
  // Per (cell, channel) with the per-cell series (health-cells.ts); summed over the cells here, always.
  const byChannel = (name: string, help: string, value: (g: EdgeHealth['gaps'][number]) => number): void => {
    scrapeCounterBy({ registers, name, help }, ['channel'], () => {
      const sums = new Map<string, number>();
      for (const g of edge()?.gaps ?? []) sums.set(g.channel, (sums.get(g.channel) ?? 0) + value(g));
      return [...sums].map(([channel, n]) => [{ channel }, n] as const);
    });
  };
  byChannel('oep_lab_gaps_total', "Holes in a channel's event time while current flowed, by channel, summed over the cells", (g) => g.count);
  byChannel('oep_lab_gap_missing_readings_total', 'Readings estimated missing in those holes, by channel, summed over the cells', (g) => g.missing);
  const counter = (name: string, help: string, value: (e: EdgeHealth) => number): void => {
    scrapeCounter({ registers, name, help }, () => {
      const e = edge();
      return e === undefined ? undefined : value(e);
    });
  };
  counter('oep_cells_evicted_total', 'Unknown cells forgotten after edge.evictIdle_s without a message (they had closed no step)', (e) => e.evicted);
  counter(
    'oep_mqtt_sessions_lost_total',
    'Connections on which the broker did not resume the persistent session (CONNACK sessionPresent false): readings sent meanwhile may be lost',
    (e) => e.sessionsLost,
  );
}
