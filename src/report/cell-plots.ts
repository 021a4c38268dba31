/**
 * The plots of the report's cell sections: pressure and current against time with the steps shaded, and the
 * per-cycle quantities against cycle number, each alert incident a shaded span; the colours they share with
 * the rest of the document. `html.ts` lays them out.
 */
import type { CellReportData, ReportCycle, ReportStep } from './data.js';
import { incidentCycleBands, incidentLegend, incidentsOf, incidentTimeBands } from './incidents.js';
import { renderPlot, type Band, type PlotSpec, type Pt, type RefLine, type Series } from './svg-plot.js';

export const COLORS = {
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
export const paletteColor = (k: number): string => PALETTE[k % PALETTE.length] ?? PALETTE[0];

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
export const levelColor = (level: string): string => LEVEL_COLORS[level] ?? '#6b7280';

export const UNIT_DDPQ = { mass: 'MPa·g/(A·h)', areal: 'MPa·cm²/(mA·h)' } as const;

export const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');
export const fmt = (v: number | undefined, digits: number): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

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
export function cycleAt(cell: CellReportData, t: number): number | undefined {
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

export const byCycle = (cycles: readonly ReportCycle[], f: (c: ReportCycle) => number | undefined): Pt[] => cycles.map((c) => [c.cycle, f(c)]);

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

export function cellPlots(cell: CellReportData, n: number): { plots: string[]; notes: string[] } {
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

export function lastComplete(cell: CellReportData): ReportCycle | undefined {
  return cell.cycles.findLast((c) => c.complete);
}
