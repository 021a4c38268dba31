/**
 * End to end through real services: a real Mosquitto, the daemon, a real `/api/v2/write` server
 * (VictoriaMetrics). Several cells publish with jitter, duplicates, disorder, batches, kgf units and
 * malformed messages; the oep_cycle / oep_step points are read back from the database and compared
 * with ground truth computed in closed form from the generated signal (not by oep's code).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../pipelines/daemon.js';
import { createLogger } from '../../src/adapters/log.js';
import { parseConfig, type OepConfig } from '../../src/config/schema.js';
import { MOLD_13MM_AREA_MM2, N_PER_KGF } from '../../src/domain/units.js';
import { readInfluxFields, startMosquitto, startVictoriaMetrics, type MosquittoHandle, type VmHandle } from '../support/services.js';

/** Start 10 days ago: the database accepts it, and it is clearly event time, not arrival time. */
const T0 = Math.floor((Date.now() - 10 * 86_400_000) / 1000) * 1000;
const MASS_G = 0.0179;
const K_MPA_PER_MAH = 1.2; // pressure rise per mAh plated
const HALF_S = 3600; // 1 h charge, 1 h discharge
const REST_S = 600;

interface CellPlan {
  readonly id: string;
  readonly current_mA: number;
  readonly unit: 'MPa' | 'kgf';
  readonly batch: number;
  readonly jitter_ms: number;
  readonly duplicateEvery: number; // republish every n-th message (QoS 1 redelivery)
  readonly swapEvery: number; // swap the order of every n-th pair of messages (disorder)
}

const CELLS: CellPlan[] = [
  { id: 'cellA', current_mA: 0.65, unit: 'kgf', batch: 100, jitter_ms: 0, duplicateEvery: 0, swapEvery: 0 },
  { id: 'cellB', current_mA: 0.6, unit: 'MPa', batch: 50, jitter_ms: 30, duplicateEvery: 7, swapEvery: 5 },
  { id: 'cellC', current_mA: 0.7, unit: 'MPa', batch: 5, jitter_ms: 20, duplicateEvery: 0, swapEvery: 3 },
];
const CYCLES = 3;

/** Deterministic jitter in [−j, j]. */
const jit = (k: number, j: number): number => (j === 0 ? 0 : Math.round((((k * 7919) % 1000) / 1000 - 0.5) * 2 * j));

function messagesFor(p: CellPlan): { topic: string; payload: string }[] {
  const cur: { ts: number; value: number }[] = [];
  const pre: { ts: number; value: number; unit: string }[] = [];
  const halves: [number, number][] = [];
  for (let c = 0; c < CYCLES; c++) halves.push([p.current_mA, HALF_S], [0, REST_S], [-p.current_mA, HALF_S], [0, REST_S]);
  halves.push([p.current_mA, 1200]); // the next charge starts: closes the last cycle
  let t = 0;
  let stored = 0;
  let k = 0;
  for (const [i, dur] of halves) {
    for (let s = 0; s < dur; s++) cur.push({ ts: T0 + (t + s) * 1000 + 500 + jit(k++, p.jitter_ms), value: i });
    for (let s = 0; s < dur * 2; s++) {
      const P = 15 + K_MPA_PER_MAH * (stored + (i * s) / 2 / 3600);
      const value = p.unit === 'MPa' ? P : (P * MOLD_13MM_AREA_MM2) / N_PER_KGF;
      pre.push({ ts: T0 + (t + s / 2) * 1000 + jit(k++, p.jitter_ms), value, unit: p.unit });
    }
    stored += (i * dur) / 3600;
    t += dur;
  }
  // Interleave the channels by time in batches, as two devices would publish them.
  const msgs: { topic: string; payload: string; t: number }[] = [];
  for (let j = 0; j < cur.length; j += p.batch) msgs.push({ topic: `oep/${p.id}/current`, payload: JSON.stringify(p.batch === 1 ? cur[j] : cur.slice(j, j + p.batch)), t: cur[j]!.ts });
  for (let j = 0; j < pre.length; j += p.batch * 2) msgs.push({ topic: `oep/${p.id}/pressure`, payload: JSON.stringify(pre.slice(j, j + p.batch * 2)), t: pre[j]!.ts });
  msgs.sort((a, b) => a.t - b.t);
  if (p.swapEvery > 0) for (let j = 0; j + 1 < msgs.length; j += p.swapEvery) [msgs[j], msgs[j + 1]] = [msgs[j + 1]!, msgs[j]!];
  const out: { topic: string; payload: string }[] = [];
  msgs.forEach((m, j) => {
    out.push(m);
    if (p.duplicateEvery > 0 && j % p.duplicateEvery === 0) out.push(m);
  });
  return out;
}

const MALFORMED: { topic: string; payload: string; reason: string }[] = [
  { topic: 'oep/cellB/pressure', payload: '{"ts": 12', reason: 'invalid_json' },
  { topic: 'oep/cellB/pressure', payload: `{"ts": ${T0}, "value": 15, "unit": "psi"}`, reason: 'unknown_unit' },
  { topic: 'oep/cellB/current', payload: '{"value": 1}', reason: 'schema' },
  { topic: 'oep/cellB/current', payload: `{"ts": "not a date", "value": 1}`, reason: 'bad_timestamp' },
  { topic: 'oep/cellC/voltage', payload: '"4.2 V"', reason: 'schema' },
  { topic: 'oep/cellC/temperature', payload: `{"ts": ${T0}, "value": 30}`, reason: 'not subscribed: never reaches oep' },
];

async function publishAll(url: string, msgs: { topic: string; payload: string }[]): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `pub-${Math.random()}`, clean: true });
  for (let j = 0; j < msgs.length; j += 500) {
    await Promise.all(msgs.slice(j, j + 500).map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })));
  }
  await client.endAsync();
}

async function until<T>(f: () => Promise<T | undefined>, timeout_ms: number, what: string): Promise<T> {
  const end = Date.now() + timeout_ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

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
    const fields = ['cycle', 'q_charge_mAh', 'q_discharge_mAh', 'ce', 'ddp_MPa', 'ddp_q_MPa_g_per_Ah', 'swing_MPa', 'drift_MPa_g_per_Ah', 'p_irrev_MPa', 'complete'];
    const rows = await until(
      async () => {
        const r = await readInfluxFields(vm, 'oep_cycle', fields);
        return r.length >= CELLS.length * CYCLES ? r : undefined;
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
    const stats = await until(async () => (daemon.influxStats!.pending === 0 ? daemon.influxStats : undefined), 20_000, 'influx flush');
    expect(stats.dropped).toBe(0);
    const csv = readFileSync(join(out, 'cycles.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toContain('ddp_q_MPa_g_per_Ah');
    expect(csv).toHaveLength(1 + CELLS.length * CYCLES);
  });
});
