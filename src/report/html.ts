/**
 * The report document: one self-contained HTML file (inline CSS and SVG; no scripts, fonts or anything
 * fetched from elsewhere), with a lab overview and one section per cell: pressure and current against time
 * with the steps shaded, the per-cycle swing and Δ(ΔP), Δ(ΔP_Q), coulombic efficiency, drift and capacity
 * against cycle number, each alert incident as one shaded span on every plot, and the incidents and late
 * readings as tables.
 */
import { basename, resolve } from 'node:path';
import type { CellReportData, ReportCycle, ReportData, ReportStep } from './data.js';
import { incidentCounts, incidentCycleBands, incidentLegend, incidentsOf, incidentsTable, incidentTimeBands } from './incidents.js';
import { escapeXml as esc, renderPlot, type Band, type PlotSpec, type Pt, type RefLine, type Series } from './svg-plot.js';

export interface HtmlOptions {
  readonly title?: string;
  /** When the report was made (default: now), epoch ms. */
  readonly generatedAt?: number;
}

const COLORS = {
  pressure: '#1d4ed8',
  pMax: '#b91c1c',
  pMin: '#0e7490',
  current: '#b45309',
  late: '#7c3aed',
  charge: '#f59e0b',
  discharge: '#0ea5e9',
  swing: '#0f766e',
  ddp: '#9333ea',
  ddpQ: '#1d4ed8',
  ce: '#15803d',
  drift: '#be123c',
  qCharge: '#b45309',
  qDischarge: '#1d4ed8',
  ref: '#6b7280',
};

/** Cell colors for the overview plots. */
const PALETTE = ['#1d4ed8', '#dc2626', '#15803d', '#9333ea', '#ea580c', '#0891b2', '#a16207', '#db2777', '#4b5563', '#65a30d'] as const;
/** The k-th colour of the palette, cycling. */
const paletteColor = (k: number): string => PALETTE[k % PALETTE.length] ?? PALETTE[0];

const LEVEL_COLORS: Record<string, string> = {
  ok: '#15803d',
  critical: '#dc2626',
  alarm: '#dc2626',
  error: '#dc2626',
  high: '#dc2626',
  warning: '#d97706',
  warn: '#d97706',
  medium: '#d97706',
};
const levelColor = (level: string): string => LEVEL_COLORS[level] ?? '#6b7280';

const UNIT_DDPQ = { mass: 'MPa·g/(A·h)', areal: 'MPa·cm²/(mA·h)' } as const;

const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');
const fmt = (v: number | undefined, digits: number): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

/** The time axis of a cell: origin at its first step (or first record) and hours or days. */
interface TimeAxis {
  readonly origin: number;
  readonly unit: 'h' | 'd';
  readonly x: (t: number) => number;
  readonly label: string;
}

function timeAxis(cell: CellReportData): TimeAxis | undefined {
  const starts = [cell.steps[0]?.tStart, cell.cycles[0]?.tStart, cell.cycles[0]?.tEnd].filter((v): v is number => v !== undefined);
  if (starts.length === 0) return undefined;
  const origin = Math.min(...starts);
  const end = Math.max(origin, ...cell.steps.map((s) => s.tEnd), ...cell.cycles.map((c) => c.tEnd));
  const unit = end - origin > 72 * 3_600_000 ? 'd' : 'h';
  const div = unit === 'd' ? 86_400_000 : 3_600_000;
  return { origin, unit, x: (t) => (t - origin) / div, label: `time since ${iso(origin)}, ${unit}` };
}

/** Cycle number at an instant: the step containing it, else the cycle containing it, else the next one. */
function cycleAt(cell: CellReportData, t: number): number | undefined {
  for (const s of cell.steps) if (s.tStart <= t && t <= s.tEnd && s.cycle !== undefined) return s.cycle;
  const cyc = cell.cycles;
  for (const [k, c] of cyc.entries()) {
    const start = c.tStart ?? cyc[k - 1]?.tEnd ?? -Infinity;
    if (start <= t && t <= c.tEnd) return c.cycle;
  }
  const last = cyc[cyc.length - 1];
  if (last !== undefined && t > last.tEnd) return last.cycle + 1;
  const lastStep = cell.steps[cell.steps.length - 1];
  if (lastStep?.cycle !== undefined && t > lastStep.tEnd) return lastStep.cycle;
  return cyc[0]?.cycle;
}

/** The cell's incidents as shaded spans over time (an open one runs to the end of the data). */
function timeIncidentBands(cell: CellReportData, ax: TimeAxis): Band[] {
  const end = Math.max(...cell.steps.map((s) => s.tEnd), ...cell.cycles.map((c) => c.tEnd), ...cell.alerts.map((a) => a.time_ms));
  return incidentTimeBands(incidentsOf(cell), ax.x, end, levelColor);
}

