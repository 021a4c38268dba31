/**
 * Live versus offline on the same recordings, through a real Mosquitto: `oep replay` publishes an EC-Lab
 * export with its load-cell log (one cell) and the real Neware export (another cell) as fast as the broker
 * takes; the daemon (file sink) processes them live; `oep process` processes the same files offline.
 * Every record the daemon wrote equals the offline record, field for field; offline has in addition only
 * what `lab.finish()` emits at the end of a file (the last step, the incomplete cycle), which a live
 * daemon is still waiting to close.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../pipelines/daemon.js';
import { processFiles, type ProcessReport } from '../../pipelines/process.js';
import { command as processCommand } from '../../src/commands/process.js';
import { runReplay, type ReplayReport } from '../../pipelines/replay.js';
import { createLogger } from '../../src/adapters/log.js';
import { parseConfig, type OepConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { num, readCsv, type CsvRecord } from '../support/csv.js';
import { FORMAT_TRUTH as T } from '../support/format-truth.js';
import { until } from '../support/square-cells.js';
import { readInfluxFields, startMosquitto, startVictoriaMetrics, vmClose, type MosquittoHandle } from '../support/services.js';

const FORMATS = fileURLToPath(new URL('../fixtures/formats/', import.meta.url));
const CYCLERS = fileURLToPath(new URL('../fixtures/cyclers/', import.meta.url));
const MPT = join(FORMATS, 'eclab_gcpl_ncm.mpt');
const LOADCELL = join(FORMATS, 'loadcell_kgf.csv');
const NEWARE = join(CYCLERS, 'cellpy__neware_uio.csv');

describe('live (replay → Mosquitto → daemon) equals offline (oep process) on the same recordings', () => {
  let broker: MosquittoHandle;
  let config: OepConfig;
  let replay: ReplayReport;
  const live = mkdtempSync(join(tmpdir(), 'oep-replay-live-'));
  const offline: Record<string, { dir: string; report: ProcessReport }> = {};

  beforeAll(async () => {
    broker = await startMosquitto();
    config = parseConfig({
      mqtt: { url: broker.url, clientId: 'oep-it-replay' },
      output: { dir: live },
      // The defaults (lateness 2 s ≥ the replay window of 1 s); a short idle timeout so the end is released soon.
      alignment: { idleTimeout_ms: 1_000 },
      cells: [
        // Live, the daemon is told what the files' current columns hold (offline, the file says it).
        { id: 'ncm', activeMassG: T.activeMass_g, nominalCurrent_mA: T.current_mA, currentSampling: 'interval-average' },
        { id: 'nw', firstHalf: 'discharge', cycleSource: 'cycler', activeMassG: 0.02, currentSampling: 'instantaneous' },
      ],
    });
    const daemon = new Daemon({ config, log: createLogger('warn') });
    await daemon.start();
    try {
      replay = await runReplay({
        url: broker.url,
        topicPrefix: 'oep',
        files: [
          { path: MPT, cell: 'ncm' },
          { path: LOADCELL, cell: 'ncm' },
          { path: NEWARE, cell: 'nw' },
        ],
        pressure: { offset_ms: T.loadCellClockBehind_s * 1000 },
        speed: Infinity,
      });
      // Everything received, and every buffer released once the channels went idle.
      await until(
        () => {
          let seen = 0;
          for (const c of daemon.lab.cells.values()) seen += c.counters.accepted + c.counters.duplicate + c.counters.late;
          return Promise.resolve(seen === replay.readings && daemon.lab.buffered === 0 ? true : undefined);
        },
        30_000,
        'the daemon to take every reading',
      );
      for (const id of ['ncm', 'nw']) expect(daemon.lab.cell(id).counters.late).toBe(0);
    } finally {
      await daemon.stop();
    }
    offline.ncm = { dir: join(live, 'offline-ncm'), report: undefined as unknown as ProcessReport };
    offline.ncm.report = await processFiles({
      cyclerFile: MPT,
      pressureFile: LOADCELL,
      pressureReader: { offset_ms: T.loadCellClockBehind_s * 1000 },
      cell: 'ncm',
      setup: resolveCell(config, 'ncm'),
      cyclerSteps: true,
      outDir: offline.ncm.dir,
    });
    offline.nw = {
      dir: join(live, 'offline-nw'),
      report: await processFiles({ cyclerFile: NEWARE, cell: 'nw', setup: resolveCell(config, 'nw'), cyclerSteps: true, outDir: join(live, 'offline-nw') }),
    };
  });

  afterAll(async () => {
    await broker?.stop();
    rmSync(live, { recursive: true, force: true });
  });

  /** A CSV's records of one cell, without the cycler's counters (a recorded file's, offline only). */
  const records = (path: string, cell: string): CsvRecord[] =>
    readCsv(path)
      .rows.filter((r) => r.cell === cell)
      .map(({ q_charge_cycler_mAh: _c, q_discharge_cycler_mAh: _d, ...r }) => r);

  it.each(['ncm', 'nw'])('cell %s: the same step records, field for field', (cell) => {
    const liveSteps = records(join(live, 'steps.csv'), cell);
    const off = records(join(offline[cell]!.dir, 'steps.csv'), cell);
    const fin = offline[cell]!.report.finishSteps;
    expect(liveSteps.length).toBeGreaterThan(10);
    expect(fin).toBeLessThanOrEqual(2);
    expect(liveSteps).toEqual(off.slice(0, off.length - fin));
  });

  it.each(['ncm', 'nw'])('cell %s: the same cycle records, field for field', (cell) => {
    const liveCycles = records(join(live, 'cycles.csv'), cell);
    const off = records(join(offline[cell]!.dir, 'cycles.csv'), cell);
    const fin = offline[cell]!.report.finishCycles;
    expect(liveCycles.length).toBeGreaterThanOrEqual(2);
    // Both files end inside a cycle. With the cycler's steps, a cycle closes when the next charge step has
    // closed, so the live daemon may also still hold the last complete cycle.
    expect(fin).toBeGreaterThanOrEqual(1);
    expect(fin).toBeLessThanOrEqual(2);
    expect(liveCycles).toEqual(off.slice(0, off.length - fin));
  });

  it('the pressure log went through: the EC-Lab cell has Δ(ΔP) and Δ(ΔP_Q) live', () => {
    const rows = readCsv(join(live, 'cycles.csv')).rows.filter((r) => r.cell === 'ncm');
    for (const r of rows) {
      expect(r.ddp_MPa).toBeCloseTo(2.015, 1);
      expect(typeof r.ddp_q_MPa_g_per_Ah).toBe('number');
    }
  });
});

