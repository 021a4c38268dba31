/**
 * The daemon survives what happens over weeks: its own restart (state resumed, readings published while
 * it was down delivered by the broker's persistent session), a broker restart, and a database outage.
 * In every case each cycle reaches the database exactly once with its closed-form values.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Daemon } from '../../pipelines/daemon.js';
import { createLogger } from '../../src/adapters/log.js';
import { parseConfig, type OepConfig } from '../../src/config/schema.js';
import { CYCLES, MASS_G, messagesFor, publishAll, truthFor, until, type CellPlan } from '../support/square-cells.js';
import { readInfluxFields, startMosquitto, startVictoriaMetrics, type MosquittoHandle, type VmHandle } from '../support/services.js';

const PLAN: CellPlan = { id: 'r1', current_mA: 0.65, unit: 'MPa', batch: 20, jitter_ms: 10, duplicateEvery: 0, swapEvery: 0 };

function configFor(broker: MosquittoHandle, vm: VmHandle, stateDir: string): OepConfig {
  return parseConfig({
    mqtt: { url: broker.url, clientId: 'oep-it-resilience' },
    influx: { url: vm.url, org: 'lab', bucket: 'oep', token: 't', flushInterval_ms: 200 },
    state: { dir: stateDir, interval_s: 3600 },
    alignment: { lateness_ms: 60_000, idleTimeout_ms: 5_000 },
    defaults: { activeMassG: MASS_G, formationCycles: 0 },
  });
}

async function expectAllCycles(vm: VmHandle): Promise<void> {
  const rows = await until(
    async () => {
      const r = await readInfluxFields(vm, 'oep_cycle', ['cycle', 'q_charge_mAh', 'q_discharge_mAh', 'ddp_MPa', 'ddp_q_MPa_g_per_Ah'], { cell: PLAN.id });
      // each field is its own series in the database: wait until every point has all of them
      return r.length >= CYCLES && r.every((x) => Object.keys(x.fields).length === 5) ? r : undefined;
    },
    60_000,
    'all cycles in the database',
  );
  const t = truthFor(PLAN);
  expect(rows.map((r) => r.fields.cycle)).toEqual([1, 2, 3]);
  for (const r of rows) {
    expect(r.duplicates).toBeUndefined();
    expect(r.fields.q_charge_mAh! / t.q_mAh).toBeCloseTo(1, 3);
    expect(r.fields.q_discharge_mAh! / t.q_mAh).toBeCloseTo(1, 3);
    expect(r.fields.ddp_MPa! / t.ddp_MPa).toBeCloseTo(1, 3);
    expect(r.fields.ddp_q_MPa_g_per_Ah! / t.ddpQ).toBeCloseTo(1, 3);
  }
}

describe('resilience', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => undefined);
    cleanup.length = 0;
  });

  /** A broker and a database of its own for one test, stopped after it; the daemon's config for them. */
  async function services(): Promise<{ broker: MosquittoHandle; vm: VmHandle; config: OepConfig }> {
    const [broker, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    cleanup.push(
      () => broker.stop(),
      () => vm.stop(),
    );
    return { broker, vm, config: configFor(broker, vm, mkdtempSync(join(tmpdir(), 'oep-state-'))) };
  }

  it('resumes after its own restart: state restored, readings sent while it was down delivered', async () => {
    const { broker, vm, config } = await services();
    const msgs = messagesFor(PLAN);
    const cut = Math.floor(msgs.length * 0.45); // mid-cycle 2

    const first = new Daemon({ config, log: createLogger('warn') });
    await first.start();
    await publishAll(broker.url, msgs.slice(0, cut));
    await until(() => Promise.resolve(first.mqtt.received >= cut ? true : undefined), 20_000, 'first part received');
    const r1 = await first.stop();
    expect(r1.stateSaved).toBe(true);
    expect(r1.influx?.lost).toBe(0);

    // Published while the daemon is down: the broker keeps them for the persistent session.
    await publishAll(broker.url, msgs.slice(cut));

    const second = new Daemon({ config, log: createLogger('warn') });
    cleanup.push(() => second.stop());
    await second.start();
    await expectAllCycles(vm);
    const c = second.lab.cell(PLAN.id).counters;
    expect(c.late).toBe(0);
  });

  it('survives a broker restart and a database outage without losing a cycle', async () => {
    const { broker, vm, config } = await services();
    const msgs = messagesFor(PLAN);
    const third = Math.floor(msgs.length / 3);
    const daemon = new Daemon({ config, log: createLogger('error') });
    cleanup.push(() => daemon.stop());
    await daemon.start();

    await publishAll(broker.url, msgs.slice(0, third));
    await until(() => Promise.resolve(daemon.mqtt.received >= third ? true : undefined), 20_000, 'first third received');

    await broker.restart();
    await until(() => Promise.resolve(daemon.mqtt.connected ? true : undefined), 20_000, 'reconnect after broker restart');

    await vm.stop();
    await publishAll(broker.url, msgs.slice(third));
    await until(() => Promise.resolve(daemon.mqtt.received >= msgs.length ? true : undefined), 20_000, 'everything received');
    // The cycles are computed while the database is down; their points wait in the retry buffer.
    await until(() => Promise.resolve(daemon.lab.cell(PLAN.id).counters.cycles >= CYCLES ? true : undefined), 20_000, 'cycles computed');
    expect(daemon.influxStats!.pending).toBeGreaterThan(0);
    await vm.restart();
    await expectAllCycles(vm);
    const report = await daemon.stop();
    expect(report.influx?.lost).toBe(0);
  });
});
