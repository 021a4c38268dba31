/**
 * `oep report`: an output folder (steps.csv, cycles.csv, late.csv, optional alerts.csv) → one self-contained
 * HTML file with plots, readable offline.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadReportData, type ReportData } from './data.js';
import { renderReportHtml, type HtmlOptions } from './html.js';

export const DEFAULT_REPORT_FILE = 'report.html';

export interface ReportResult {
  readonly out: string;
  readonly bytes: number;
  readonly data: ReportData;
}

/** Reads `dir` and writes the report to `out` (default `<dir>/report.html`). */
export function writeReport(dir: string, out: string = join(dir, DEFAULT_REPORT_FILE), opts: HtmlOptions = {}): ReportResult {
  const data = loadReportData(dir);
  const html = renderReportHtml(data, opts);
  writeFileSync(out, html);
  return { out, bytes: Buffer.byteLength(html), data };
}
