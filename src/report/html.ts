/**
 * The report document: one self-contained HTML file (inline CSS and SVG; no scripts, fonts or anything
 * fetched from elsewhere), with a lab overview and one section per cell: pressure and current against time
 * with the steps shaded, the per-cycle swing and Δ(ΔP), Δ(ΔP_Q), coulombic efficiency, drift and capacity
 * against cycle number, each alert incident as one shaded span on every plot, and the incidents and late
 * readings as tables.
 */
import { basename, resolve } from 'node:path';
import type { CellReportData, ReportCycle, ReportData } from './data.js';
import { byCycle, cellPlots, COLORS, cycleAt, fmt, iso, lastComplete, levelColor, paletteColor, UNIT_DDPQ } from './cell-plots.js';
import { incidentCounts, incidentsTable } from './incidents.js';
import { escapeXml as esc, renderPlot, type Series } from './svg-plot.js';

export interface HtmlOptions {
  readonly title?: string;
  /** When the report was made (default: now), epoch ms. */
  readonly generatedAt?: number;
}

const cellAnchor = (n: number): string => `cell-${n}`;

function overview(data: ReportData): string {
  const rows = data.cells.map((cell, n) => {
    const last = lastComplete(cell);
    const unit = cell.normalization !== undefined ? UNIT_DDPQ[cell.normalization] : '';
    return `<tr><td><a href="#${cellAnchor(n)}">${esc(cell.id)}</a></td><td>${cell.cycles.filter((c) => c.complete).length}</td><td>${cell.steps.length}</td>
<td>${last?.cycle ?? '—'}</td><td>${fmt(last?.swing_MPa, 3)}</td><td>${fmt(last?.ddpQ, 2)} <span class="unit">${esc(unit)}</span></td><td>${fmt(last?.drift, 2)}</td>
<td>${last?.ce !== undefined ? fmt(last.ce * 100, 2) + ' %' : '—'}</td><td>${cell.late.length}</td><td>${incidentCounts(cell, levelColor)}</td></tr>`;
  });
  const table = `<table class="summary"><thead><tr><th>cell</th><th>complete cycles</th><th>steps</th><th>last cycle</th><th>swing, MPa</th><th>Δ(ΔP_Q)</th><th>drift</th><th>CE</th><th>late readings</th><th>incidents</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;

  // Lab-wide trends: every cell on one plot (mass-normalized cells, or areal ones if none is).
  const norm: 'mass' | 'areal' = data.cells.some((c) => c.normalization === 'mass') ? 'mass' : 'areal';
  const cells = data.cells.filter((c) => (c.normalization ?? norm) === norm);
  const lines = (f: (c: ReportCycle) => number | undefined): Series[] =>
    cells.map((cell, k) => ({
      type: 'line',
      name: cell.id,
      color: paletteColor(k),
      points: byCycle(
        cell.cycles.filter((c) => c.complete),
        f,
      ),
      markers: true,
    }));
  const plots = [
    renderPlot({
      id: 'lab-ddpq',
      title: 'Δ(ΔP_Q) of every cell',
      xLabel: 'cycle',
      yLabel: `Δ(ΔP_Q), ${UNIT_DDPQ[norm]}`,
      series: lines((c) => c.ddpQ),
      xInteger: true,
      xPad: 0.5,
      emptyText: 'no complete cycle yet',
    }),
    renderPlot({
      id: 'lab-drift',
      title: 'Drift of every cell',
      xLabel: 'cycle',
      yLabel: `drift, ${UNIT_DDPQ[norm]}`,
      series: lines((c) => c.drift),
      xInteger: true,
      xPad: 0.5,
      refLines: [{ y: 0, color: COLORS.ref }],
      emptyText: 'no complete cycle yet',
    }),
  ];
  const skipped = data.cells.length - cells.length;
  const note =
    skipped > 0
      ? `<p class="note">${skipped} cell(s) with ${norm === 'mass' ? 'areal' : 'mass'} normalization are not on these two plots (different unit).</p>`
      : '';
  return `<section id="overview"><h2>Lab overview</h2>${table}<div class="plots">${plots.map((p) => `<figure>${p}</figure>`).join('')}</div>${note}</section>`;
}

function lateTable(cell: CellReportData): string {
  if (cell.late.length === 0) return '';
  const by = new Map<string, { n: number; maxBehind: number; first: number; last: number }>();
  for (const l of cell.late) {
    const e = by.get(l.channel) ?? { n: 0, maxBehind: 0, first: l.ts, last: l.ts };
    e.n++;
    e.maxBehind = Math.max(e.maxBehind, l.behind_ms ?? 0);
    e.first = Math.min(e.first, l.ts);
    e.last = Math.max(e.last, l.ts);
    by.set(l.channel, e);
  }
  const rows = [...by].map(
    ([ch, e]) => `<tr><td>${esc(ch)}</td><td>${e.n}</td><td>${esc(iso(e.first))} … ${esc(iso(e.last))}</td><td>${fmt(e.maxBehind / 1000, 1)}</td></tr>`,
  );
  return `<h3>Late readings (${cell.late.length}; kept aside in late.csv, not in the metrics)</h3><table class="late"><thead><tr><th>channel</th><th>readings</th><th>event time (UTC)</th><th>most behind the watermark, s</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function cellSection(cell: CellReportData, n: number): string {
  const { plots, notes } = cellPlots(cell, n);
  const last = lastComplete(cell);
  const [firstStep, lastStep] = [cell.steps[0], cell.steps.at(-1)];
  const span = firstStep !== undefined && lastStep !== undefined ? `${iso(firstStep.tStart)} – ${iso(lastStep.tEnd)}` : '';
  const facts = [
    `${cell.cycles.filter((c) => c.complete).length} complete cycles`,
    `${cell.steps.length} steps`,
    span,
    last !== undefined
      ? `last cycle ${last.cycle}: Δ(ΔP_Q) ${fmt(last.ddpQ, 2)}, drift ${fmt(last.drift, 2)}, CE ${last.ce !== undefined ? fmt(last.ce * 100, 2) + ' %' : '—'}`
      : '',
  ].filter((s) => s !== '');
  return `<section class="cell" id="${cellAnchor(n)}" data-cell="${esc(cell.id)}"><h2>Cell ${esc(cell.id)}</h2><p class="facts">${esc(facts.join(' · '))}</p>
${notes.map((t) => `<p class="note">${esc(t)}</p>`).join('')}
<div class="plots">${plots.map((p) => `<figure>${p}</figure>`).join('')}</div>
${incidentsTable(cell, (t) => cycleAt(cell, t), levelColor)}${lateTable(cell)}</section>`;
}

const CSS = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 0; color: #111827; background: #f9fafb; }
header { background: #111827; color: #f9fafb; padding: 16px 24px; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 2px 0; font-size: 13px; color: #d1d5db; }
nav { padding: 8px 24px; background: #e5e7eb; font-size: 13px; }
nav a { margin-right: 12px; color: #1d4ed8; text-decoration: none; }
main { padding: 8px 24px 32px; }
section { margin-top: 18px; padding-top: 4px; border-top: 1px solid #d1d5db; }
h2 { font-size: 18px; margin: 10px 0 4px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
p.facts { margin: 2px 0 8px; font-size: 13px; color: #374151; }
p.note { margin: 4px 0; font-size: 12px; color: #92400e; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px; }
figure { margin: 0; background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 6px; }
svg.oep-plot { width: 100%; height: auto; display: block; font-size: 11px; }
svg.oep-plot .plot-title { font-size: 13px; font-weight: 600; fill: #111827; }
svg.oep-plot .legend text { font-size: 11px; fill: #374151; }
svg.oep-plot .grid line { stroke: #e5e7eb; stroke-width: 1; }
svg.oep-plot .axes line { stroke: #6b7280; }
svg.oep-plot .frame { fill: none; stroke: #9ca3af; }
svg.oep-plot .tick { fill: #4b5563; font-size: 10.5px; }
svg.oep-plot .axis-label { fill: #111827; font-size: 11.5px; }
svg.oep-plot .ref-label { font-size: 10px; }
svg.oep-plot .empty { fill: #9ca3af; font-size: 13px; }
table { border-collapse: collapse; font-size: 12.5px; background: #fff; margin: 6px 0; }
th, td { border: 1px solid #e5e7eb; padding: 3px 8px; text-align: right; }
th { background: #f3f4f6; }
td:first-child, th:first-child, table.alerts td, table.late td, table.alerts th, table.late th { text-align: left; }
table.alerts td:first-child, table.alerts td:nth-child(3), table.late td:nth-child(3) { white-space: nowrap; }
.unit { color: #6b7280; font-size: 11px; }
.lvl { font-weight: 600; }
footer { padding: 12px 24px; font-size: 12px; color: #6b7280; }
@media print { nav { display: none; } .plots { grid-template-columns: 1fr; } figure { break-inside: avoid; } }
`;

/** The whole report as one HTML string. */
export function renderReportHtml(data: ReportData, opts: HtmlOptions = {}): string {
  const generatedAt = opts.generatedAt ?? Date.now();
  const title = opts.title ?? `oep report: ${basename(resolve(data.dir))}`;
  const nSteps = data.cells.reduce((n, c) => n + c.steps.length, 0);
  const nCycles = data.cells.reduce((n, c) => n + c.cycles.filter((y) => y.complete).length, 0);
  const nav = [`<a href="#overview">overview</a>`, ...data.cells.map((c, n) => `<a href="#${cellAnchor(n)}">${esc(c.id)}</a>`)].join('');
  const files = Object.entries(data.files)
    .map(([f, n]) => `${esc(f)} (${n} rows)`)
    .join(', ');
  const body =
    data.cells.length === 0
      ? '<p class="note">The folder has no step or cycle yet.</p>'
      : overview(data) + data.cells.map((c, n) => cellSection(c, n)).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${esc(title)}</h1>
<p>Operando electrochemical pressiometry: ${data.cells.length} cells, ${nCycles} complete cycles, ${nSteps} steps. Source: ${esc(resolve(data.dir))}. Generated ${esc(iso(generatedAt))}.</p>
<p>Δ(ΔP) = P(end of charge) − P(end of discharge); Δ(ΔP_Q) = Δ(ΔP) per discharge capacity; a falling Δ(ΔP_Q) (negative drift) is the signature of Li growing into the electrolyte. Times in UTC.</p></header>
<nav>${nav}</nav>
<main>
${body}
</main>
<footer>Read: ${files}${data.skipped > 0 ? `; ${data.skipped} unreadable rows skipped` : ''}. Made by <code>oep report</code>; self-contained, works offline.</footer>
</body>
</html>
`;
}