function cycleIncidentBands(cell: CellReportData): Band[] {
  const last = Math.max(...cell.cycles.map((c) => c.cycle), ...cell.steps.map((s) => s.cycle ?? 0));
  return incidentCycleBands(incidentsOf(cell), (t) => cycleAt(cell, t), last, levelColor);
}

function stepBands(steps: readonly ReportStep[], ax: TimeAxis): Band[] {
  const bands: Band[] = [];
  for (const s of steps) {
    if (s.kind === 'charge') bands.push({ x0: ax.x(s.tStart), x1: ax.x(s.tEnd), color: COLORS.charge, opacity: 0.16 });
    else if (s.kind === 'discharge') bands.push({ x0: ax.x(s.tStart), x1: ax.x(s.tEnd), color: COLORS.discharge, opacity: 0.16 });
  }
  return bands;
}

/** Legend entries for the step kinds that are shaded and present. */
function bandLegend(steps: readonly ReportStep[]): { label: string; color: string }[] {
  const kinds = new Set(steps.map((s) => s.kind));
  const out: { label: string; color: string }[] = [];
  if (kinds.has('charge')) out.push({ label: 'charge step', color: COLORS.charge });
  if (kinds.has('discharge')) out.push({ label: 'discharge step', color: COLORS.discharge });
  return out;
}

function pressurePlot(cell: CellReportData, ax: TimeAxis, id: string): PlotSpec {
  const boundary: Pt[] = [];
  let prevEnd: number | undefined;
  for (const s of cell.steps) {
    // A gap between steps (data missing) breaks the line.
    if (prevEnd !== undefined && s.tStart - prevEnd > 1_000) boundary.push([ax.x(prevEnd), undefined]);
    boundary.push([ax.x(s.tStart), s.pStart_MPa], [ax.x(s.tEnd), s.pEnd_MPa]);
    prevEnd = s.tEnd;
  }
  // The extremes inside each step, as levels over the step: a charge step whose max sits above its end
  // point lost pressure while plating (the penetration signature).
  const level = (f: (s: ReportStep) => number | undefined): (readonly [number, number, number, number])[] =>
    cell.steps.flatMap((s) => {
      const v = f(s);
      return v === undefined ? [] : [[ax.x(s.tStart), v, ax.x(s.tEnd), v] as const];
    });
  const late: Pt[] = cell.late.filter((l) => l.channel === 'pressure').map((l) => [ax.x(l.ts), l.value]);
  const series: Series[] = [
    { type: 'segments', name: 'max P in step', color: COLORS.pMax, segments: level((s) => s.pMax_MPa), width: 1.3, dash: '4 2' },
    { type: 'segments', name: 'min P in step', color: COLORS.pMin, segments: level((s) => s.pMin_MPa), width: 1.3, dash: '4 2' },
    { type: 'line', name: 'P at step boundaries (p_start, p_end)', color: COLORS.pressure, points: boundary },
    { type: 'scatter', name: 'late readings (not processed)', color: COLORS.late, points: late, shape: 'cross' },
  ];
  return {
    id,
    title: 'Stack pressure',
    xLabel: ax.label,
    yLabel: 'pressure, MPa',
    series,
    bands: [...stepBands(cell.steps, ax), ...timeIncidentBands(cell, ax)],
    bandLegend: [...bandLegend(cell.steps), ...incidentLegend(incidentsOf(cell), levelColor)],
  };
}

function currentPlot(cell: CellReportData, ax: TimeAxis, id: string): PlotSpec {
  const segments = cell.steps.flatMap((s) => (s.iMean_mA === undefined ? [] : [[ax.x(s.tStart), s.iMean_mA, ax.x(s.tEnd), s.iMean_mA] as const]));
  const late: Pt[] = cell.late.filter((l) => l.channel === 'current').map((l) => [ax.x(l.ts), l.value]);
  return {
    id,
    title: 'Current (mean per step; positive = charge)',
    xLabel: ax.label,
    yLabel: 'current, mA',
    series: [
      { type: 'segments', name: 'mean current of the step', color: COLORS.current, segments },
      { type: 'scatter', name: 'late readings (not processed)', color: COLORS.late, points: late, shape: 'cross' },
    ],
    bands: [...stepBands(cell.steps, ax), ...timeIncidentBands(cell, ax)],
    bandLegend: [...bandLegend(cell.steps), ...incidentLegend(incidentsOf(cell), levelColor)],
    refLines: [{ y: 0, color: COLORS.ref, dash: '2 3' }],
  };
}

