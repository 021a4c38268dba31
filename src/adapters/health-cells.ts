/**
 * The cells' part of a /metrics scrape: one pass over the cells that sums the lab-wide aggregates (always
 * exported) and, while per-cell series are on, keeps one row per cell; and the text of the per-cell series,
 * written here directly in the Prometheus text format. prom-client hashes the labels of every sample it is
 * given (0.6 s and 4 MB a scrape at 10,000 cells, mostly that): a row per cell written straight out costs a
 * fraction of it. The names, labels and meanings are those of the README ("Health and metrics").
 */
import type { AlertCount, AlertState, HealthSource } from './health-source.js';
import type { EdgeHealth } from './health-edge.js';
import { LEVEL_CODE } from './line-protocol.js';

/** A cell is active while its newest reading is at most this old (event time against the clock), ms. */
export const ACTIVE_CELL_WINDOW_MS = 10 * 60_000;

/** `oep_alert_level` values: ok 0, warning 1, critical 2 (the line protocol's level codes; an unknown level counts as a warning). */
export const ALERT_LEVEL_VALUES: Readonly<Record<string, number>> = LEVEL_CODE;

/** One cell's numbers in a scrape, its id already escaped as a label value. */
export interface CellRow {
  readonly label: string;
  readonly accepted: number;
  readonly duplicate: number;
  readonly late: number;
  readonly bare: number;
  readonly steps: number;
  readonly cycles: number;
  readonly forcedReleases: number;
  readonly rejected: Readonly<Record<string, number>>;
  readonly watermark: number;
  readonly newestTs: number;
  readonly buffered: number;
}

/** Sums over every cell holding state. */
export interface LabTotals {
  cells: number;
  active: number;
  accepted: number;
  duplicate: number;
  late: number;
  bare: number;
  steps: number;
  cycles: number;
  forcedReleases: number;
  buffered: number;
  /** Largest watermark lag of a cell, s (undefined while no cell has a watermark). */
  lagMax_s: number | undefined;
  readonly rejected: Map<string, number>;
}

export interface CellsPass {
  readonly totals: LabTotals;
  /** One row per cell; undefined when per-cell series are off for this scrape. */
  readonly rows: CellRow[] | undefined;
}

