/**
 * The corpus of real cycler exports in `../shared/data/cyclers/` and their oracles (`oracles.json`, computed by
 * `oracle.py` from each file's own capacity counters; see SOURCES.md there). The files are read where they
 * are (some are GPL-3.0 and must not be copied into this repository).
 *
 * `runCorpusFile` runs one file through `processFiles` exactly as `oep process <file> --cell c --out <dir>`
 * does (no other option); `compareWithOracle` lists every way the result differs from the oracle, one line each.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processFiles, type ProcessReport } from '../../pipelines/process.js';
import { withInputErrors } from '../../src/commands/reader-options.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import type { LabEvent } from '../../src/domain/lab.js';
import type { CycleRecord, StepRecord } from '../../src/domain/types.js';

export const CORPUS = fileURLToPath(new URL('../../../shared/data/cyclers/', import.meta.url));

/** One file's entry in oracles.json (the fields the test uses). */
export interface FileOracle {
  readonly expect?: 'error' | 'no_cycles_or_zero_capacity';
  readonly why?: string;
  readonly cycle_indices?: readonly (number | string)[];
  readonly cycles_mAh?: readonly (readonly [number, number])[];
  readonly current_column?: string;
  readonly tolerance_rel?: number;
  readonly tolerance_rel_right_rect?: number;
  readonly readback_tolerance_rel?: number;
}

export function corpusOracles(): Record<string, FileOracle> {
  const j = JSON.parse(readFileSync(join(CORPUS, 'oracles.json'), 'utf8')) as { files: Record<string, FileOracle> };
  return j.files;
}

export interface CorpusRun {
  readonly error?: string;
  readonly report?: ProcessReport;
  readonly steps: StepRecord[];
  readonly cycles: CycleRecord[];
  /** The alert events raised on the way ("<kind> <level> cycle <n>"). */
  readonly alerts: string[];
}

/** `oep process <file> --cell c --out <tmp>`: no option but the cell and the output folder. */
export async function runCorpusFile(name: string): Promise<CorpusRun> {
  const out = mkdtempSync(join(tmpdir(), 'oep-corpus-'));
  const steps: StepRecord[] = [];
  const cycles: CycleRecord[] = [];
  const alerts: string[] = [];
  const onEvents = (events: readonly LabEvent[]): void => {
    for (const e of events) {
      if (e.type === 'step') steps.push(e.record);
      else if (e.type === 'cycle') cycles.push(e.record);
      else if (e.type === 'alert') alerts.push(`${e.alert.kind} ${e.alert.level} cycle ${String(e.alert.cycle)}`);
    }
  };
  try {
    const cfg = parseConfig({ cells: [{ id: 'c' }] });
    // withInputErrors: what the CLI does with a problem of the input file (one line, exit code 2).
    const report = await withInputErrors(() =>
      processFiles({ cyclerFile: join(CORPUS, name), cell: 'c', setup: resolveCell(cfg, 'c'), cyclerSteps: true, outDir: out, onEvents }),
    );
    return { report, steps, cycles, alerts };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e), steps, cycles, alerts };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The tolerance for oep's integral: right rectangles on an interval-averaged current (EC-Lab `<I>/mA`), else trapezoids. */
export function integralTolerance(o: FileOracle): number {
  return o.current_column === '<I>/mA' && o.tolerance_rel_right_rect !== undefined ? o.tolerance_rel_right_rect : (o.tolerance_rel ?? 1e-4);
}

const fmt = (x: number): string => x.toPrecision(7);

/** |x − o| within `tol` of o, or of 1 % of the file's largest capacity for the small ones (what oracle.py compares). */
function within(x: number, o: number, tol: number, qmax: number): boolean {
  return Math.abs(x - o) <= tol * Math.max(o, 0.01 * qmax);
}

