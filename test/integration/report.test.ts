/**
 * `oep report` end to end: simulated NCM|LPSCl|Li cells (the demo's lab: a healthy MgF2 cell, a LiF cell that
 * grows Li into the electrolyte from cycle 8, a Mg cell with skewed clocks) go through the real pipeline
 * (wire payloads → parseMessages → processInLab, alert detectors included) into the real FileSink, with a few
 * late readings; the report is made by the CLI command, opened in headless Chromium (Debian's `chromium`,
 * driven by playwright-core), screenshotted, and every plot is checked in the DOM: it rendered, with data,
 * with finite coordinates inside the plot, and nothing was fetched from anywhere.
 */
import { accessSync, appendFileSync, constants as fsConstants, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessages, processInLab } from '../../pipelines/operators.js';
import type { RawMessage } from '../../src/adapters/mqtt.js';
import { FileSink } from '../../src/adapters/file-sink.js';
import { command as reportCommand } from '../../src/commands/report.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import { parseCsv } from '../../src/adapters/csv.js';
import { demoCells } from '../../src/sim/scenarios.js';
import { simulateCells } from '../../src/sim/simulator.js';
import { ALERT_CSV_HEADER } from '../../src/adapters/file-sink.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CYCLES = 11;
const START = Date.UTC(2026, 0, 5, 8, 0, 0);
/** Simulated time between two publishes (one message per topic), ms. */
const TICK_MS = 10_000;
const PLOTS_PER_CELL = ['pressure', 'current', 'swing', 'ddpq', 'ce', 'drift', 'capacity'];

function requireChromium(): void {
  try {
    accessSync(CHROMIUM, fsConstants.X_OK);
  } catch {
    throw new Error(
      `The report test needs Chromium at ${CHROMIUM} (or CHROMIUM_BIN). Install the Debian package: ` +
        '`apt-get install -y chromium` (or run `node scripts/ensure-services.mjs` as root, which `npm test` does).',
    );
  }
}

/** Runs the simulated lab through the pipeline into a FileSink under `dir`; returns the cells' ids. */
async function generateOutput(dir: string): Promise<string[]> {
  // Slower devices than the demo's (pressure 0.5 Hz, current 0.2 Hz, no voltage): the same cycles, fewer readings.
  const specs = demoCells(3).map((s) => ({ ...s, pressureRate_Hz: 0.5, currentRate_Hz: 0.2, voltageRate_Hz: 0 }));
  const config = parseConfig({
    alignment: { maxFutureSkew_ms: 0 },
    defaults: { formationCycles: 3 },
    cells: specs.map((s) => ({ id: s.id, activeMassG: s.activeMass_g, areaMm2: s.area_mm2, nominalCurrent_mA: s.nominalCapacity_mAh * 0.1 })),
  });
  const lab = new Lab((id) => resolveCell(config, id));
  const sink = new FileSink(dir);
  const messages = new Subject<RawMessage>();
  const sub = messages
    .pipe(parseMessages({ topicPrefix: 'oep', settingsFor: (id) => resolveCell(config, id).ingest, maxFutureSkew_ms: 0 }), processInLab(lab))
    .subscribe((events) => {
      sink.write(events);
    });
  const lateCell = specs[0]!.id;
  let windowEnd = START + TICK_MS;
  let lateInjected = false;
  const batches = new Map<string, { ts: number; value: number; unit: string }[]>();
  const publish = (arrival: number): void => {
    for (const [topic, b] of batches) messages.next({ topic, payload: Buffer.from(JSON.stringify(b)), arrival });
    batches.clear();
  };
  for (const r of simulateCells(specs, { startTs: START, seed: 7, cycles: CYCLES })) {
    while (r.ts >= windowEnd) {
      publish(windowEnd);
      windowEnd += TICK_MS;
      // 40 h in: a load cell flushes five readings from two hours ago (behind the watermark: late, kept aside).
      if (!lateInjected && windowEnd - START > 40 * 3_600_000) {
        lateInjected = true;
        const back = windowEnd - 2 * 3_600_000;
        const late = [0, 1, 2, 3, 4].map((k) => ({ ts: back + k * 60_000 + 137, value: 15.2 + k * 0.01, unit: 'MPa' }));
        messages.next({ topic: `oep/${lateCell}/pressure`, payload: Buffer.from(JSON.stringify(late)), arrival: windowEnd });
      }
    }
    const topic = `oep/${r.cell}/${r.channel}`;
    let b = batches.get(topic);
    if (b === undefined) batches.set(topic, (b = []));
    b.push({ ts: r.ts, value: r.value, unit: r.unit });
  }
  publish(windowEnd);
  const events: LabEvent[] = [];
  lab.finish(events);
  sink.write(events);
  sub.unsubscribe();
  await sink.close();
  return specs.map((s) => s.id);
}