/** Escapes a label value as the text format wants it (backslash, double quote, line feed). */
export function escapeLabel(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/** A sample value as Prometheus reads it (prom-client's spelling of the special values). */
export function sampleValue(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(v);
}

/** The watermark lag of a cell, s, or undefined before it has a watermark. */
function lag_s(watermark: number, newestTs: number): number | undefined {
  return Number.isFinite(watermark) && Number.isFinite(newestTs) ? Math.max(0, newestTs - watermark) / 1000 : undefined;
}

/**
 * One walk over the source's cells. Rows are kept while the count stays within `maxPerCell`; past it they
 * are dropped and no more are made (a lab over the bound pays for its sums only).
 */
export function passCells(source: HealthSource, maxPerCell: number, now: number): CellsPass {
  const totals: LabTotals = {
    cells: 0,
    active: 0,
    accepted: 0,
    duplicate: 0,
    late: 0,
    bare: 0,
    steps: 0,
    cycles: 0,
    forcedReleases: 0,
    buffered: 0,
    lagMax_s: undefined,
    rejected: new Map(),
  };
  let rows: CellRow[] | undefined = maxPerCell > 0 ? [] : undefined;
  for (const [id, h] of source.cells()) {
    const c = h.counters;
    const forced = h.forcedReleases ?? 0;
    totals.cells++;
    if (Number.isFinite(h.newestTs) && now - h.newestTs <= ACTIVE_CELL_WINDOW_MS) totals.active++;
    totals.accepted += c.accepted;
    totals.duplicate += c.duplicate;
    totals.late += c.late;
    totals.bare += c.bare;
    totals.steps += c.steps;
    totals.cycles += c.cycles;
    totals.forcedReleases += forced;
    totals.buffered += h.buffered;
    const lag = lag_s(h.watermark, h.newestTs);
    if (lag !== undefined && (totals.lagMax_s === undefined || lag > totals.lagMax_s)) totals.lagMax_s = lag;
    for (const reason in c.rejected) totals.rejected.set(reason, (totals.rejected.get(reason) ?? 0) + (c.rejected[reason] ?? 0));
    if (rows === undefined) continue;
    if (totals.cells > maxPerCell) {
      rows = undefined;
      continue;
    }
    rows.push({
      label: escapeLabel(id),
      accepted: c.accepted,
      duplicate: c.duplicate,
      late: c.late,
      bare: c.bare,
      steps: c.steps,
      cycles: c.cycles,
      forcedReleases: forced,
      rejected: { ...c.rejected },
      watermark: h.watermark,
      newestTs: h.newestTs,
      buffered: h.buffered,
    });
  }
  return { totals, rows };
}

/** What the per-cell text is written from: the rows, and the other cell-labelled numbers of the scrape. */
export interface PerCellInput {
  readonly rows: readonly CellRow[];
  readonly alerts: readonly AlertCount[] | undefined;
  readonly alertLevels: readonly AlertState[] | undefined;
  readonly gaps: EdgeHealth['gaps'] | undefined;
}

/** Appends one metric family: `# HELP`, `# TYPE`, then the samples (`labels` already written as `{…}`), then a blank line. */
class FamilyWriter {
  text = '';

  family(name: string, type: 'counter' | 'gauge', help: string, samples: readonly (readonly [labels: string, value: number])[]): void {
    let t = `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
    for (const [labels, v] of samples) t += `${name}${labels} ${sampleValue(v)}\n`;
    this.text += `${t}\n`;
  }

  /** One sample per row (none where `value` is undefined), labelled by the row's cell. */
  perRow(name: string, type: 'counter' | 'gauge', help: string, rows: readonly CellRow[], value: (r: CellRow) => number | undefined): void {
    let t = `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
    for (const r of rows) {
      const v = value(r);
      if (v !== undefined) t += `${name}{cell="${r.label}"} ${sampleValue(v)}\n`;
    }
    this.text += `${t}\n`;
  }
}

/** The cell-labelled families of one scrape, in the Prometheus text format (each family ends with a blank line). */
export function perCellText(input: PerCellInput): string {
  const { rows } = input;
  const w = new FamilyWriter();
  const counter = (name: string, help: string, value: (r: CellRow) => number): void => {
    w.perRow(name, 'counter', help, rows, value);
  };
  counter('oep_readings_accepted_total', 'Readings accepted into the cell (in event-time order, not duplicate, not late)', (r) => r.accepted);
  counter('oep_readings_duplicate_total', 'Exact duplicate readings dropped (QoS 1 redelivery: same channel, timestamp and value)', (r) => r.duplicate);
  counter('oep_readings_late_total', 'Readings that arrived behind the watermark (kept aside in oep_late / late.csv, not processed)', (r) => r.late);
  counter('oep_readings_bare_total', 'Bare-number payloads (stamped with their arrival time; also counted as accepted, duplicate or late)', (r) => r.bare);
  counter('oep_readings_forced_release_total', 'Readings released before the watermark because the cell hit alignment.maxBuffered', (r) => r.forcedReleases);
  counter('oep_steps_total', 'Steps closed (oep_step points)', (r) => r.steps);
  counter('oep_cycles_total', 'Cycles closed (oep_cycle points)', (r) => r.cycles);
  const rejected: (readonly [string, number])[] = [];
  for (const r of rows) for (const reason in r.rejected) rejected.push([`{cell="${r.label}",reason="${escapeLabel(reason)}"}`, r.rejected[reason] ?? 0]);
  w.family('oep_readings_rejected_total', 'counter', 'Messages or batch elements rejected at the edge, by reason (see the wire contract)', rejected);
  const gauge = (name: string, help: string, value: (r: CellRow) => number | undefined): void => {
    w.perRow(name, 'gauge', help, rows, value);
  };
  gauge('oep_watermark_lag_seconds', "Newest reading's event time minus the cell's watermark, s (absent until the cell has a watermark)", (r) =>
    lag_s(r.watermark, r.newestTs),
  );
  gauge('oep_newest_reading_timestamp_seconds', "Event time of the cell's newest reading, Unix s (time() minus it: how old the cell's data is)", (r) =>
    Number.isFinite(r.newestTs) ? r.newestTs / 1000 : undefined,
  );
  gauge('oep_readings_buffered', 'Readings buffered in the cell aligner, waiting for the watermark', (r) => r.buffered);
  alertAndGapText(w, input);
  return w.text;
}

function alertAndGapText(w: FamilyWriter, { alerts, alertLevels, gaps }: PerCellInput): void {
  if (alerts !== undefined) {
    const samples = alerts.map((a) => [`{cell="${escapeLabel(a.cell)}",kind="${escapeLabel(a.kind)}",level="${escapeLabel(a.level)}"}`, a.count] as const);
    w.family('oep_alerts_raised_total', 'counter', 'Alerts raised, by cell, kind and level', samples);
  }
  if (alertLevels !== undefined) {
    const samples = alertLevels.map((a) => [`{cell="${escapeLabel(a.cell)}",kind="${escapeLabel(a.kind)}"}`, ALERT_LEVEL_VALUES[a.level] ?? 1] as const);
    w.family('oep_alert_level', 'gauge', 'Current alert level of each kind evaluated for the cell: 0 ok, 1 warning, 2 critical', samples);
  }
  if (gaps !== undefined) {
    const labels = (g: EdgeHealth['gaps'][number]): string => `{cell="${escapeLabel(g.cell)}",channel="${escapeLabel(g.channel)}"}`;
    w.family(
      'oep_gaps_total',
      'counter',
      "Holes in a channel's event time longer than 3 of its sample intervals (and 1 s) while current flowed",
      gaps.map((g) => [labels(g), g.count] as const),
    );
    w.family(
      'oep_gap_missing_readings_total',
      'counter',
      'Readings estimated missing in those holes',
      gaps.map((g) => [labels(g), g.missing] as const),
    );
  }
}
