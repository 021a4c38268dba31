/**
 * Golden outputs: the step, cycle and alert records that oep produces on a fixed set of inputs (the
 * simulator through the wire edge, and every recorded file we have through `processFiles` with no
 * option but the cell), in a canonical JSON form. `test/unit/golden.test.ts` compares a run with the
 * checked-in files under `test/golden/`; a refactoring must leave them identical to the bit.
 *
 * To record them anew (only for an intended change of numbers, said in the commit):
 *   OEP_GOLDEN_UPDATE=1 npx vitest run test/unit/golden.test.ts
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { from, lastValueFrom, toArray } from 'rxjs';
import { processFiles } from '../../pipelines/process.js';
import { parseMessages, processInLab } from '../../pipelines/operators.js';
import type { RawMessage } from '../../src/adapters/mqtt.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import { parseGenericMapping } from '../../src/readers/generic/mapping.js';
import type { FormatName, ReaderOptions } from '../../src/readers/formats.js';
import { demoCells } from '../../src/sim/scenarios.js';
import { simulateCells } from '../../src/sim/simulator.js';
import { configFor } from './sim-lab.js';
import { parse as parseYaml } from 'yaml';

export const GOLDEN_DIR = fileURLToPath(new URL('../golden/', import.meta.url));
const SHARED = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const FORMATS = fileURLToPath(new URL('../fixtures/formats/', import.meta.url));

/** What a run produced, in a form that JSON keeps to the bit (numbers round-trip exactly). */
export interface GoldenRun {
  readonly error?: string;
  readonly steps: unknown[];
  readonly cycles: unknown[];
  readonly alerts: unknown[];
}

/** A step record with its dP/dQ curve replaced by a digest (the curves are large; a change still shows). */
function stepOf(r: object): object {
  const o = { ...(r as Record<string, unknown>) };
  if (o.curve !== undefined) {
    const c = o.curve as unknown[];
    o.curve = `${c.length} points, sha256 ${createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 16)}`;
  }
  return o;
}

export function goldenOf(events: readonly LabEvent[], error?: string): GoldenRun {
  const steps: unknown[] = [];
  const cycles: unknown[] = [];
  const alerts: unknown[] = [];
  for (const e of events) {
    if (e.type === 'step') steps.push(stepOf(e.record));
    else if (e.type === 'cycle') cycles.push(e.record);
    else if (e.type === 'alert') alerts.push(e.alert);
  }
  return JSON.parse(JSON.stringify({ ...(error !== undefined ? { error } : {}), steps, cycles, alerts })) as GoldenRun;
}

/** The demo lab (5 cells: healthy, penetrating, skewed clocks, 5 Hz, hard short) through the wire edge. */
export async function simulatorGolden(cycles: number): Promise<GoldenRun> {
  // The demo's sampling slowed down (pressure 0.1 Hz, cycler 1/30 Hz; the hard-short cell's cycler 0.2 Hz, so
  // that its voltage samples are close enough for that detector) so the run takes seconds, not minutes.
  const specs = demoCells(5).map((s) => {
    const cycler_Hz = s.hardShort !== null ? 0.2 : 1 / 30;
    return { ...s, pressureRate_Hz: 0.1, currentRate_Hz: cycler_Hz, voltageRate_Hz: cycler_Hz };
  });
  const cfg = configFor(specs);
  const messages: RawMessage[] = [];
  const open = new Map<string, { ts: number; value: number; unit: string }[]>();
  const flush = (key: string, arrival: number): void => {
    const b = open.get(key);
    if (b === undefined || b.length === 0) return;
    messages.push({ topic: `oep/${key}`, payload: Buffer.from(JSON.stringify(b)), arrival });
    open.set(key, []);
  };
  for (const r of simulateCells(specs, { startTs: Date.UTC(2026, 0, 1), seed: 7, cycles })) {
    const key = `${r.cell}/${r.channel}`;
    let b = open.get(key);
    if (b === undefined) open.set(key, (b = []));
    b.push({ ts: r.ts, value: r.value, unit: r.unit });
    if (b.length >= 20) flush(key, r.ts);
  }
  let last = 0;
  for (const m of messages) last = Math.max(last, m.arrival);
  for (const key of open.keys()) flush(key, last);
  const lab = new Lab((id) => resolveCell(cfg, id));
  const batches = await lastValueFrom(
    from(messages).pipe(
      parseMessages({ topicPrefix: 'oep', settingsFor: (id) => resolveCell(cfg, id).ingest, maxFutureSkew_ms: 0 }),
      processInLab(lab),
      toArray(),
    ),
  );
  const events = batches.flat();
  lab.finish(events);
  return goldenOf(events);
}