/**
 * The detectors wrote their incident events to alerts.csv; one more incident, written by hand on the healthy
 * cell (with a comma and quotes in the message), makes sure there is a span to check even if the detectors'
 * tuning changes. Returns the number of incidents per cell, read back from the file.
 */
function addAlert(dir: string, cells: string[]): Map<string, number> {
  const path = join(dir, 'alerts.csv');
  const cycles = parseCsv(readFileSync(join(dir, 'cycles.csv'), 'utf8')).rows;
  const healthy = cells[0]!;
  const t = Number(cycles.find((r) => r.cell === healthy && r.cycle === '5')!.time_ms) - 1_800_000;
  expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(ALERT_CSV_HEADER);
  appendFileSync(
    path,
    `${t},${healthy},silence,warning,ok,660,600,s,"no pressure for 11 min, ""load cell unplugged""",${healthy}:silence:${t},open,5,5,5,,0,660,0\n`,
  );
  const incidents = new Map<string, Set<string>>();
  for (const r of parseCsv(readFileSync(path, 'utf8')).rows) incidents.set(r.cell!, (incidents.get(r.cell!) ?? new Set()).add(r.incident!));
  return new Map([...incidents].map(([cell, ids]) => [cell, ids.size]));
}

interface PlotCheck {
  id: string;
  section: string | undefined;
  points: number;
  elements: number;
  numbers: number;
  finite: boolean;
  inside: boolean;
  dataArea: number;
  width: number;
  markers: number;
  incidents: number;
  series: Record<string, number>;
}

/**
 * Runs in the page (a string: the project's TypeScript has no DOM types): for each plot, the data elements and
 * their coordinates, the rendered size, the bounding box of the data, the alert markers and each series' count.
 */
const PLOT_CHECKS_IN_PAGE = `[...document.querySelectorAll('svg.oep-plot')].map((svg) => {
  const vb = svg.viewBox.baseVal;
  const els = [...svg.querySelectorAll('g.data path, g.data circle, g.data rect')];
  const nums = [];
  let text = '';
  for (const el of els) {
    if (el.tagName === 'path') {
      const d = el.getAttribute('d') || '';
      text += d;
      for (const m of d.match(/-?\\d+(?:\\.\\d+)?(?:e-?\\d+)?/g) || []) nums.push(Number(m));
    } else {
      for (const a of el.tagName === 'circle' ? ['cx', 'cy', 'r'] : ['x', 'y', 'width', 'height']) {
        const v = el.getAttribute(a) || 'missing';
        text += v;
        nums.push(Number(v));
      }
    }
  }
  const data = svg.querySelector('g.data');
  const box = data ? data.getBBox() : undefined;
  const series = {};
  for (const g of svg.querySelectorAll('g.series')) series[g.dataset.name || ''] = Number(g.dataset.points);
  const section = svg.closest('section');
  return {
    id: svg.id,
    section: section ? section.id : undefined,
    points: Number(svg.dataset.points),
    elements: els.length,
    numbers: nums.length,
    finite: nums.every(Number.isFinite) && !/NaN|Infinity|undefined/.test(text),
    inside: nums.every((v) => v >= -1 && v <= Math.max(vb.width, vb.height) + 1),
    dataArea: box ? box.width * box.height : 0,
    width: svg.getBoundingClientRect().width,
    markers: svg.querySelectorAll('g.markers g.marker').length,
    incidents: svg.querySelectorAll('g.bands rect.incident').length,
    series,
  };
})`;

