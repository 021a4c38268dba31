/**
 * Small, dependency-free SVG plots for the report: line, scatter, segment and range series on linear axes
 * with "nice" ticks, grid, axis labels with units, a legend, shaded x-bands (steps) and vertical markers
 * (alerts). The output is a self-contained `<svg>` string (no scripts, no external references).
 *
 * Structure, which the report test relies on: `<svg class="oep-plot" data-points="N">`, the data inside
 * `<g class="data">` (one `<g class="series">` per series with path / circle / rect elements), the bands in
 * `<g class="bands">`, the markers in `<g class="markers">`.
 */

import type { Pt, Series, Band, Marker, RefLine, PlotSpec } from './plot-spec.js';

export type { Pt, Series, Band, Marker, RefLine, PlotSpec } from './plot-spec.js';

export const PLOT_WIDTH = 760;
export const PLOT_HEIGHT = 280;
const M = { left: 70, right: 18, bottom: 46 };
/** Baseline of the title, and height of a legend row, px. */
const TITLE_Y = 18;
const LEGEND_ROW = 15;

const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}

const isNum = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

/** Steps of 1, 2, 2.5 or 5 × 10^k giving about `target` intervals over [min, max]; the ticks inside it. */
export function niceTicks(min: number, max: number, target = 6, integer = false): { ticks: number[]; step: number } {
  if (!(Number.isFinite(min) && Number.isFinite(max)) || max < min) return { ticks: [], step: 1 };
  if (max === min) return { ticks: [min], step: 1 };
  const raw = (max - min) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  let step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.ceil(min / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { ticks, step };
}

/** A tick label with as many decimals as the tick step needs. */
export function formatTick(v: number, step: number): string {
  // Float residue of a tick at zero prints as zero.
  if (Math.abs(v) < Math.abs(step) * 1e-6) v = 0;
  const abs = Math.abs(v);
  if (abs >= 1e6 || (step < 1e-4 && abs !== 0)) return v.toExponential(2);
  let decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  if (Math.abs(step / 10 ** Math.floor(Math.log10(step) + 1e-9) - 2.5) < 1e-9) decimals++;
  const s = v.toFixed(Math.min(decimals, 10));
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** A number for an SVG coordinate: one decimal (a tenth of a pixel). */
const c = (v: number): string => (Math.round(v * 10) / 10).toString();

interface Extent {
  min: number;
  max: number;
}
const grow = (e: Extent, v: number | undefined): void => {
  if (!isNum(v)) return;
  if (v < e.min) e.min = v;
  if (v > e.max) e.max = v;
};

/** Number of plotted data items (points, segments, ranges with finite values). */
export function seriesCount(s: Series): number {
  switch (s.type) {
    case 'line':
    case 'scatter':
      return s.points.filter((p) => Number.isFinite(p[0]) && isNum(p[1])).length;
    case 'segments':
      return s.segments.filter((g) => g.every(Number.isFinite)).length;
    case 'ranges':
      return s.ranges.filter((g) => g.every(Number.isFinite)).length;
  }
}

function extents(spec: PlotSpec): { x: Extent; y: Extent } {
  const x: Extent = { min: Infinity, max: -Infinity };
  const y: Extent = { min: Infinity, max: -Infinity };
  for (const s of spec.series) {
    if (s.type === 'line' || s.type === 'scatter') {
      for (const [px, py] of s.points) {
        if (!(Number.isFinite(px) && isNum(py))) continue;
        grow(x, px);
        grow(y, py);
      }
    } else if (s.type === 'segments') {
      for (const g of s.segments) {
        if (!g.every(Number.isFinite)) continue;
        grow(x, g[0]);
        grow(x, g[2]);
        grow(y, g[1]);
        grow(y, g[3]);
      }
    } else {
      for (const g of s.ranges) {
        if (!g.every(Number.isFinite)) continue;
        grow(x, g[0]);
        grow(x, g[1]);
        grow(y, g[2]);
        grow(y, g[3]);
      }
    }
  }
  if (x.min <= x.max) {
    for (const m of spec.markers ?? []) grow(x, m.x);
    for (const r of spec.refLines ?? []) grow(y, r.y);
  }
  return { x, y };
}

function padded(e: Extent, frac: number, pad = 0): Extent {
  if (e.min === e.max) {
    const d = pad > 0 ? pad : Math.max(Math.abs(e.min) * 0.05, 1e-3);
    return { min: e.min - d, max: e.max + d };
  }
  const d = pad > 0 ? pad : (e.max - e.min) * frac;
  return { min: e.min - d, max: e.max + d };
}

/** The plot area in px and the data → px mappings. */
interface Frame {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
  readonly sx: (v: number) => number;
  readonly sy: (v: number) => number;
  /** Id of the clip path of the plot area. */
  readonly clip: string;
}

/** Shaded x spans (steps). */
function bandsSvg(bands: readonly Band[], xd: Extent, f: Frame): string[] {
  if (bands.length === 0) return [];
  const { sx, y0, y1 } = f;
  const parts = [`<g class="bands" clip-path="url(#${escapeXml(f.clip)})">`];
  for (const b of bands) {
    if (!(Number.isFinite(b.x0) && Number.isFinite(b.x1))) continue;
    const a = sx(Math.max(b.x0, xd.min));
    const z = sx(Math.min(b.x1, xd.max));
    if (z <= a) continue;
    const rect = `<rect x="${c(a)}" y="${y1}" width="${c(Math.max(z - a, 0.5))}" height="${y0 - y1}" fill="${escapeXml(b.color)}" fill-opacity="${b.opacity ?? 0.3}"`;
    parts.push(b.label === undefined ? `${rect}/>` : `${rect} class="incident"><title>${escapeXml(b.label)}</title></rect>`);
  }
  parts.push('</g>');
  return parts;
}

/** Grid, frame, ticks and axis labels. */
function axesSvg(spec: PlotSpec, xd: Extent, yd: Extent, H: number, f: Frame): string[] {
  const { x0, x1, y0, y1, sx, sy } = f;
  const xt = niceTicks(xd.min, xd.max, Math.max(3, Math.round((x1 - x0) / 90)), spec.xInteger === true);
  const yt = niceTicks(yd.min, yd.max, Math.max(3, Math.round((y0 - y1) / 34)));
  const parts = ['<g class="grid">'];
  for (const v of xt.ticks) parts.push(`<line x1="${c(sx(v))}" y1="${y1}" x2="${c(sx(v))}" y2="${y0}"/>`);
  for (const v of yt.ticks) parts.push(`<line x1="${x0}" y1="${c(sy(v))}" x2="${x1}" y2="${c(sy(v))}"/>`);
  parts.push('</g>');
  parts.push('<g class="axes">');
  parts.push(`<rect class="frame" x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}"/>`);
  for (const v of xt.ticks) {
    parts.push(`<line x1="${c(sx(v))}" y1="${y0}" x2="${c(sx(v))}" y2="${y0 + 5}"/>`);
    parts.push(`<text class="tick" x="${c(sx(v))}" y="${y0 + 17}" text-anchor="middle">${escapeXml(formatTick(v, xt.step))}</text>`);
  }
  for (const v of yt.ticks) {
    parts.push(`<line x1="${x0 - 5}" y1="${c(sy(v))}" x2="${x0}" y2="${c(sy(v))}"/>`);
    parts.push(`<text class="tick" x="${x0 - 8}" y="${c(sy(v) + 4)}" text-anchor="end">${escapeXml(formatTick(v, yt.step))}</text>`);
  }
  parts.push(`<text class="axis-label" x="${c((x0 + x1) / 2)}" y="${H - 8}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  parts.push(`<text class="axis-label" transform="translate(16 ${c((y0 + y1) / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  parts.push('</g>');
  return parts;
}

/** Horizontal reference lines with their labels. */
function refLinesSvg(refLines: readonly RefLine[], f: Frame): string[] {
  if (refLines.length === 0) return [];
  const { x0, x1, sy } = f;
  const parts = ['<g class="refs">'];
  for (const r of refLines) {
    const y = c(sy(r.y));
    parts.push(`<line x1="${x0}" y1="${y}" x2="${x1}" y2="${y}" stroke="${escapeXml(r.color)}" stroke-dasharray="${escapeXml(r.dash ?? '5 4')}">`);
    if (r.label !== undefined) parts.push(`<title>${escapeXml(r.label)}</title>`);
    parts.push('</line>');
    if (r.label !== undefined)
      parts.push(`<text class="ref-label" x="${x1 - 4}" y="${c(sy(r.y) - 4)}" text-anchor="end" fill="${escapeXml(r.color)}">${escapeXml(r.label)}</text>`);
  }
  parts.push('</g>');
  return parts;
}

/** Vertical markers (alerts). */
function markersSvg(markers: readonly Marker[], f: Frame): string[] {
  if (markers.length === 0) return [];
  const { y0, y1, sx } = f;
  const parts = ['<g class="markers">'];
  for (const m of markers) {
    if (!Number.isFinite(m.x)) continue;
    const x = c(sx(m.x));
    const color = escapeXml(m.color);
    parts.push(`<g class="marker"><title>${escapeXml(m.label)}</title>`);
    parts.push(`<line x1="${x}" y1="${y1}" x2="${x}" y2="${y0}" stroke="${color}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
    parts.push(`<path d="M${x} ${y1}l-5 -8h10z" fill="${color}"/>`);
    parts.push('</g>');
  }
  parts.push('</g>');
  return parts;
}

/** Renders one plot as an `<svg>` string. */
export function renderPlot(spec: PlotSpec): string {
  const W = spec.width ?? PLOT_WIDTH;
  const H = spec.height ?? PLOT_HEIGHT;
  const x0 = M.left;
  const x1 = W - M.right;
  const leg = legend(spec, x0, x1, TITLE_Y + LEGEND_ROW + 3);
  const y0 = H - M.bottom;
  const y1 = TITLE_Y + LEGEND_ROW * Math.max(1, leg.rows) + 14;
  const total = spec.series.reduce((n, s) => n + seriesCount(s), 0);
  const id = spec.id.replace(/[^A-Za-z0-9_-]/g, '_');
  const parts: string[] = [];
  parts.push(
    `<svg class="oep-plot" id="${escapeXml(id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="${escapeXml(id)}-title" data-points="${total}">`,
  );
  parts.push(`<title id="${escapeXml(id)}-title">${escapeXml(spec.title)}</title>`);
  parts.push(`<text class="plot-title" x="${x0}" y="${TITLE_Y}">${escapeXml(spec.title)}</text>`);
  parts.push(leg.svg);

  const ext = extents(spec);
  if (total === 0 || !(ext.x.min <= ext.x.max) || !(ext.y.min <= ext.y.max)) {
    parts.push(`<rect class="frame" x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}"/>`);
    parts.push(`<text class="empty" x="${c((x0 + x1) / 2)}" y="${c((y0 + y1) / 2)}" text-anchor="middle">${escapeXml(spec.emptyText ?? 'no data')}</text>`);
    parts.push('</svg>');
    return parts.join('');
  }

  const xPad = spec.xPad ?? 0;
  const xd = ext.x.min === ext.x.max ? padded(ext.x, 0, Math.max(xPad, 1)) : { min: ext.x.min - xPad, max: ext.x.max + xPad };
  const yd = padded(ext.y, 0.06);
  const sx = (v: number): number => x0 + ((v - xd.min) / (xd.max - xd.min)) * (x1 - x0);
  const sy = (v: number): number => y0 - ((v - yd.min) / (yd.max - yd.min)) * (y0 - y1);
  const clip = `clip-${id}`;
  const f: Frame = { x0, x1, y0, y1, sx, sy, clip };
  parts.push(`<defs><clipPath id="${escapeXml(clip)}"><rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}"/></clipPath></defs>`);
  parts.push(...bandsSvg(spec.bands ?? [], xd, f)); // under everything
  parts.push(...axesSvg(spec, xd, yd, H, f));
  parts.push(...refLinesSvg(spec.refLines ?? [], f));
  parts.push(`<g class="data" clip-path="url(#${escapeXml(clip)})">`);
  for (const s of spec.series) parts.push(renderSeries(s, sx, sy));
  parts.push('</g>');
  parts.push(...markersSvg(spec.markers ?? [], f)); // on top
  parts.push('</svg>');
  return parts.join('');
}

function renderSeries(s: Series, sx: (v: number) => number, sy: (v: number) => number): string {
  const head = `<g class="series" data-name="${escapeXml(s.name)}" data-points="${seriesCount(s)}">`;
  const color = escapeXml(s.color);
  const out: string[] = [head];
  switch (s.type) {
    case 'line': {
      let d = '';
      let pen = false;
      for (const [x, y] of s.points) {
        if (!(Number.isFinite(x) && isNum(y))) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${c(sx(x))} ${c(sy(y))}`;
        pen = true;
      }
      if (d !== '') {
        out.push(
          `<path d="${d}" fill="none" stroke="${color}" stroke-width="${s.width ?? 1.6}" stroke-linejoin="round"${s.dash !== undefined ? ` stroke-dasharray="${escapeXml(s.dash)}"` : ''}/>`,
        );
      }
      if (s.markers === true) out.push(circles(s.points, s.name, color, 2.8, sx, sy));
      break;
    }
    case 'scatter':
      if (s.shape === 'cross') {
        const r = s.radius ?? 3.5;
        let d = '';
        for (const [x, y] of s.points) {
          if (!(Number.isFinite(x) && isNum(y))) continue;
          const px = sx(x);
          const py = sy(y);
          d += `M${c(px - r)} ${c(py - r)}L${c(px + r)} ${c(py + r)}M${c(px - r)} ${c(py + r)}L${c(px + r)} ${c(py - r)}`;
        }
        if (d !== '') out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
      } else {
        out.push(circles(s.points, s.name, color, s.radius ?? 2.8, sx, sy));
      }
      break;
    case 'segments': {
      let d = '';
      for (const [ax, ay, bx, by] of s.segments) {
        if (![ax, ay, bx, by].every(Number.isFinite)) continue;
        d += `M${c(sx(ax))} ${c(sy(ay))}L${c(sx(bx))} ${c(sy(by))}`;
      }
      if (d !== '') {
        out.push(
          `<path d="${d}" fill="none" stroke="${color}" stroke-width="${s.width ?? 2}"${s.dash !== undefined ? ` stroke-dasharray="${escapeXml(s.dash)}"` : ''}/>`,
        );
      }
      break;
    }
    case 'ranges':
      for (const [ax, bx, ay, by] of s.ranges) {
        if (![ax, ay, bx, by].every(Number.isFinite)) continue;
        const left = Math.min(sx(ax), sx(bx));
        const top = Math.min(sy(ay), sy(by));
        const w = Math.max(Math.abs(sx(bx) - sx(ax)), 1);
        const h = Math.max(Math.abs(sy(by) - sy(ay)), 1);
        out.push(`<rect x="${c(left)}" y="${c(top)}" width="${c(w)}" height="${c(h)}" fill="${color}" fill-opacity="${s.opacity ?? 0.35}"/>`);
      }
      break;
  }
  out.push('</g>');
  return out.join('');
}

function circles(points: readonly Pt[], name: string, color: string, r: number, sx: (v: number) => number, sy: (v: number) => number): string {
  let out = '';
  for (const [x, y] of points) {
    if (!(Number.isFinite(x) && isNum(y))) continue;
    out += `<circle cx="${c(sx(x))}" cy="${c(sy(y))}" r="${r}" fill="${color}"><title>${escapeXml(`${name}: ${fmtHover(x)}, ${fmtHover(y)}`)}</title></circle>`;
  }
  return out;
}

const fmtHover = (v: number): string => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1000 || Math.abs(v) < 0.01 ? v.toPrecision(4) : v.toFixed(3));

function legend(spec: PlotSpec, left: number, right: number, top: number): { svg: string; rows: number } {
  const items: { label: string; color: string; kind: 'line' | 'box' | 'dot' | 'cross' | 'marker'; dash?: string | undefined }[] = [];
  for (const s of spec.series) {
    if (s.hideInLegend === true || seriesCount(s) === 0) continue;
    const kind = s.type === 'ranges' ? 'box' : s.type === 'scatter' ? (s.shape === 'cross' ? 'cross' : 'dot') : 'line';
    items.push({ label: s.name, color: s.color, kind, dash: s.type === 'line' || s.type === 'segments' ? s.dash : undefined });
  }
  for (const b of spec.bandLegend ?? []) items.push({ label: b.label, color: b.color, kind: 'box' });
  const firstMarker = spec.markers?.[0];
  if (firstMarker !== undefined) {
    for (const m of spec.markerLegend ?? [{ label: 'alert', color: firstMarker.color }]) items.push({ label: m.label, color: m.color, kind: 'marker' });
  }
  if (items.length === 0) return { svg: '', rows: 0 };
  const out: string[] = ['<g class="legend">'];
  let cx = left;
  let y = top;
  let rows = 1;
  for (const it of items) {
    const w = 23 + it.label.length * 6.3 + 14;
    if (cx > left && cx + w - 14 > right) {
      cx = left;
      y += LEGEND_ROW;
      rows++;
    }
    const color = escapeXml(it.color);
    if (it.kind === 'line') {
      const dash = it.dash !== undefined ? ` stroke-dasharray="${escapeXml(it.dash)}"` : '';
      out.push(`<line x1="${cx}" y1="${y - 4}" x2="${cx + 18}" y2="${y - 4}" stroke="${color}" stroke-width="2"${dash}/>`);
    } else if (it.kind === 'cross') out.push(`<path d="M${cx + 5} ${y - 8}l8 8m-8 0l8 -8" stroke="${color}" stroke-width="1.5" fill="none"/>`);
    else if (it.kind === 'box') out.push(`<rect x="${cx}" y="${y - 10}" width="18" height="11" fill="${color}" fill-opacity="0.5"/>`);
    else if (it.kind === 'dot') out.push(`<circle cx="${cx + 9}" cy="${y - 4}" r="3.5" fill="${color}"/>`);
    else out.push(`<line x1="${cx + 9}" y1="${y - 11}" x2="${cx + 9}" y2="${y + 2}" stroke="${color}" stroke-width="1.5" stroke-dasharray="3 2"/>`);
    out.push(`<text x="${c(cx + 23)}" y="${y}">${escapeXml(it.label)}</text>`);
    cx += w;
  }
  out.push('</g>');
  return { svg: out.join(''), rows };
}
