/**
 * `oep process`: recorded files through the same lab as the daemon, into steps.csv / cycles.csv.
 * - The two real exports (test/fixtures/cyclers): every step and every cycle agrees with the cycler's own
 *   capacities within 0.5 %, and the cycle count matches.
 * - The synthetic exports (test/fixtures/formats): the pressure metrics agree with the closed-form truth
 *   of the cell they were written from, the load-cell clock offset lines the two files up.
 * - The command line: outputs, refusal to mix runs, files that go back in time.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { processFiles, type ProcessOptions, type ProcessReport } from '../../pipelines/process.js';
import { progressBar } from '../../src/commands/progress.js';
import { command as processCommand } from '../../src/commands/process.js';
import { cellConfig } from '../../src/commands/cell-config.js';
import { CELL_OPTIONS, quickCellSetup, type CellOptionValues } from '../../src/commands/cell-options.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { parseMaccorText } from '../../src/readers/maccor/parser.js';
import { parseNewareCsv } from '../../src/readers/neware/parser.js';
import type { CyclerStepOracle } from '../../src/readers/types.js';
import { num, readCsv, type CsvRecord } from '../support/csv.js';
import { cycleTruth, FORMAT_TRUTH as T } from '../support/format-truth.js';
import { perCycle } from './readers/support.js';

const CYCLERS = fileURLToPath(new URL('../fixtures/cyclers/', import.meta.url));
const FORMATS = fileURLToPath(new URL('../fixtures/formats/', import.meta.url));
const NEWARE = join(CYCLERS, 'cellpy__neware_uio.csv');
const MACCOR = join(CYCLERS, 'beep__xTESLADIAG_000038.078');
const made: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'oep-process-'));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

async function run(
  cell: string,
  cellCfg: object,
  o: Omit<ProcessOptions, 'cell' | 'setup' | 'outDir' | 'cyclerSteps'> & { cyclerSteps?: boolean },
): Promise<{ report: ProcessReport; steps: CsvRecord[]; cycles: CsvRecord[]; out: string }> {
  const out = tmp();
  const cfg = parseConfig({ cells: [{ id: cell, ...cellCfg }] });
  const report = await processFiles({ cyclerSteps: true, ...o, cell, setup: resolveCell(cfg, cell), outDir: out });
  expect(report.late).toBe(0);
  return { report, steps: readCsv(join(out, 'steps.csv')).rows, cycles: readCsv(join(out, 'cycles.csv')).rows, out };
}

const rel = (a: number, b: number): number => Math.abs(a - b) / b;

/** Every active oracle step has its own steps.csv row (same cycler step and cycle index) within 0.5 %. */
function expectStepsAgree(steps: CsvRecord[], oracle: readonly CyclerStepOracle[]): number {
  expect(steps).toHaveLength(oracle.length);
  let worst = 0;
  oracle.forEach((o, k) => {
    const s = steps[k]!;
    expect([s.cycler_cycle, s.cycler_step, s.kind], `step ${k}`).toEqual([o.cycleIndex, o.stepIndex, o.kind]);
    if (o.kind === 'rest') return;
    const q = o.kind === 'charge' ? num(s, 'q_charge_mAh') : num(s, 'q_discharge_mAh');
    worst = Math.max(worst, rel(q, o.capacity_mAh));
  });
  expect(worst).toBeLessThan(0.005);
  return worst;
}

