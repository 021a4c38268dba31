/**
 * `npm run bench -- metrics`: how long one /metrics scrape takes and how large it is, with N cells of a few
 * readings each (a lab built in-process, read through the daemon's own health source), median of 10 scrapes
 * after one warm-up, with per-cell series on and off.
 */
import { healthSourceFor } from '../pipelines/health.js';
import { AlertTally } from '../src/adapters/alert-tally.js';
import { HealthMetrics } from '../src/adapters/health-metrics.js';
import { parseConfig } from '../src/config/schema.js';
import { resolveCell } from '../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../src/domain/lab.js';
import type { Reading } from '../src/domain/types.js';

const SCRAPES = 10;

/** N cells, each with 3 s of 1 Hz current, pressure and voltage, and one rejected message in every tenth. */
export function scrapeLab(cells: number, t0: number): Lab {
  const cfg = parseConfig({ defaults: { activeMassG: 0.0179 } });
  const lab = new Lab((id) => resolveCell(cfg, id), undefined, { trackGaps: true });
  const ev: LabEvent[] = [];
  for (let c = 0; c < cells; c++) {
    const cell = `c${c}`;
    const b: Reading[] = [];
    for (let k = 0; k < 3; k++) {
      const ts = t0 + k * 1000;
      b.push({ cell, channel: 'current', ts, value: 0.5 }, { cell, channel: 'pressure', ts, value: 5 }, { cell, channel: 'voltage', ts, value: 3.8 });
    }
    lab.ingest(cell, b, t0 + 3_000, ev);
    if (c % 10 === 0) lab.reject(cell, 'schema');
    ev.length = 0;
  }
  return lab;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Median scrape time (ms) and size (bytes) of the daemon's /metrics text over a lab of `cells` cells. */
export async function timeScrape(cells: number, perCell: boolean): Promise<{ ms: number; bytes: number; series: number }> {
  const lab = scrapeLab(cells, Date.now() - 10_000);
  const source = healthSourceFor({
    lab,
    mqtt: { connected: true, received: cells * 3 },
    influxStats: { enqueued: 0, written: 0, pending: 0, dropped: 0 },
    alertTally: new AlertTally(),
  });
  const metrics = new HealthMetrics(source, { processMetrics: true, perCellMetrics: perCell });
  let text = await metrics.text();
  const times: number[] = [];
  for (let i = 0; i < SCRAPES; i++) {
    const t = performance.now();
    text = await metrics.text();
    times.push(performance.now() - t);
  }
  const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  return { ms: median(times), bytes: Buffer.byteLength(text), series };
}

export async function metricsBench(cellCounts: readonly number[]): Promise<string> {
  const lines = ['| cells | per-cell series | scrape, median of 10 | size | samples |', '|---:|---|---:|---:|---:|'];
  for (const n of cellCounts) {
    for (const perCell of [true, false]) {
      const r = await timeScrape(n, perCell);
      lines.push(
        `| ${n.toLocaleString('en')} | ${perCell ? 'on' : 'off'} | ${r.ms.toFixed(1)} ms | ${(r.bytes / 1024).toFixed(0)} KiB | ${r.series.toLocaleString('en')} |`,
      );
    }
  }
  return lines.join('\n');
}
