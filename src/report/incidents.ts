/**
 * The report's incidents: alerts.csv rows grouped into incidents (by the `incident` column; in files from
 * before incidents, a raised row opens one per kind and the next `ok` of that kind closes it), each drawn
 * as one shaded span over its time or cycles, and listed in one table per cell.
 */
import type { CellReportData } from './data.js';
import { escapeXml as esc, type Band } from './svg-plot.js';

export interface ReportIncident {
  readonly id: string;
  readonly kind: string;
  /** The highest level reached. */
  readonly level: string;
  readonly start_ms: number;
  /** When it resolved; undefined while open. */
  readonly end_ms: number | undefined;
  readonly recurrences: number | undefined;
  readonly peak: number | undefined;
  readonly unit: string;
  /** The message that opened it. */
  readonly message: string;
}

const RANK: Readonly<Record<string, number>> = { ok: 0, warning: 1, critical: 2 };
const rank = (l: string): number => RANK[l] ?? 1;

interface Draft {
  id: string;
  kind: string;
  level: string;
  start_ms: number;
  end_ms: number | undefined;
  recurrences: number | undefined;
  peak: number | undefined;
  unit: string;
  message: string;
}

/** The incidents of a cell, in the order they opened. */
export function incidentsOf(cell: CellReportData): ReportIncident[] {
  const all: Draft[] = [];
  const byId = new Map<string, Draft>();
  /** Open incidents by kind, for rows without an incident id. */
  const openByKind = new Map<string, Draft>();
  for (const a of cell.alerts) {
    const key = a.incident !== '' ? a.incident : undefined;
    let d = key !== undefined ? byId.get(key) : openByKind.get(a.kind);
    if (d === undefined) {
      if (a.level === 'ok') continue; // a clear with nothing open
      d = {
        id: key ?? `${a.cell}:${a.kind}:${String(a.time_ms)}`,
        kind: a.kind,
        level: a.level,
        start_ms: a.time_ms,
        end_ms: undefined,
        recurrences: a.recurrences,
        peak: a.peak,
        unit: a.unit,
        message: a.message,
      };
      all.push(d);
      if (key !== undefined) byId.set(key, d);
      else openByKind.set(a.kind, d);
      continue;
    }
    if (a.recurrences !== undefined) d.recurrences = a.recurrences;
    if (a.peak !== undefined) d.peak = a.peak;
    if (a.level === 'ok') {
      d.end_ms = a.time_ms;
      if (key === undefined) openByKind.delete(a.kind);
    } else if (rank(a.level) > rank(d.level)) d.level = a.level;
  }
  return all;
}

/** One band per incident over time (x through `x`); an open incident runs to `end_ms`. */
export function incidentTimeBands(incidents: readonly ReportIncident[], x: (t: number) => number, end_ms: number, color: (level: string) => string): Band[] {
  return incidents.map((i) => ({
    x0: x(i.start_ms),
    x1: x(Math.max(i.end_ms ?? end_ms, i.start_ms)),
    color: color(i.level),
    opacity: 0.22,
    label: label(i),
  }));
}

/** One band per incident over cycle numbers (`cycleAt` maps an instant to its cycle); an open one runs to `lastCycle`. */
export function incidentCycleBands(
  incidents: readonly ReportIncident[],
  cycleAt: (t: number) => number | undefined,
  lastCycle: number,
  color: (level: string) => string,
): Band[] {
  const out: Band[] = [];
  for (const i of incidents) {
    const c0 = cycleAt(i.start_ms);
    if (c0 === undefined) continue;
    const c1 = i.end_ms !== undefined ? (cycleAt(i.end_ms) ?? lastCycle) : lastCycle;
    out.push({ x0: c0 - 0.5, x1: Math.max(c0, c1) + 0.5, color: color(i.level), opacity: 0.22, label: label(i) });
  }
  return out;
}

/** Legend entries for the incident levels present. */
export function incidentLegend(incidents: readonly ReportIncident[], color: (level: string) => string): { label: string; color: string }[] {
  return [...new Set(incidents.map((i) => i.level))].map((l) => ({ label: `incident: ${l || 'unspecified'}`, color: color(l) }));
}

const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');

function label(i: ReportIncident): string {
  const until = i.end_ms !== undefined ? ` to ${iso(i.end_ms)}` : ', still open';
  return `${i.level} ${i.kind} from ${iso(i.start_ms)}${until}${i.recurrences !== undefined ? `, ${String(i.recurrences)} recurrences` : ''}: ${i.message}`;
}

/** The incidents of a cell as a table (empty when it has none). */
export function incidentsTable(cell: CellReportData, cycleAt: (t: number) => number | undefined, color: (level: string) => string): string {
  const incidents = incidentsOf(cell);
  if (incidents.length === 0) return '';
  const rows = incidents.map((i) => {
    const end = i.end_ms !== undefined ? `${esc(iso(i.end_ms))} (cycle ${String(cycleAt(i.end_ms) ?? '—')})` : 'open';
    const peak = i.peak !== undefined ? `${i.peak.toPrecision(3)} ${esc(i.unit)}` : '—';
    return `<tr><td><span class="lvl" style="color:${color(i.level)}">${esc(i.level)}</span></td><td>${esc(i.kind)}</td><td>${esc(iso(i.start_ms))} (cycle ${String(cycleAt(i.start_ms) ?? '—')})</td><td>${end}</td><td>${i.recurrences ?? '—'}</td><td>${peak}</td><td>${esc(i.message)}</td></tr>`;
  });
  const open = incidents.filter((i) => i.end_ms === undefined).length;
  return `<h3>Incidents (${incidents.length}, ${open} open)</h3><table class="alerts"><thead><tr><th>level</th><th>kind</th><th>opened (UTC)</th><th>resolved</th><th>recurrences</th><th>peak</th><th>message</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Incidents by level, for the overview. */
export function incidentCounts(cell: CellReportData, color: (level: string) => string): string {
  const incidents = incidentsOf(cell);
  if (incidents.length === 0) return '0';
  const by = new Map<string, number>();
  for (const i of incidents) by.set(i.level, (by.get(i.level) ?? 0) + 1);
  return [...by].map(([l, n]) => `<span class="lvl" style="color:${color(l)}">${String(n)} ${esc(l || 'unspecified')}</span>`).join(', ');
}
