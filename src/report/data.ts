/**
 * Reads an oep output folder (what FileSink writes: steps.csv, cycles.csv, late.csv, alerts.csv; alerts.csv
 * needs only the columns time_ms,cell,kind,level,message) into per-cell, typed, time-ordered records.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvNumber, parseCsv, type CsvTable } from '../adapters/csv.js';

export interface ReportStep {
  readonly cell: string;
  readonly kind: string;
  readonly cycle: number | undefined;
  readonly step: number | undefined;
  readonly tStart: number;
  readonly tEnd: number;
  readonly q_mAh: number | undefined;
  readonly iMean_mA: number | undefined;
  readonly pStart_MPa: number | undefined;
  readonly pEnd_MPa: number | undefined;
  readonly pMin_MPa: number | undefined;
  readonly pMax_MPa: number | undefined;
}

export interface ReportCycle {
  readonly cell: string;
  readonly cycle: number;
  readonly tStart: number | undefined;
  readonly tEnd: number;
  readonly complete: boolean;
  readonly qCharge_mAh: number | undefined;
  readonly qDischarge_mAh: number | undefined;
  readonly qDischarge_mAh_g: number | undefined;
  readonly qDischarge_mAh_cm2: number | undefined;
  readonly ce: number | undefined;
  readonly ddp_MPa: number | undefined;
  readonly swing_MPa: number | undefined;
  /** Δ(ΔP_Q) in the cell's normalization (see {@link CellReportData.normalization}). */
  readonly ddpQ: number | undefined;
  readonly drift: number | undefined;
  readonly pIrrev_MPa: number | undefined;
}

export interface ReportLate {
  readonly ts: number;
  readonly cell: string;
  readonly channel: string;
  readonly value: number | undefined;
  readonly behind_ms: number | undefined;
}

/** An incident event (alerts.csv as the daemon writes it; `previous`, the incident columns etc. optional). */
export interface ReportAlert {
  readonly time_ms: number;
  readonly cell: string;
  readonly kind: string;
  /** `warning`, `critical`, … ; `ok` = the alert cleared. Lower case. */
  readonly level: string;
  /** The level before this change, when the file says ('' otherwise). */
  readonly previous: string;
  readonly message: string;
  /** The incident id ('' in files from before incidents), its recurrences and peak so far, and the value's unit. */
  readonly incident: string;
  readonly recurrences: number | undefined;
  readonly peak: number | undefined;
  readonly unit: string;
}

export interface CellReportData {
  readonly id: string;
  /** Steps by start time (one per step number: the last row written wins). */
  readonly steps: readonly ReportStep[];
  /** Cycles by number (one per cycle number: the last row written wins). */
  readonly cycles: readonly ReportCycle[];
  readonly late: readonly ReportLate[];
  readonly alerts: readonly ReportAlert[];
  /** Which Δ(ΔP_Q) the cell has: mass (MPa·g/(A·h)), areal (MPa·cm²/(mA·h)), or none yet. */
  readonly normalization: 'mass' | 'areal' | undefined;
}

export interface ReportData {
  readonly dir: string;
  readonly cells: readonly CellReportData[];
  /** Files read, with their number of data rows. */
  readonly files: Readonly<Record<string, number>>;
  /** Rows skipped (unreadable times, unknown cell), for the report's notes. */
  readonly skipped: number;
}

export const STEPS_FILE = 'steps.csv';
export const CYCLES_FILE = 'cycles.csv';
export const LATE_FILE = 'late.csv';
export const ALERTS_FILE = 'alerts.csv';

export class ReportInputError extends Error {
  override readonly name = 'ReportInputError';
}

function readTable(dir: string, name: string, files: Record<string, number>): CsvTable | undefined {
  const path = join(dir, name);
  if (!existsSync(path)) return undefined;
  const t = parseCsv(readFileSync(path, 'utf8'));
  files[name] = t.rows.length;
  return t;
}

const bool01 = (v: string | undefined): boolean => csvNumber(v) !== 0;

type Row = Readonly<Record<string, string>>;

/** The rows that `parse` accepts, grouped by cell and keyed by `key` (a later row with the same key replaces an earlier one). */
function groupByCell<T extends { readonly cell: string }, K>(
  rows: readonly Row[],
  parse: (r: Row) => T | undefined,
  key: (t: T, rowIndex: number) => K,
  rejected: { n: number },
): Map<string, Map<K, T>> {
  const out = new Map<string, Map<K, T>>();
  for (const [k, r] of rows.entries()) {
    const t = parse(r);
    if (t === undefined) {
      rejected.n++;
      continue;
    }
    let m = out.get(t.cell);
    if (m === undefined) out.set(t.cell, (m = new Map<K, T>()));
    m.set(key(t, k), t);
  }
  return out;
}

function stepFromRow(r: Row): ReportStep | undefined {
  const tEnd = csvNumber(r.time_ms);
  const tStart = csvNumber(r.start_time_ms) ?? (tEnd !== undefined ? tEnd - (csvNumber(r.duration_s) ?? 0) * 1000 : undefined);
  const cell = r.cell ?? '';
  if (tEnd === undefined || tStart === undefined || cell === '') return undefined;
  return {
    cell,
    kind: r.kind ?? '',
    cycle: csvNumber(r.cycle),
    step: csvNumber(r.step),
    tStart,
    tEnd,
    q_mAh: csvNumber(r.q_mAh),
    iMean_mA: csvNumber(r.i_mean_mA),
    pStart_MPa: csvNumber(r.p_start_MPa),
    pEnd_MPa: csvNumber(r.p_end_MPa),
    pMin_MPa: csvNumber(r.p_min_MPa),
    pMax_MPa: csvNumber(r.p_max_MPa),
  };
}