describe('oep process on the real Neware export', () => {
  const data = parseNewareCsv(readFileSync(NEWARE, 'latin1'), { fileName: 'neware' });

  it("with the cycler's step and cycle index (cycleSource cycler): every step and the 4 cycles agree within 0.5 %", async () => {
    // The cycler's cycle 3 holds two discharge/charge pairs: only its own index gives its 4 cycles.
    const { steps, cycles, report } = await run('nw', { firstHalf: 'discharge', cycleSource: 'cycler', activeMassG: 0.02 }, { cyclerFile: NEWARE });
    expect(report.format).toBe('neware');
    expect(report.rows).toBe(9065);
    expectStepsAgree(steps, data.oracle);
    const oracle = perCycle(data.oracle);
    expect(cycles.map((c) => c.cycle)).toEqual([1, 2, 3, 4]);
    expect(cycles.map((c) => c.complete)).toEqual([1, 1, 1, 0]);
    // SOURCES.md: per-cycle (charge, discharge) Ah.
    const sources: [number, number][] = [
      [0.00424934, 0.00508628],
      [0.00424668, 0.00436841],
      [0.00783477, 0.00797423],
      [0.00143796, 0.00331516],
    ];
    cycles.forEach((c, i) => {
      const o = oracle.get(num(c, 'cycle'))!;
      expect(rel(num(c, 'q_charge_mAh'), o.c)).toBeLessThan(0.005);
      expect(rel(num(c, 'q_discharge_mAh'), o.d)).toBeLessThan(0.005);
      expect(rel(num(c, 'q_charge_mAh'), sources[i]![0] * 1000)).toBeLessThan(0.005);
      expect(rel(num(c, 'q_discharge_mAh'), sources[i]![1] * 1000)).toBeLessThan(0.005);
      expect(num(c, 'ce')).toBeCloseTo(num(c, 'q_discharge_mAh') / num(c, 'q_charge_mAh'), 12);
    });
    // No pressure file: the pressure fields are empty, never zero.
    for (const r of [...steps, ...cycles])
      for (const k of ['p_start_MPa', 'p_end_MPa', 'dp_MPa', 'ddp_MPa', 'ddp_q_MPa_g_per_Ah']) expect(r[k]).toBeUndefined();
  });
});

describe('oep process on the real Maccor export', () => {
  const data = parseMaccorText(readFileSync(MACCOR, 'latin1'), { fileName: 'maccor' });

  it('every cycler step and all 24 cycles agree with the cycler within 0.5 % (cycles derived: charge first)', async () => {
    const { steps, cycles } = await run('mc', { nominalCurrent_mA: 4700, activeMassG: 20 }, { cyclerFile: MACCOR });
    expectStepsAgree(steps, data.oracle);
    const oracle = perCycle(data.oracle);
    expect(cycles).toHaveLength(oracle.size);
    for (const c of cycles) {
      // Ours count from 1, the cycler's Cyc# from 0.
      const o = oracle.get(num(c, 'cycle') - 1)!;
      expect(rel(num(c, 'q_charge_mAh'), o.c)).toBeLessThan(0.005);
      if (o.d > 0) expect(rel(num(c, 'q_discharge_mAh'), o.d)).toBeLessThan(0.005);
    }
    expect(num(cycles[1]!, 'q_charge_mAh')).toBeCloseTo(3985.14, -1);
    expect(cycles[cycles.length - 1]!.complete).toBe(0);
  });

  it('segmented from the current alone (--steps derived) the cycles still agree within 0.5 %', async () => {
    const { cycles, steps } = await run('mc', { nominalCurrent_mA: 4700, activeMassG: 20 }, { cyclerFile: MACCOR, cyclerSteps: false });
    expect(steps.every((s) => s.cycler_step === undefined)).toBe(true);
    const oracle = perCycle(data.oracle);
    expect(cycles).toHaveLength(24);
    for (const c of cycles) expect(rel(num(c, 'q_charge_mAh'), oracle.get(num(c, 'cycle') - 1)!.c)).toBeLessThan(0.005);
  });
});