describe('oep report: output folder → one self-contained HTML file, checked in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oep-report-'));
  const outFile = join(dir, 'lab-report.html');
  const screenshot = join(dir, 'report.png');
  let cells: string[] = [];
  let raised = new Map<string, number>();
  let browser: Browser | undefined;
  let plots: PlotCheck[] = [];
  const requests: string[] = [];
  const pageErrors: string[] = [];
  let html = '';

  beforeAll(async () => {
    requireChromium();
    cells = await generateOutput(dir);
    raised = addAlert(dir, cells);
    const code = await reportCommand.main([dir, '--out', outFile]);
    expect(code).toBe(0);
    html = readFileSync(outFile, 'utf8');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(pathToFileURL(outFile).href, { waitUntil: 'load' });
    await page.screenshot({ path: screenshot, fullPage: true });
    plots = await page.evaluate<PlotCheck[]>(PLOT_CHECKS_IN_PAGE);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    // OEP_KEEP_REPORT=1 keeps the folder (report, screenshot, CSVs) to look at.
    if (process.env.OEP_KEEP_REPORT === undefined) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`report test: output, report and screenshot kept in ${dir}\n`);
  });

  it('writes one self-contained HTML file: no scripts, no stylesheets or fonts from elsewhere, nothing fetched', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|@import|url\(\s*["']?https?:/i);
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(requests).toEqual([pathToFileURL(outFile).href]);
    expect(pageErrors).toEqual([]);
  });

  it('takes a full-page screenshot', () => {
    expect(existsSync(screenshot)).toBe(true);
    expect(statSync(screenshot).size).toBeGreaterThan(50_000);
  });

  it('has the lab overview and one section per cell, each with every plot', () => {
    expect(plots).toHaveLength(2 + cells.length * PLOTS_PER_CELL.length);
    expect(plots.filter((p) => p.section === 'overview').map((p) => p.id)).toEqual(['lab-ddpq', 'lab-drift']);
    cells.forEach((_cell, n) => {
      expect(plots.filter((p) => p.section === `cell-${n}`).map((p) => p.id)).toEqual(PLOTS_PER_CELL.map((k) => `c${n}-${k}`));
    });
  });

  it('every plot rendered with data: elements with finite coordinates inside the plot, a visible data area', () => {
    for (const p of plots) {
      expect(p.points, `${p.id} data points`).toBeGreaterThan(0);
      expect(p.elements, `${p.id} data elements`).toBeGreaterThan(0);
      expect(p.numbers, `${p.id} coordinates`).toBeGreaterThan(0);
      expect(p.finite, `${p.id} finite coordinates`).toBe(true);
      expect(p.inside, `${p.id} inside the view box`).toBe(true);
      expect(p.dataArea, `${p.id} data bounding box`).toBeGreaterThan(100);
      expect(p.width, `${p.id} rendered width`).toBeGreaterThan(300);
    }
  });

  it('plots what the files hold: one point per complete cycle, one segment per step, the late readings', () => {
    const cycles = parseCsv(readFileSync(join(dir, 'cycles.csv'), 'utf8')).rows;
    const steps = parseCsv(readFileSync(join(dir, 'steps.csv'), 'utf8')).rows;
    cells.forEach((cell, n) => {
      const complete = cycles.filter((r) => r.cell === cell && r.complete === '1');
      expect(complete.length, `${cell} complete cycles`).toBeGreaterThanOrEqual(CYCLES - 1);
      const plot = (k: string): PlotCheck => plots.find((p) => p.id === `c${n}-${k}`)!;
      expect(plot('ce').points).toBe(complete.filter((r) => r.ce !== '').length);
      expect(plot('ddpq').points).toBe(complete.filter((r) => r.ddp_q_MPa_g_per_Ah !== '').length);
      expect(plot('drift').points).toBe(complete.filter((r) => r.drift_MPa_g_per_Ah !== '').length);
      expect(plot('drift').points).toBeGreaterThan(3);
      expect(plot('current').series['mean current of the step']).toBe(steps.filter((r) => r.cell === cell).length);
    });
    const late = parseCsv(readFileSync(join(dir, 'late.csv'), 'utf8')).rows;
    expect(late.length).toBe(5);
    expect(plots.find((p) => p.id === 'c0-pressure')!.series['late readings (not processed)']).toBe(5);
  });

  it('draws each incident as one shaded span on every plot of its cell, and on no other; no event markers', () => {
    expect(raised.get(cells[0]!)).toBeGreaterThanOrEqual(1);
    cells.forEach((cell, n) => {
      for (const p of plots.filter((q) => q.section === `cell-${n}`)) expect(p.incidents, `${p.id} incident spans`).toBe(raised.get(cell) ?? 0);
    });
    expect(plots.every((p) => p.markers === 0)).toBe(true);
    expect(plots.filter((p) => p.section === 'overview').every((p) => p.incidents === 0)).toBe(true);
    expect(html).toContain('no pressure for 11 min, &quot;load cell unplugged&quot;');
  });

  it('shows the penetrating cell’s falling Δ(ΔP_Q): its last drift is clearly negative', () => {
    const cycles = parseCsv(readFileSync(join(dir, 'cycles.csv'), 'utf8')).rows.filter((r) => r.cell === cells[1] && r.complete === '1');
    const drift = Number(cycles[cycles.length - 1]!.drift_MPa_g_per_Ah);
    expect(drift).toBeLessThan(-0.3);
  });
});