const byCycle = (cycles: readonly ReportCycle[], f: (c: ReportCycle) => number | undefined): Pt[] => cycles.map((c) => [c.cycle, f(c)]);

function cyclePlot(
  cell: CellReportData,
  cycles: readonly ReportCycle[],
  id: string,
  title: string,
  yLabel: string,
  series: Series[],
  refLines: RefLine[] = [],
): PlotSpec {
  return {
    id,
    title,
    xLabel: 'cycle',
    yLabel,
    series,
    xInteger: true,
    xPad: 0.5,
    bands: cycleIncidentBands(cell),
    bandLegend: incidentLegend(incidentsOf(cell), levelColor),
    refLines,
    emptyText: cycles.length === 0 ? 'no complete cycle yet' : 'no data',
  };
}

/** The reference cycle of the drift: the one whose drift is exactly 0. */
function referenceCycle(cycles: readonly ReportCycle[]): ReportCycle | undefined {
  return cycles.find((c) => c.drift === 0 && c.ddpQ !== undefined);
}

function cellPlots(cell: CellReportData, n: number): { plots: string[]; notes: string[] } {
  const notes: string[] = [];
  const plots: string[] = [];
  const id = (k: string): string => `c${n}-${k}`;
  const ax = timeAxis(cell);
  if (ax !== undefined) {
    plots.push(renderPlot(pressurePlot(cell, ax, id('pressure'))));
    plots.push(renderPlot(currentPlot(cell, ax, id('current'))));
  } else {
    notes.push('No steps: nothing to plot against time.');
  }
  const complete = cell.cycles.filter((c) => c.complete);
  const incomplete = cell.cycles.length - complete.length;
  if (incomplete > 0) notes.push(`${incomplete} incomplete cycle${incomplete > 1 ? 's' : ''} (cut short by the end of the data) not plotted.`);
  const norm = cell.normalization ?? 'mass';
  const unit = UNIT_DDPQ[norm];
  const ref = referenceCycle(complete);
  plots.push(
    renderPlot(
      cyclePlot(cell, complete, id('swing'), 'Pressure swing per cycle', 'pressure, MPa', [
        { type: 'line', name: 'swing = max P − min P', color: COLORS.swing, points: byCycle(complete, (c) => c.swing_MPa), markers: true },
        {
          type: 'line',
          name: 'Δ(ΔP) = P(end of charge) − P(end of discharge)',
          color: COLORS.ddp,
          points: byCycle(complete, (c) => c.ddp_MPa),
          markers: true,
          dash: '5 3',
        },
      ]),
    ),
  );
  plots.push(
    renderPlot(
      cyclePlot(
        cell,
        complete,
        id('ddpq'),
        'Capacity-normalized swing Δ(ΔP_Q)',
        `Δ(ΔP_Q), ${unit}`,
        [{ type: 'line', name: 'Δ(ΔP_Q)', color: COLORS.ddpQ, points: byCycle(complete, (c) => c.ddpQ), markers: true }],
        ref?.ddpQ !== undefined ? [{ y: ref.ddpQ, color: COLORS.ref, label: `reference: cycle ${ref.cycle}` }] : [],
      ),
    ),
  );
  plots.push(
    renderPlot(
      cyclePlot(cell, complete, id('ce'), 'Coulombic efficiency', 'CE = Q_discharge / Q_charge, %', [
        { type: 'line', name: 'CE', color: COLORS.ce, points: byCycle(complete, (c) => (c.ce === undefined ? undefined : c.ce * 100)), markers: true },
      ]),
    ),
  );
  plots.push(
    renderPlot(
      cyclePlot(
        cell,
        complete,
        id('drift'),
        `Drift of Δ(ΔP_Q) against the reference cycle${ref !== undefined ? ` (${ref.cycle})` : ''}; falling = penetrating Li`,
        `drift, ${unit}`,
        [{ type: 'line', name: 'drift', color: COLORS.drift, points: byCycle(complete, (c) => c.drift), markers: true }],
        [{ y: 0, color: COLORS.ref }],
      ),
    ),
  );
  plots.push(
    renderPlot(
      cyclePlot(cell, complete, id('capacity'), 'Capacity per cycle', 'capacity, mAh', [
        { type: 'line', name: 'Q charge', color: COLORS.qCharge, points: byCycle(complete, (c) => c.qCharge_mAh), markers: true },
        { type: 'line', name: 'Q discharge', color: COLORS.qDischarge, points: byCycle(complete, (c) => c.qDischarge_mAh), markers: true, dash: '5 3' },
      ]),
    ),
  );
  return { plots, notes };
}

function lastComplete(cell: CellReportData): ReportCycle | undefined {
  return cell.cycles.findLast((c) => c.complete);
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