describe('oep process on the synthetic exports, against the cell they were written from', () => {
  const truth = cycleTruth(T.current_mA);
  const count_MPa = (0.1 * 9.80665) / T.areaMm2; // one load-cell count

  it('EC-Lab + load-cell log (kgf, logger clock 300 s behind): Δ(ΔP), swing, ratchet and Δ(ΔP_Q) from the truth', async () => {
    const { cycles, steps, report } = await run(
      'ncm',
      { activeMassG: T.activeMass_g, nominalCurrent_mA: T.current_mA },
      { cyclerFile: join(FORMATS, 'eclab_gcpl_ncm.mpt'), pressureFile: join(FORMATS, 'loadcell_kgf.csv'), pressureReader: { offset_ms: 300_000 } },
    );
    expect(report).toMatchObject({ format: 'biologic', pressureFormat: 'pressure', cycles: 4 });
    expect(cycles.map((c) => c.complete)).toEqual([1, 1, 1, 0]);
    for (const c of cycles.slice(0, 3)) {
      expect(rel(num(c, 'q_charge_mAh'), truth.qCharge_mAh)).toBeLessThan(1e-4);
      expect(rel(num(c, 'q_discharge_mAh'), truth.qDischarge_mAh)).toBeLessThan(1e-4);
      // Pressure = 15 MPa + 1.0 MPa/mAh × stored, read in 0.1 kgf counts: within 2 counts.
      expect(Math.abs(num(c, 'ddp_MPa') - T.k_MPa_per_mAh * truth.qDischarge_mAh)).toBeLessThan(2 * count_MPa);
      expect(Math.abs(num(c, 'swing_MPa') - T.k_MPa_per_mAh * truth.qCharge_mAh)).toBeLessThan(2 * count_MPa);
      expect(Math.abs(num(c, 'p_irrev_MPa') - T.k_MPa_per_mAh * (truth.qCharge_mAh - truth.qDischarge_mAh))).toBeLessThan(2 * count_MPa);
      expect(num(c, 'ddp_q_MPa_g_per_Ah')).toBeCloseTo(num(c, 'ddp_MPa') / (num(c, 'q_discharge_mAh') / 1000 / T.activeMass_g), 9);
    }
    // The discharge steps start at the pressure of the end of charge (the clocks lined up).
    const discharges = steps.filter((s) => s.kind === 'discharge');
    discharges.forEach((s, n) => {
      const stored = (n + 1) * truth.qCharge_mAh - n * truth.qDischarge_mAh;
      expect(Math.abs(num(s, 'p_start_MPa') - (15 + T.k_MPa_per_mAh * stored))).toBeLessThan(count_MPa);
    });
  });

  it('without the clock offset the same files give discharge starts off by the 300 s of current (what the offset fixes)', async () => {
    const { steps } = await run(
      'ncm',
      { activeMassG: T.activeMass_g, nominalCurrent_mA: T.current_mA },
      { cyclerFile: join(FORMATS, 'eclab_gcpl_ncm.mpt'), pressureFile: join(FORMATS, 'loadcell_kgf.csv') },
    );
    const s = steps.find((x) => x.kind === 'discharge')!;
    const shift = (T.k_MPa_per_mAh * T.current_mA * 300) / 3600; // 0.054 MPa
    expect(Math.abs(num(s, 'p_start_MPa') - (15 + T.k_MPa_per_mAh * (truth.qCharge_mAh - (T.current_mA * 300) / 3600)))).toBeLessThan(count_MPa);
    expect(shift).toBeGreaterThan(5 * count_MPa);
  });

  it('Arbin + ISO-timestamped pressure in MPa: CC and CV are cycler steps, cycles match the truth', async () => {
    const { cycles, steps } = await run(
      'arb',
      { activeMassG: T.activeMass_g, nominalCurrent_mA: T.current_mA },
      { cyclerFile: join(FORMATS, 'arbin_channel_1.csv'), pressureFile: join(FORMATS, 'pressure_iso_mpa.csv') },
    );
    expect(steps.slice(0, 6).map((s) => s.cycler_step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(cycles).toHaveLength(2);
    const c = cycles[0]!;
    expect(rel(num(c, 'q_charge_mAh'), truth.qCharge_mAh)).toBeLessThan(1e-4);
    expect(num(c, 'ddp_MPa')).toBeCloseTo(T.k_MPa_per_mAh * truth.qDischarge_mAh, 2);
    expect(num(c, 'dp_charge_MPa')).toBeCloseTo(T.k_MPa_per_mAh * truth.qCharge_mAh, 2);
  });
});

describe('oep process, the command', () => {
  it('writes steps.csv and cycles.csv with the oep_step / oep_cycle field names, and refuses to mix with an earlier run', async () => {
    const out = tmp();
    const args = [
      join(FORMATS, 'generic_logger.csv'),
      '--mapping',
      join(FORMATS, 'generic_logger.mapping.yaml'),
      '--cell',
      'gen',
      '--out',
      out,
      '--active-mass-g',
      '0.0179',
      '--nominal-current-ma',
      '0.65',
    ];
    expect(await processCommand.main(args)).toBe(0);
    const steps = readCsv(join(out, 'steps.csv'));
    const cycles = readCsv(join(out, 'cycles.csv'));
    expect(steps.header.slice(0, 10)).toEqual(['time_ms', 'time_iso', 'elapsed_h', 'cell', 'kind', 'cycle', 'step', 'start_time_ms', 'duration_s', 'q_mAh']);
    // The time three ways: epoch ms, ISO-8601 UTC, hours since the cell's first step began.
    const [s0, s1] = [steps.rows[0]!, steps.rows[1]!];
    expect(s0.time_iso).toBe(new Date(num(s0, 'time_ms')).toISOString());
    expect(num(s0, 'elapsed_h')).toBeCloseTo(num(s0, 'duration_s') / 3600, 9);
    expect(num(s1, 'elapsed_h')).toBeCloseTo((num(s1, 'time_ms') - num(s0, 'start_time_ms')) / 3_600_000, 9);
    expect(cycles.header.slice(0, 4)).toEqual(['time_ms', 'time_iso', 'elapsed_h', 'cell']);
    expect(cycles.header).toContain('ddp_q_MPa_g_per_Ah');
    expect(cycles.rows.map((c) => c.cycle)).toEqual([1, 2]);
    expect(rel(num(cycles.rows[0]!, 'q_discharge_mAh_g'), cycleTruth(T.current_mA).qDischarge_mAh / T.activeMass_g)).toBeLessThan(1e-4);
    await expect(processCommand.main(args)).rejects.toThrow(/already holds steps\.csv, cycles\.csv.*--force/);
    expect(await processCommand.main([...args, '--force'])).toBe(0);
    expect(readCsv(join(out, 'cycles.csv')).rows).toHaveLength(2);
  });

  it('settings from the command line go over the config file, checked by the config schema', () => {
    const base = parseConfig({ defaults: { activeMassG: 1 }, cells: [{ id: 'a', areaMm2: 100, firstHalf: 'discharge' }] });
    const c = cellConfig(base, 'a', { 'area-mm2': '50' });
    expect(resolveCell(c, 'a').ingest.areaMm2).toBe(50);
    expect(resolveCell(c, 'a').processor.firstHalf).toBe('discharge');
    expect(() => cellConfig(base, 'a', { 'first-half': 'sideways' })).toThrow(/firstHalf/);
    expect(() => cellConfig(base, 'a', { 'area-mm2': '-3' })).toThrow(/areaMm2/);
  });

  it('without a config file the cell is made from the command line without the schema, the same cell as the schema makes', () => {
    const schemaCell = (cell: string, v: CellOptionValues) => resolveCell(cellConfig(parseConfig({}), cell, v), cell);
    const cases: CellOptionValues[] = [
      {},
      { 'active-mass-g': '0.0179', 'nominal-current-ma': '0.65' },
      { 'area-mm2': '50', normalization: 'areal', 'electrode-area-mm2': '120', 'current-sign': 'discharge-positive', 'rest-current-ma': '0' },
      { 'min-step-s': '0', 'current-max-gap-s': '30', 'pressure-max-gap-s': '1e3', 'first-half': 'discharge', 'cycle-source': 'cycler' },
      { 'formation-cycles': '0', 'ref-cycle': '7', 'dpdq-grid-mah': '0.01', normalization: 'mass', 'active-mass-g': '1' },
    ];
    for (const v of cases) {
      const quick = quickCellSetup('cell-07', v);
      expect(quick, JSON.stringify(v)).toBeDefined();
      expect(quick, JSON.stringify(v)).toStrictEqual(schemaCell('cell-07', v));
    }
    // What the schema refuses is left to it (its message names the key).
    const refused: [string, CellOptionValues][] = [
      ['c', { 'area-mm2': '-3' }],
      ['c', { 'area-mm2': 'Infinity' }],
      ['c', { 'active-mass-g': 'abc' }],
      ['c', { 'rest-current-ma': '-0.1' }],
      ['c', { 'formation-cycles': '1.5' }],
      ['c', { 'ref-cycle': '0' }],
      ['c', { 'first-half': 'sideways' }],
      ['c', { 'cycle-source': 'Cycler' }],
      ['a/b', {}],
      ['', {}],
      ['x'.repeat(129), {}],
    ];
    for (const [cell, v] of refused) {
      expect(quickCellSetup(cell, v), `${cell} ${JSON.stringify(v)}`).toBeUndefined();
      expect(() => schemaCell(cell, v), `${cell} ${JSON.stringify(v)}`).toThrow();
    }
  });

  it('every option, every kind of value: what the quick path takes, the schema takes, and makes the same cell of', () => {
    const schemaCell = (cell: string, v: CellOptionValues) => resolveCell(cellConfig(parseConfig({}), cell, v), cell);
    const numbers = ['-1', '-0', '0', '1e-9', '0.5', '1', '1.5', '7', '1e3', '1e400', 'Infinity', 'NaN', 'abc', '', ' 2', '0x10', '2e0'];
    const words = ['mass', 'areal', 'charge-positive', 'discharge-positive', 'charge', 'discharge', 'auto', 'derived', 'cycler', 'Cycler', ' mass', ''];
    let taken = 0;
    for (const [opt, [, type]] of Object.entries(CELL_OPTIONS)) {
      for (const value of type === 'number' ? numbers : words) {
        const v: CellOptionValues = { [opt]: value };
        const quick = quickCellSetup('c', v);
        if (quick === undefined) continue;
        taken++;
        expect(quick, `--${opt}=${value}`).toStrictEqual(schemaCell('c', v));
      }
    }
    expect(taken).toBeGreaterThan(50);
  });

  it('a bad cell setting without a config file: the schema says what is wrong (exit through ConfigError)', async () => {
    const out = join(tmp(), 'out');
    const args = [join(FORMATS, 'eclab_plain_fr.mpt'), '--cell', 'b', '--out', out, '--start', '2024-05-01T00:00:00Z'];
    await expect(processCommand.main([...args, '--area-mm2=-3'])).rejects.toThrow(/areaMm2/);
    await expect(processCommand.main([...args, '--first-half', 'sideways'])).rejects.toThrow(/firstHalf/);
    await expect(processCommand.main([...args, '--cell', 'a/b'])).rejects.toThrow(/cell id/);
  });

  it('a file that goes back in time: the late readings are counted, kept in late.csv, and the exit code is 1', async () => {
    const dir = tmp();
    const text = readFileSync(join(FORMATS, 'eclab_plain_fr.mpt'), 'latin1').split('\r\n');
    // Move a block of rows 2 h back: a clock step in the middle of the file.
    const bad = text.map((l, i) => (i >= 400 && i < 420 ? l.replace(/^(\d\t\d\t\d\t)(\d+),/, (_m, p: string, t: string) => `${p}${Number(t) - 7200},`) : l));
    writeFileSync(join(dir, 'bad.mpt'), Buffer.from(bad.join('\r\n'), 'latin1'));
    const out = join(dir, 'out');
    const code = await processCommand.main([join(dir, 'bad.mpt'), '--cell', 'b', '--out', out, '--start', '2024-05-01T00:00:00Z']);
    expect(code).toBe(1);
    expect(readFileSync(join(out, 'late.csv'), 'utf8').trim().split('\n').length).toBeGreaterThan(10);
  });

  it('an unknown layout is a clear error naming the file and line', async () => {
    const dir = tmp();
    copyFileSync(join(FORMATS, 'generic_logger.csv'), join(dir, 'logger.csv'));
    await expect(processCommand.main([join(dir, 'logger.csv'), '--cell', 'x', '--out', join(dir, 'o')])).rejects.toThrow(
      /^logger\.csv:1: expected an EC-Lab \.mpt/,
    );
    expect(existsSync(join(dir, 'o', 'steps.csv'))).toBe(false);
  });
});

describe('oep process on a folder (a campaign)', () => {
  it('each file into its own folder, one summary.csv (a failed file named with its error), all records together, one report', async () => {
    const dir = tmp();
    copyFileSync(join(FORMATS, 'arbin_channel_1.csv'), join(dir, 'cell A.csv'));
    copyFileSync(NEWARE, join(dir, 'nw.csv'));
    writeFileSync(join(dir, 'notes.txt'), 'not a cycler export\n');
    const out = join(tmp(), 'campaign');
    // One file could not be read: exit code 1, the others processed.
    expect(await processCommand.main([dir, '--out', out, '--no-progress', '--active-mass-g', '0.02'])).toBe(1);
    const summary = readCsv(join(out, 'summary.csv')).rows;
    expect(summary.map((r) => [r.cell, r.format, r.cycle_definition])).toEqual([
      ['cell_A', 'arbin', 'cycler'],
      ['notes', undefined, 'none'],
      ['nw', 'neware', 'cycler'],
    ]);
    expect(String(summary[1]!.error)).toMatch(/^notes\.txt:1: expected /);
    // Per file: its own outputs; the summary's figures are its cycles'.
    const nwCycles = readCsv(join(out, 'nw', 'cycles.csv')).rows;
    expect(summary[2]!.cycles).toBe(nwCycles.length);
    expect(num(summary[2]!, 'ce_mean')).toBeCloseTo(
      nwCycles.filter((c) => c.complete === 1).reduce((s, c) => s + num(c, 'ce'), 0) / nwCycles.filter((c) => c.complete === 1).length,
      12,
    );
    // Everything together, and one report over it.
    const all = readCsv(join(out, 'cycles.csv')).rows;
    expect(new Set(all.map((c) => c.cell))).toEqual(new Set(['cell_A', 'nw']));
    expect(all.length).toBe(nwCycles.length + readCsv(join(out, 'cell_A', 'cycles.csv')).rows.length);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('cell_A');
    // A second run into the same folder is refused unless --force.
    await expect(processCommand.main([dir, '--out', out, '--no-progress'])).rejects.toThrow(/summary\.csv.*--force/);
  });
});

describe('progress bar', () => {
  it('draws on a terminal only, and clears its line at the end', () => {
    const written: string[] = [];
    const tty = { isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    let t = 0;
    const bar = progressBar('oep process', tty, () => t);
    t = 2000;
    bar.update(50, 100, 1_000_000);
    expect(written[0]).toBe(`\roep process [${'#'.repeat(15)}${'.'.repeat(15)}]  50%  1,000,000 rows  500,000 rows/s `);
    bar.done();
    expect(written[1]).toBe('\r\x1b[2K');
    const pipe = {
      isTTY: false,
      write: () => {
        throw new Error('no drawing on a pipe');
      },
    } as unknown as NodeJS.WriteStream;
    const quiet = progressBar('x', pipe);
    quiet.update(1, 2, 3);
    quiet.done();
  });
});
