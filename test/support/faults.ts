/**
 * Fault injection around a real daemon: `oep run` in a child process (so it can be killed with SIGKILL),
 * a real Mosquitto and VictoriaMetrics, the simulator publishing two small cells through the broker, and
 * the comparison of a run's records, cycle by cycle and step by step (every field), with an
 * uninterrupted run of the same seed.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runSimulator } from '../../pipelines/simulate.js';
import { parseCsv } from '../../src/adapters/csv.js';
import { CYCLE_FIELD_NAMES } from '../../src/adapters/line-protocol.js';
import { defaultSimCellSpec, type SimCellSpec } from '../../src/sim/cell-spec.js';
import { readInfluxFields, vmClose, type VmHandle } from './services.js';
import { spawnTs } from './ts-child.js';

const SHAPE = { rate_C: 1, formationRate_C: 1, formationCycles: 0, pressureRate_Hz: 0.2, currentRate_Hz: 0.2, voltageRate_Hz: 0.2 };
const RESTS = { initialRest_s: 600, restAfterCharge_s: 600, restAfterDischarge_s: 600 };
/** Two small cells: 8 cycles, ≈ 50,000 readings, 13 h of simulated time. */
export const FAULT_CELLS: readonly SimCellSpec[] = [
  defaultSimCellSpec('f-01', { ...SHAPE, ...RESTS }),
  defaultSimCellSpec('f-02', { ...SHAPE, ...RESTS, rate_C: 0.8 }),
];
export const FAULT_CYCLES = 8;
export const FAULT_SEED = 1;
const START_TS = Date.UTC(2026, 0, 1);
/** Simulated seconds per wall second: the 13 h in ≈ 12 s, ≈ 120 publishing rounds of 6 messages. */
const SPEED = 4_000;

/** Publishes the two cells through the broker, as `oep simulate` does; resolves when all are sent. */
export async function publishFaultCells(url: string, signal?: AbortSignal): Promise<number> {
  const r = await runSimulator({
    url,
    topicPrefix: 'oep',
    cells: FAULT_CELLS,
    speed: SPEED,
    seed: FAULT_SEED,
    startTs: START_TS,
    cycles: FAULT_CYCLES,
    ...(signal !== undefined ? { signal } : {}),
  });
  return r.readings;
}

export interface FaultSetup {
  readonly dir: string;
  readonly outDir: string;
  readonly configPath: string;
}

/** A config file for one run: persistent MQTT session, state with the journal, output files, optionally InfluxDB. */
export function faultConfig(brokerUrl: string, clientId: string, influxUrl?: string): FaultSetup {
  const dir = mkdtempSync(join(tmpdir(), 'oep-fault-'));
  const outDir = join(dir, 'out');
  const config = {
    mqtt: { url: brokerUrl, clientId },
    state: { dir: join(dir, 'state'), interval_s: 2 },
    output: { dir: outDir },
    alignment: { idleTimeout_ms: 5_000 },
    ...(influxUrl !== undefined ? { influx: { url: influxUrl, org: 'lab', bucket: 'oep', token: 't', flushInterval_ms: 200 } } : {}),
    cells: FAULT_CELLS.map((s) => ({
      id: s.id,
      activeMassG: s.activeMass_g,
      areaMm2: s.area_mm2,
      nominalCurrent_mA: s.nominalCapacity_mAh * 0.1,
      formationCycles: s.formationCycles,
    })),
  };
  const configPath = join(dir, 'oep.json');
  writeFileSync(configPath, JSON.stringify(config));
  return { dir, outDir, configPath };
}

export interface DaemonChild {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  logs(): string;
}