function cycleFromRow(r: Row): ReportCycle | undefined {
  const tEnd = csvNumber(r.time_ms);
  const cycle = csvNumber(r.cycle);
  const cell = r.cell ?? '';
  if (tEnd === undefined || cycle === undefined || cell === '') return undefined;
  const mass = csvNumber(r.ddp_q_MPa_g_per_Ah);
  return {
    cell,
    cycle,
    tStart: csvNumber(r.start_time_ms),
    tEnd,
    complete: bool01(r.complete),
    qCharge_mAh: csvNumber(r.q_charge_mAh),
    qDischarge_mAh: csvNumber(r.q_discharge_mAh),
    qDischarge_mAh_g: csvNumber(r.q_discharge_mAh_g),
    qDischarge_mAh_cm2: csvNumber(r.q_discharge_mAh_cm2),
    ce: csvNumber(r.ce),
    ddp_MPa: csvNumber(r.ddp_MPa),
    swing_MPa: csvNumber(r.swing_MPa),
    ddpQ: mass ?? csvNumber(r.ddp_q_MPa_cm2_per_mAh),
    drift: mass !== undefined ? csvNumber(r.drift_MPa_g_per_Ah) : (csvNumber(r.drift_MPa_cm2_per_mAh) ?? csvNumber(r.drift_MPa_g_per_Ah)),
    pIrrev_MPa: csvNumber(r.p_irrev_MPa),
  };
}

/** Each cell's normalization: mass as soon as one cycle has the mass-normalized Δ(ΔP_Q), else areal if one has the areal one. */
function normalizations(rows: readonly Row[]): Map<string, 'mass' | 'areal'> {
  const out = new Map<string, 'mass' | 'areal'>();
  for (const r of rows) {
    const c = cycleFromRow(r);
    if (c === undefined) continue;
    if (csvNumber(r.ddp_q_MPa_g_per_Ah) !== undefined) out.set(c.cell, 'mass');
    else if (csvNumber(r.ddp_q_MPa_cm2_per_mAh) !== undefined && !out.has(c.cell)) out.set(c.cell, 'areal');
  }
  return out;
}

function lateFromRow(r: Row): ReportLate | undefined {
  const ts = csvNumber(r.ts_ms);
  const cell = r.cell ?? '';
  if (ts === undefined || cell === '') return undefined;
  return { ts, cell, channel: r.channel ?? '', value: csvNumber(r.value), behind_ms: csvNumber(r.behind_watermark_ms) };
}

function alertFromRow(r: Row): ReportAlert | undefined {
  const time_ms = csvNumber(r.time_ms);
  const cell = r.cell ?? '';
  if (time_ms === undefined || cell === '') return undefined;
  return {
    time_ms,
    cell,
    kind: r.kind ?? '',
    level: (r.level ?? '').toLowerCase(),
    previous: (r.previous ?? '').toLowerCase(),
    message: r.message ?? '',
    incident: r.incident ?? '',
    recurrences: csvNumber(r.recurrences),
    peak: csvNumber(r.peak),
    unit: r.unit ?? '',
  };
}

/** Loads the output folder `dir`. Throws {@link ReportInputError} if it has neither steps.csv nor cycles.csv. */
export function loadReportData(dir: string): ReportData {
  if (!existsSync(dir)) throw new ReportInputError(`${dir}: no such folder`);
  const files: Record<string, number> = {};
  const stepsT = readTable(dir, STEPS_FILE, files);
  const cyclesT = readTable(dir, CYCLES_FILE, files);
  if (stepsT === undefined && cyclesT === undefined) {
    throw new ReportInputError(`${dir} has neither ${STEPS_FILE} nor ${CYCLES_FILE}: not an oep output folder (output.dir of oep run, oep demo --out)`);
  }
  const lateT = readTable(dir, LATE_FILE, files);
  const alertsT = readTable(dir, ALERTS_FILE, files);
  const rejected = { n: 0 };
  const steps = groupByCell(stepsT?.rows ?? [], stepFromRow, (s, k): number | string => s.step ?? `row${k}`, rejected);
  const cycles = groupByCell(cyclesT?.rows ?? [], cycleFromRow, (c) => c.cycle, rejected);
  const normalization = normalizations(cyclesT?.rows ?? []);
  const late = groupByCell(lateT?.rows ?? [], lateFromRow, (_, k) => k, rejected);
  const alerts = groupByCell(alertsT?.rows ?? [], alertFromRow, (_, k) => k, rejected);

  const ids = [...new Set([...steps.keys(), ...cycles.keys(), ...late.keys(), ...alerts.keys()])].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const cells: CellReportData[] = ids.map((id) => ({
    id,
    steps: [...(steps.get(id)?.values() ?? [])].sort((a, b) => a.tStart - b.tStart),
    cycles: [...(cycles.get(id)?.values() ?? [])].sort((a, b) => a.cycle - b.cycle),
    late: [...(late.get(id)?.values() ?? [])].sort((a, b) => a.ts - b.ts),
    alerts: [...(alerts.get(id)?.values() ?? [])].sort((a, b) => a.time_ms - b.time_ms),
    normalization: normalization.get(id),
  }));
  return { dir, cells, files, skipped: rejected.n };
}