export interface FileCase {
  /** Name of the golden file (without .json). */
  readonly name: string;
  readonly cyclerFile: string;
  readonly pressureFile?: string;
  readonly reader?: Omit<ReaderOptions, 'fileName' | 'pressure'>;
  readonly pressureReader?: ReaderOptions['pressure'];
  readonly cyclerSteps: boolean;
  readonly format?: FormatName;
}

/** Every recorded file we have: the shared real exports and our synthetic format fixtures. */
export function fileCases(): FileCase[] {
  const cases: FileCase[] = [];
  const real = [
    ...readdirSync(SHARED)
      .filter((f) => !f.endsWith('.md'))
      .map((f) => join(SHARED, f)),
    ...readdirSync(join(SHARED, 'cyclers'))
      .filter((f) => !/\.(md|json|py)$/.test(f))
      .map((f) => join(SHARED, 'cyclers', f)),
  ].filter((p) => !p.endsWith('/cyclers'));
  for (const p of real.sort()) {
    const base = p.slice(SHARED.length).replace(/[/]/g, '__');
    cases.push({ name: `file-${base}-cycler`, cyclerFile: p, cyclerSteps: true });
    cases.push({ name: `file-${base}-derived`, cyclerFile: p, cyclerSteps: false });
  }
  const mapping = parseGenericMapping(parseYaml(readFileSync(join(FORMATS, 'generic_logger.mapping.yaml'), 'utf8')) as object, 'mapping');
  cases.push(
    {
      name: 'fixture-eclab_gcpl_ncm+loadcell',
      cyclerFile: join(FORMATS, 'eclab_gcpl_ncm.mpt'),
      pressureFile: join(FORMATS, 'loadcell_kgf.csv'),
      pressureReader: { offset_ms: 300_000 },
      cyclerSteps: true,
    },
    { name: 'fixture-eclab_plain_fr', cyclerFile: join(FORMATS, 'eclab_plain_fr.mpt'), reader: { startTs: Date.UTC(2024, 2, 14, 9, 40) }, cyclerSteps: true },
    {
      name: 'fixture-arbin+pressure_iso',
      cyclerFile: join(FORMATS, 'arbin_channel_1.csv'),
      pressureFile: join(FORMATS, 'pressure_iso_mpa.csv'),
      cyclerSteps: true,
    },
    { name: 'fixture-arbin-derived', cyclerFile: join(FORMATS, 'arbin_channel_1.csv'), cyclerSteps: false },
    {
      name: 'fixture-generic_logger',
      cyclerFile: join(FORMATS, 'generic_logger.csv'),
      format: 'generic',
      reader: { mapping, startTs: Date.UTC(2024, 2, 14, 9, 40) },
      cyclerSteps: true,
    },
  );
  return cases;
}

/** One file through `processFiles` (the code path of `oep process`), cell settings all default. */
export async function fileGolden(c: FileCase): Promise<GoldenRun> {
  const out = mkdtempSync(join(tmpdir(), 'oep-golden-'));
  const events: LabEvent[] = [];
  try {
    const cfg = parseConfig({ cells: [{ id: 'c' }] });
    await processFiles({
      cyclerFile: c.cyclerFile,
      ...(c.format !== undefined ? { format: c.format } : {}),
      ...(c.pressureFile !== undefined ? { pressureFile: c.pressureFile } : {}),
      ...(c.reader !== undefined ? { reader: c.reader } : {}),
      ...(c.pressureReader !== undefined ? { pressureReader: c.pressureReader } : {}),
      cell: 'c',
      setup: resolveCell(cfg, 'c'),
      cyclerSteps: c.cyclerSteps,
      outDir: out,
      onEvents: (e) => {
        for (const x of e) events.push(x);
      },
    });
    return goldenOf(events);
  } catch (e) {
    return goldenOf([], (e as Error).message.replaceAll(SHARED, '<shared>/').replaceAll(FORMATS, '<formats>/'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
