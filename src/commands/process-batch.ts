/**
 * `oep process <folder | glob | files…>`: a campaign at once. Each cycler file goes through `processFiles` into
 * its own folder `<out>/<name>/` (cell = the file's name without extension, settings from the config and
 * the command line); a file that cannot be read is reported in the summary and the others go on. Then one
 * `summary.csv` (file, cell, format, cycles and which definition, first and last Δ(ΔP_Q), last drift, mean
 * CE, the error if any), every file's records together in `<out>/steps.csv` and `<out>/cycles.csv`, and one
 * HTML report over them (`report.html`).
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { processFiles, type ProcessOptions } from '../../pipelines/process.js';
import { csvField } from '../adapters/csv.js';
import { errorMessage } from '../adapters/log-text.js';
import { ConfigError, type OepConfig } from '../config/schema.js';
import { resolveCell } from '../config/cell-setup.js';
import type { LabEvent } from '../domain/lab.js';
import type { CycleRecord } from '../domain/types.js';
import { writeReport } from '../report/report.js';

/** The inputs: files as given, a folder's regular files (sorted, not hidden), `*`/`?` in a path's last part. */
export function expandInputs(inputs: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of inputs) {
    const name = basename(p);
    if (name.includes('*') || name.includes('?')) {
      const dir = dirname(p);
      const re = new RegExp(
        `^${name
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      );
      const hits = existsSync(dir) ? readdirSync(dir).filter((f) => re.test(f) && statSync(join(dir, f)).isFile()) : [];
      if (hits.length === 0) throw new ConfigError(`${p} matches no file`);
      out.push(...hits.sort().map((f) => join(dir, f)));
    } else if (existsSync(p) && statSync(p).isDirectory()) {
      out.push(
        ...readdirSync(p)
          .filter((f) => !f.startsWith('.') && statSync(join(p, f)).isFile())
          .sort()
          .map((f) => join(p, f)),
      );
    } else out.push(p);
  }
  return out;
}

/** A file's cell id and folder name: its name without extension, made safe for topics and paths. */
export function cellOfFile(path: string): string {
  const stem = basename(path, extname(path));
  return stem.replace(/[^A-Za-z0-9._-]+/g, '_') || 'cell';
}

export const SUMMARY_COLUMNS = [
  'file',
  'cell',
  'format',
  'cycles',
  'cycle_definition',
  'first_ddp_q',
  'last_ddp_q',
  'ddp_q_unit',
  'last_drift',
  'ce_mean',
  'counter_warnings',
  'error',
] as const;

/** One file's line of summary.csv, from its cycle records. */
function summaryRow(file: string, cell: string, format: string, definition: string, cycles: readonly CycleRecord[], warnings: number, error: string): string {
  const mass = cycles.some((c) => c.ddpQ_MPa_g_per_Ah !== undefined);
  const ddpQ = (c: CycleRecord): number | undefined => (mass ? c.ddpQ_MPa_g_per_Ah : c.ddpQ_MPa_cm2_per_mAh);
  const withQ = cycles.map(ddpQ).filter((v) => v !== undefined);
  const drifts = cycles.map((c) => (mass ? c.drift_MPa_g_per_Ah : c.drift_MPa_cm2_per_mAh)).filter((d) => d !== undefined);
  const ces = cycles.filter((c) => c.complete && c.ce !== undefined).map((c) => c.ce ?? 0);
  const num = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '' : String(v));
  return [
    csvField(file),
    csvField(cell),
    format,
    String(cycles.length),
    definition,
    num(withQ[0]),
    num(withQ.at(-1)),
    withQ.length === 0 ? '' : mass ? 'MPa·g/(A·h)' : 'MPa·cm²/(mA·h)',
    num(drifts.at(-1)),
    num(ces.length > 0 ? ces.reduce((s, x) => s + x, 0) / ces.length : undefined),
    String(warnings),
    csvField(error),
  ].join(',');
}

export interface BatchOptions {
  readonly files: readonly string[];
  readonly outDir: string;
  /** The config with the command line's settings applied to `cellConfig(cell)`. */
  readonly configFor: (cell: string) => OepConfig;
  readonly common: Omit<ProcessOptions, 'cyclerFile' | 'cell' | 'setup' | 'outDir' | 'onEvents'>;
  readonly log: (line: string) => void;
}

/** Runs every file; returns how many failed. */
export async function processBatch(o: BatchOptions): Promise<number> {
  const summary = join(o.outDir, 'summary.csv');
  if (existsSync(summary) && o.common.force !== true)
    throw new ConfigError(`${o.outDir} already holds summary.csv from an earlier run; choose another --out or pass --force`);
  const rows: string[] = [];
  const combined = { steps: '', cycles: '', header: { steps: '', cycles: '' } };
  let failed = 0;
  for (const file of o.files) {
    const cell = cellOfFile(file);
    const dir = join(o.outDir, cell);
    const cycles: CycleRecord[] = [];
    const onEvents = (events: readonly LabEvent[]): void => {
      for (const e of events) if (e.type === 'cycle') cycles.push(e.record);
    };
    try {
      const r = await processFiles({ ...o.common, cyclerFile: file, cell, setup: resolveCell(o.configFor(cell), cell), outDir: dir, onEvents });
      rows.push(summaryRow(file, cell, r.format, r.cycleDefinition, cycles, r.counterWarningCount, ''));
      o.log(
        `${file}: ${r.format}, ${r.steps} steps, ${r.cycles} cycles (${r.cycleDefinition}) → ${dir}${r.noClock ? ' (no start date in the file: times from 1970-01-01; give --start)' : ''}`,
      );
      for (const kind of ['steps', 'cycles'] as const) {
        const [header = '', ...lines] = readFileSync(join(dir, `${kind}.csv`), 'utf8').split('\n');
        combined.header[kind] ||= header;
        combined[kind] += lines
          .filter((l) => l !== '')
          .map((l) => l + '\n')
          .join('');
      }
    } catch (e) {
      failed++;
      const msg = errorMessage(e).split('\n')[0] ?? '';
      rows.push(summaryRow(file, cell, '', 'none', [], 0, msg));
      o.log(`${file}: not processed: ${msg}`);
    }
  }
  writeFileSync(summary, [SUMMARY_COLUMNS.join(','), ...rows].join('\n') + '\n');
  if (combined.header.steps !== '') {
    for (const kind of ['steps', 'cycles'] as const) {
      writeFileSync(join(o.outDir, `${kind}.csv`), combined.header[kind] + '\n');
      appendFileSync(join(o.outDir, `${kind}.csv`), combined[kind]);
    }
    const rep = writeReport(o.outDir);
    o.log(`summary: ${summary}; report: ${rep.out}`);
  } else o.log(`summary: ${summary}`);
  return failed;
}