/** Every difference between a run and the file's oracle, one line each (empty: the file is right). */
export function compareWithOracle(name: string, o: FileOracle, run: CorpusRun): string[] {
  if (o.expect === 'error') {
    if (run.error === undefined) return [`${name}: expected an error (${o.why ?? ''}), got ${run.cycles.length} cycles`];
    const e = run.error;
    const bad: string[] = [];
    if (e.includes('\n')) bad.push(`${name}: the error is not one line: ${JSON.stringify(e)}`);
    if (!e.includes(name)) bad.push(`${name}: the error does not name the file: ${e}`);
    if (!e.includes('expected')) bad.push(`${name}: the error does not say what was expected: ${e}`);
    return bad;
  }
  if (run.error !== undefined) return [`${name}: ${run.error}`];
  const want = o.cycles_mAh ?? [];
  const qmax = Math.max(0, ...want.flat());
  if (o.expect === 'no_cycles_or_zero_capacity') {
    const q = run.cycles.reduce((s, c) => s + c.qCharge_mAh + c.qDischarge_mAh, 0);
    return q === 0 ? [] : [`${name}: expected no capacity, got ${fmt(q)} mAh over ${run.cycles.length} cycles`];
  }
  const tol = integralTolerance(o);
  const rb = o.readback_tolerance_rel ?? 1e-6;
  const bad: string[] = [];
  const varies = new Set(o.cycle_indices ?? []).size > 1;
  // The cycler's counters go with the cycler's steps: a file without a step index (TRI's Arbin export) has
  // derived steps, to which they cannot be attributed.
  const cyclerSteps = run.steps.some((s) => s.cyclerStep !== undefined);
  // Per cycle (the cycler's index varies: oep's cycles are the cycler's, one for one), or the whole file
  // (one index throughout: oep derives cycles, and every step counts, the ones before the first cycle too).
  const got: { what: string; q: Totals }[] = varies
    ? run.cycles.map((c, k) => ({ what: `cycle ${String(o.cycle_indices?.[k])}`, q: cycleTotals(c) }))
    : [{ what: `all ${run.steps.length} steps`, q: stepTotals(run.steps) }];
  if (varies && run.cycles.length !== want.length) bad.push(`${name}: ${run.cycles.length} cycles, the cycler has ${want.length}`);
  want.forEach(([qc, qd], k) => {
    const g = got[k];
    if (g === undefined) return;
    const check = (x: number | undefined, w: number, t: number, label: string): void => {
      if (x === undefined || !within(x, w, t, qmax))
        bad.push(`${name}: ${g.what} ${label} ${x === undefined ? 'absent' : fmt(x)} mAh, cycler ${fmt(w)} (tolerance ${t})`);
    };
    check(g.q.charge, qc, tol, 'charge');
    check(g.q.discharge, qd, tol, 'discharge');
    if (!cyclerSteps) return;
    check(g.q.chargeCycler, qc, rb, "charge by the cycler's counter");
    check(g.q.dischargeCycler, qd, rb, "discharge by the cycler's counter");
  });
  return bad;
}

interface Totals {
  readonly charge: number;
  readonly discharge: number;
  readonly chargeCycler: number | undefined;
  readonly dischargeCycler: number | undefined;
}

function cycleTotals(c: CycleRecord): Totals {
  return { charge: c.qCharge_mAh, discharge: c.qDischarge_mAh, chargeCycler: c.qChargeCycler_mAh, dischargeCycler: c.qDischargeCycler_mAh };
}

/** What the steps add up to, by kind (as a cycle record adds its steps). */
function stepTotals(steps: readonly StepRecord[]): Totals {
  const t = { charge: 0, discharge: 0, chargeCycler: 0 as number | undefined, dischargeCycler: 0 as number | undefined };
  for (const s of steps) {
    if (s.kind === 'charge') t.charge += s.q_mAh;
    else if (s.kind === 'discharge') t.discharge += s.q_mAh;
    t.chargeCycler = s.qChargeCycler_mAh === undefined || t.chargeCycler === undefined ? undefined : t.chargeCycler + s.qChargeCycler_mAh;
    t.dischargeCycler = s.qDischargeCycler_mAh === undefined || t.dischargeCycler === undefined ? undefined : t.dischargeCycler + s.qDischargeCycler_mAh;
  }
  return t;
}
