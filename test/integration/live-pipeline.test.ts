/**
 * End to end through real services: a real Mosquitto, the daemon, a real `/api/v2/write` server
 * (VictoriaMetrics). Several cells publish with jitter, duplicates, disorder, batches, kgf units and
 * malformed messages; the oep_cycle / oep_step points are read back from the database and compared
 * with ground truth computed in closed form from the generated signal (not by oep's code).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../pipelines/daemon.js';
import { createLogger } from '../../src/adapters/log.js';
import { parseConfig, type OepConfig } from '../../src/config/schema.js';
import { CELLS, CYCLES, HALF_S, K_MPA_PER_MAH, MASS_G, T0, messagesFor, publishAll, until } from '../support/square-cells.js';
import { readInfluxFields, startMosquitto, startVictoriaMetrics, type MosquittoHandle, type VmHandle } from '../support/services.js';

const MALFORMED: { topic: string; payload: string; reason: string }[] = [
  { topic: 'oep/cellB/pressure', payload: '{"ts": 12', reason: 'invalid_json' },
  { topic: 'oep/cellB/pressure', payload: `{"ts": ${T0}, "value": 15, "unit": "psi"}`, reason: 'unknown_unit' },
  { topic: 'oep/cellB/current', payload: '{"value": 1}', reason: 'schema' },
  { topic: 'oep/cellB/current', payload: `{"ts": "not a date", "value": 1}`, reason: 'bad_timestamp' },
  { topic: 'oep/cellC/voltage', payload: '"4.2 V"', reason: 'schema' },
  { topic: 'oep/cellC/temperature', payload: `{"ts": ${T0}, "value": 30}`, reason: 'not subscribed: never reaches oep' },
];

describe('live pipeline: Mosquitto → oep → InfluxDB line protocol (VictoriaMetrics)', () => {
  let broker: MosquittoHandle;
  let vm: VmHandle;
  let daemon: Daemon;
  let config: OepConfig;
  const out = mkdtempSync(join(tmpdir(), 'oep-live-'));

  beforeAll(async () => {
    [broker, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    config = parseConfig({
      mqtt: { url: broker.url, clientId: 'oep-it-live' },
      influx: { url: vm.url, org: 'lab', bucket: 'oep', token: 'test', flushInterval_ms: 200 },
      output: { dir: out },
      // Batches span up to 100 s of event time and arrive swapped: the lateness bound must cover that.
      alignment: { lateness_ms: 120_000, idleTimeout_ms: 5_000 },
      defaults: { activeMassG: MASS_G, formationCycles: 1 },
      cells: [{ id: 'cellA', pressureUnit: 'kgf' }],
    });
    daemon = new Daemon({ config, log: createLogger('warn') });
    await daemon.start();
    await publishAll(broker.url, [...CELLS.flatMap(messagesFor), ...MALFORMED]);
  });

  afterAll(async () => {
    await daemon?.stop();
    await Promise.all([broker?.stop(), vm?.stop()]);
  });

  it('writes every cycle of every cell with the closed-form Δ(ΔP), Δ(ΔP_Q), capacities and CE', async () => {
    const fields = [
      'cycle',
      'q_charge_mAh',
      'q_discharge_mAh',
      'ce',
      'ddp_MPa',
      'ddp_q_MPa_g_per_Ah',
      'swing_MPa',
      'drift_MPa_g_per_Ah',
      'p_irrev_MPa',
      'complete',
    ];
    const rows = await until(
      async () => {
        const r = await readInfluxFields(vm, 'oep_cycle', fields);
        // each field is its own series in the database: wait until every point has all of them
        return r.length >= CELLS.length * CYCLES && r.every((x) => fields.every((f) => f === 'drift_MPa_g_per_Ah' || f in x.fields)) ? r : undefined;
      },
      60_000,
      'oep_cycle points',
    );
    expect(rows).toHaveLength(CELLS.length * CYCLES);
    for (const p of CELLS) {
      const mine = rows.filter((r) => r.tags.cell === p.id);
      expect(mine.map((r) => r.fields.cycle)).toEqual([1, 2, 3]);
      const q = p.current_mA * (HALF_S / 3600); // mAh per half
      const ddp = K_MPA_PER_MAH * q;
      const ddpQ = ddp / (q / 1000 / MASS_G);
      for (const r of mine) {
        const f = r.fields;
        // Tolerances: ±30 ms jitter on 1 s current samples → < 1e-4 relative on capacities.
        expect(f.q_charge_mAh! / q).toBeCloseTo(1, 3);
        expect(f.q_discharge_mAh! / q).toBeCloseTo(1, 3);
        expect(f.ce).toBeCloseTo(1, 3);
        expect(f.ddp_MPa! / ddp).toBeCloseTo(1, 3);
        expect(f.swing_MPa! / ddp).toBeCloseTo(1, 3);
        expect(f.ddp_q_MPa_g_per_Ah! / ddpQ).toBeCloseTo(1, 3);
        expect(f.p_irrev_MPa).toBeCloseTo(0, 3);
        expect(f.complete).toBe(1);
      }
      // Reference cycle = first after formation (formationCycles 1 → cycle 2): drift 0 there and ≈ 0 after.
      expect(mine[0]!.fields.drift_MPa_g_per_Ah).toBeUndefined();
      expect(mine[1]!.fields.drift_MPa_g_per_Ah).toBe(0);
      expect(mine[2]!.fields.drift_MPa_g_per_Ah).toBeCloseTo(0, 2);
    }
  });

  it('writes the steps with their kind as a tag and the pressure at their boundaries', async () => {
    const rows = await readInfluxFields(vm, 'oep_step', ['cycle', 'q_mAh', 'dp_MPa', 'duration_s', 'p_start_MPa'], { cell: 'cellB' });
    const charges = rows.filter((r) => r.tags.kind === 'charge' && r.fields.cycle! >= 1);
    expect(charges.length).toBeGreaterThanOrEqual(CYCLES);
    for (const r of charges.slice(0, CYCLES)) {
      expect(r.fields.duration_s).toBeCloseTo(HALF_S, -1);
      expect(r.fields.dp_MPa! / (K_MPA_PER_MAH * 0.6)).toBeCloseTo(1, 2);
    }
    expect(rows.find((r) => r.tags.kind === 'rest')).toBeDefined();
  });

  it('counts duplicates, rejections by reason, and loses nothing', async () => {
    const b = daemon.lab.cell('cellB').counters;
    expect(b.duplicate).toBeGreaterThan(0);
    expect(b.late).toBe(0);
    expect(b.rejected).toEqual({ invalid_json: 1, unknown_unit: 1, schema: 1, bad_timestamp: 1 });
    expect(daemon.lab.cell('cellC').counters.rejected).toEqual({ schema: 1 });
    expect(daemon.lab.cell('cellA').counters.duplicate).toBe(0);
    const stats = await until(() => Promise.resolve(daemon.influxStats!.pending === 0 ? daemon.influxStats : undefined), 20_000, 'influx flush');
    expect(stats.dropped).toBe(0);
    const csv = readFileSync(join(out, 'cycles.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toContain('ddp_q_MPa_g_per_Ah');
    expect(csv).toHaveLength(1 + CELLS.length * CYCLES);
  });
});