describe('oep replay pacing', () => {
  let broker: MosquittoHandle;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('×N spreads the recording over its event-time span / N; max is as fast as the broker takes', async () => {
    // 61 rows, one per 10 s: 600 s of event time.
    const dir = mkdtempSync(join(tmpdir(), 'oep-pace-'));
    const file = join(dir, 'cell7.mpt');
    const rows = Array.from({ length: 61 }, (_, i) => `${i * 10}\t${i < 30 ? 0.5 : -0.5}\t3.7`);
    writeFileSync(file, Buffer.from(['EC-Lab ASCII FILE', 'Nb header lines : 3', 'time/s\t<I>/mA\tEwe/V', ...rows].join('\r\n') + '\r\n', 'latin1'));
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'pace-sub', clean: true });
    await sub.subscribeAsync('oep/+/current', { qos: 1 });
    const arrivals: { t: number; n: number; cell: string }[] = [];
    sub.on('message', (topic, p) => arrivals.push({ t: performance.now(), n: (JSON.parse(p.toString()) as unknown[]).length, cell: topic.split('/')[1]! }));
    const start = '2024-01-01T00:00:00Z';
    const r = await runReplay({ url: broker.url, topicPrefix: 'oep', files: [{ path: file }], reader: { startTs: Date.parse(start) }, speed: 400 });
    await until(() => Promise.resolve(arrivals.reduce((s, a) => s + a.n, 0) === 61 ? true : undefined), 5_000, 'all rows');
    const spread = arrivals[arrivals.length - 1]!.t - arrivals[0]!.t;
    // 600 s / 400 = 1.5 s (first and last windows 600 s apart in event time).
    expect(spread).toBeGreaterThan(1_200);
    expect(spread).toBeLessThan(3_000);
    expect(r.wall_ms).toBeGreaterThan(1_400);
    expect(arrivals[0]!.cell).toBe('cell7'); // the cell is the file's name
    arrivals.length = 0;
    const m = await runReplay({
      url: broker.url,
      topicPrefix: 'oep',
      files: [{ path: file, cell: 'c8' }],
      reader: { startTs: Date.parse(start) },
      speed: Infinity,
    });
    expect(m.wall_ms).toBeLessThan(1_000);
    expect(m.readings).toBe(122);
    await sub.endAsync();
    // A file without a clock and no --start cannot go on the wire (1970 is outside its time range).
    await expect(runReplay({ url: broker.url, topicPrefix: 'oep', files: [{ path: file }], speed: Infinity })).rejects.toThrow(
      /no clock of its own; give its time zero with --start/,
    );
    expect(readFileSync(file, 'latin1')).toContain('EC-Lab');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('oep process --config with an influx section also writes to InfluxDB (VictoriaMetrics /api/v2/write)', () => {
  it('the oep_cycle points equal cycles.csv', async () => {
    const vm = await startVictoriaMetrics();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'oep-process-influx-'));
      const cfg = join(dir, 'oep.yaml');
      writeFileSync(
        cfg,
        [
          `influx: { url: "${vm.url}", org: lab, bucket: oep, token: t, flushInterval_ms: 200 }`,
          'cells:',
          '  - { id: nw, firstHalf: discharge, cycleSource: cycler, activeMassG: 0.02 }',
          '',
        ].join('\n'),
      );
      const out = join(dir, 'out');
      expect(await processCommand.main([NEWARE, '--config', cfg, '--cell', 'nw', '--out', out])).toBe(0);
      const csv = readCsv(join(out, 'cycles.csv')).rows;
      const points = await readInfluxFields(vm, 'oep_cycle', ['cycle', 'q_charge_mAh', 'q_discharge_mAh', 'complete'], { cell: 'nw' });
      expect(points.map((p) => p.fields.cycle)).toEqual([1, 2, 3, 4]);
      points.forEach((p, i) => {
        expect(p.ts).toBe(num(csv[i]!, 'time_ms'));
        expect(vmClose(p.fields.q_charge_mAh!, num(csv[i]!, 'q_charge_mAh'))).toBe(true);
        expect(vmClose(p.fields.q_discharge_mAh!, num(csv[i]!, 'q_discharge_mAh'))).toBe(true);
        expect(p.fields.complete).toBe(num(csv[i]!, 'complete'));
      });
      rmSync(dir, { recursive: true, force: true });
    } finally {
      await vm.stop();
    }
  });
});