/** `oep run --config …` in a child process; resolves once it listens (subscribed on the broker). */
export async function startDaemonChild(configPath: string): Promise<DaemonChild> {
  const proc = spawnTs('test/support/run-command.ts', ['run', '--config', configPath], { env: { OEP_LOG_LEVEL: 'info' } });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => {
      resolve(code);
    });
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 60_000;
  while (!out.includes('oep: listening')) {
    if (gone) throw new Error(`the daemon exited during startup:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`the daemon did not start within 60 s:\n${out}`);
    }
    await sleep(50);
  }
  return { proc, exited, logs: () => out };
}

export async function killDaemon(d: DaemonChild, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  d.proc.kill(signal);
  await d.exited;
}

/** Waits until the run's step file has not changed for `quiet_ms` (everything received, the idle tail released). */
export async function settled(outDir: string, quiet_ms: number, timeout_ms: number): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  let last = '';
  let since = Date.now();
  while (Date.now() < deadline) {
    const s = ['steps.csv', 'cycles.csv'].map((f) => statSync(join(outDir, f), { throwIfNoEntry: false })?.size ?? -1).join(',');
    if (s !== last) {
      last = s;
      since = Date.now();
    } else if (Date.now() - since >= quiet_ms) return;
    await sleep(200);
  }
  throw new Error(`the output under ${outDir} did not settle within ${timeout_ms} ms`);
}

/** One output file's records by key, and the keys written more than once (with the same or with other values). */
export interface Records {
  readonly columns: readonly string[];
  readonly byKey: Map<string, string[]>;
  readonly repeated: number;
  readonly conflicting: string[];
}

function records(file: string, key: (row: Record<string, string>) => string): Records {
  const t = parseCsv(readFileSync(file, 'utf8'));
  const byKey = new Map<string, string[]>();
  const conflicting: string[] = [];
  let repeated = 0;
  for (const named of t.rows) {
    const row = t.columns.map((c) => named[c] ?? '');
    const k = key(named);
    const seen = byKey.get(k);
    if (seen !== undefined) {
      repeated++;
      if (seen.join(',') !== row.join(',')) conflicting.push(k);
    }
    byKey.set(k, row);
  }
  return { columns: t.columns, byKey, repeated, conflicting };
}

export interface RunRecords {
  readonly cycles: Records;
  readonly steps: Records;
}

export function readRun(outDir: string): RunRecords {
  return {
    cycles: records(join(outDir, 'cycles.csv'), (r) => `${r.cell ?? ''}#${r.cycle ?? ''}`),
    steps: records(join(outDir, 'steps.csv'), (r) => `${r.cell ?? ''}#${r.cycle ?? ''}#${r.step ?? ''}#${r.kind ?? ''}`),
  };
}

/** How a run's records compare with the uninterrupted run's: identical, different, missing, extra, written twice. */
export interface Comparison {
  readonly expected: number;
  readonly identical: number;
  readonly different: string[];
  readonly missing: string[];
  readonly extra: string[];
  readonly repeated: number;
  readonly conflicting: string[];
}

function compareRecords(base: Records, run: Records): Comparison {
  const different: string[] = [];
  const missing: string[] = [];
  let identical = 0;
  for (const [k, row] of base.byKey) {
    const got = run.byKey.get(k);
    if (got === undefined) missing.push(k);
    else if (got.join(',') === row.join(',')) identical++;
    else different.push(k);
  }
  const extra = [...run.byKey.keys()].filter((k) => !base.byKey.has(k));
  return { expected: base.byKey.size, identical, different, missing, extra, repeated: run.repeated, conflicting: run.conflicting };
}

export function compareRuns(base: RunRecords, run: RunRecords): { cycles: Comparison; steps: Comparison } {
  return { cycles: compareRecords(base.cycles, run.cycles), steps: compareRecords(base.steps, run.steps) };
}

/**
 * The `oep_cycle` points in the database against the uninterrupted run's cycles: every field of every
 * cycle, within VictoriaMetrics' decimal storage; conflicting duplicates (two values at one series and
 * time) listed.
 */
export async function compareDatabase(
  vm: VmHandle,
  base: RunRecords,
): Promise<{ identical: number; different: string[]; missing: string[]; conflicting: string[] }> {
  const rows = await readInfluxFields(vm, 'oep_cycle', CYCLE_FIELD_NAMES);
  const byKey = new Map(rows.map((r) => [`${r.tags.cell ?? ''}#${r.fields.cycle ?? ''}`, r]));
  const conflicting = rows
    .filter((r) => Object.values(r.duplicates ?? {}).some((vs) => vs.some((v) => !vmClose(v, vs[0] ?? NaN))))
    .map((r) => `${r.tags.cell ?? ''}@${r.ts}`);
  const different: string[] = [];
  const missing: string[] = [];
  let identical = 0;
  const col = (name: string) => base.cycles.columns.indexOf(name);
  for (const [k, row] of base.cycles.byKey) {
    const got = byKey.get(k);
    if (got === undefined) {
      missing.push(k);
      continue;
    }
    const wrong = [
      ...(Math.round(Number(row[col('time_ms')])) === got.ts ? [] : [`time ${row[col('time_ms')] ?? ''} ≠ ${got.ts}`]),
      ...CYCLE_FIELD_NAMES.filter((f) => {
        const v = row[col(f)] ?? '';
        const g = got.fields[f];
        return v === '' ? g !== undefined : g === undefined || !vmClose(g, Number(v));
      }).map((f) => `${f} ${row[col(f)] ?? ''} ≠ ${String(got.fields[f])}`),
    ];
    const same = wrong.length === 0;
    if (same) identical++;
    else different.push(`${k}: ${wrong.join('; ')}`);
  }
  return { identical, different, missing, conflicting };
}
