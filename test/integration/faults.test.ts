/**
 * Fault injection against a real Mosquitto and VictoriaMetrics: `oep run` (a child process) takes two
 * simulated cells (8 cycles each) from the broker while the daemon is killed with SIGKILL at random
 * moments, the broker is stopped or killed, the database is down across a stop of the daemon. Each run's
 * cycles and steps (every field of the CSV files, and the `oep_cycle` points in the database) are compared
 * with an uninterrupted run of the same seed: every record identical, none missing, none extra, no record
 * written twice with other values.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareDatabase,
  compareRuns,
  faultConfig,
  killDaemon,
  publishFaultCells,
  readRun,
  settled,
  startDaemonChild,
  type DaemonChild,
  type RunRecords,
} from '../support/faults.js';
import { startMosquitto, startVictoriaMetrics, type MosquittoHandle, type VmHandle } from '../support/services.js';
import { rng } from '../support/hostile.js';

/** Mosquitto saving its persistence file after every change (the only way its state survives a SIGKILL). */
const SAVE_EVERY_CHANGE = ['autosave_on_changes true', 'autosave_interval 1'];

describe('fault injection: every cycle as an uninterrupted run gives it', () => {
  const stops: (() => Promise<unknown>)[] = [];
  const summary: string[] = [];
  let baseline: RunRecords;

  async function services(): Promise<{ broker: MosquittoHandle; vm: VmHandle }> {
    const [broker, vm] = await Promise.all([startMosquitto({ extraConfig: SAVE_EVERY_CHANGE }), startVictoriaMetrics()]);
    stops.push(
      () => broker.stop(),
      () => vm.stop(),
    );
    return { broker, vm };
  }

  async function daemon(configPath: string): Promise<DaemonChild> {
    const d = await startDaemonChild(configPath);
    stops.push(() => killDaemon(d, 'SIGKILL'));
    return d;
  }

  /** Compares a run with the baseline (files and database) and records its line of the summary. */
  async function expectIdentical(name: string, outDir: string, vm: VmHandle): Promise<void> {
    const run = readRun(outDir);
    const c = compareRuns(baseline, run);
    const db = await compareDatabase(vm, baseline);
    summary.push(
      `| ${name} | ${c.cycles.identical}/${c.cycles.expected} | ${c.steps.identical}/${c.steps.expected} | ${db.identical}/${c.cycles.expected} | ` +
        `${c.cycles.missing.length + c.steps.missing.length + db.missing.length} | ${c.cycles.conflicting.length + c.steps.conflicting.length + db.conflicting.length} |`,
    );
    expect({ ...c.cycles, identical: undefined }).toEqual({
      ...c.cycles,
      identical: undefined,
      different: [],
      missing: [],
      extra: [],
      conflicting: [],
      repeated: 0,
    });
    expect(c.cycles.identical).toBe(c.cycles.expected);
    expect(c.steps.identical).toBe(c.steps.expected);
    expect(c.steps.conflicting).toEqual([]);
    expect(c.steps.repeated).toBe(0);
    expect(db).toEqual({ identical: c.cycles.expected, different: [], missing: [], conflicting: [] });
  }

  beforeAll(async () => {
    const { broker, vm } = await services();
    const setup = faultConfig(broker.url, 'oep-fault-base', vm.url);
    const d = await daemon(setup.configPath);
    await publishFaultCells(broker.url);
    await settled(setup.outDir, 8_000, 120_000);
    await killDaemon(d, 'SIGTERM');
    baseline = readRun(setup.outDir);
    // Two cells, 8 cycles each: the last cycle of each stays open (nothing follows it).
    expect(baseline.cycles.byKey.size).toBeGreaterThanOrEqual(14);
    expect(baseline.cycles.repeated).toBe(0);
    summary.push(`| uninterrupted run | ${baseline.cycles.byKey.size} cycles | ${baseline.steps.byKey.size} steps | | | |`);
  }, 240_000);

  afterAll(async () => {
    for (const f of stops.reverse()) await f().catch(() => undefined);
    process.stderr.write(
      `\n| case | cycles identical | steps identical | cycles in the DB | missing | conflicting |\n|---|---|---|---|---|---|\n${summary.join('\n')}\n`,
    );
  });

  it('kill -9 of the daemon at 5 random moments (the first before the first periodic checkpoint)', async () => {
    const { broker, vm } = await services();
    const setup = faultConfig(broker.url, 'oep-fault-kill', vm.url);
    const random = rng(11); // seeded: the kill moments are the same in every run
    let d = await daemon(setup.configPath);
    const publishing = publishFaultCells(broker.url);
    // The checkpoint interval is 2 s: the first kill comes before it, the others anywhere in the ≈ 12 s of publishing.
    const moments = [300 + random() * 1_200, ...Array.from({ length: 4 }, () => 500 + random() * 3_000)];
    for (const wait of moments) {
      await sleep(wait);
      await killDaemon(d, 'SIGKILL');
      d = await daemon(setup.configPath);
    }
    await publishing;
    await settled(setup.outDir, 8_000, 120_000);
    await expectIdentical(`kill -9 of the daemon at ${moments.map((m) => (m / 1000).toFixed(1)).join(', ')} s apart`, setup.outDir, vm);
  }, 240_000);

  it('database down, then a stop (SIGTERM) and a kill -9 of the daemon while it is down, then the database back', async () => {
    const { broker, vm } = await services();
    const setup = faultConfig(broker.url, 'oep-fault-db', vm.url);
    let d = await daemon(setup.configPath);
    const publishing = publishFaultCells(broker.url);
    await sleep(2_000);
    await vm.stop();
    await sleep(3_000);
    await killDaemon(d, 'SIGTERM');
    d = await daemon(setup.configPath);
    await sleep(3_000);
    await killDaemon(d, 'SIGKILL');
    d = await daemon(setup.configPath);
    await publishing;
    await settled(setup.outDir, 8_000, 120_000);
    await vm.restart(); // it is stopped: this starts it
    // The outbox empties once the database is back (its retry delay is at most 30 s).
    const deadline = Date.now() + 90_000;
    while ((await compareDatabase(vm, baseline)).identical < baseline.cycles.byKey.size && Date.now() < deadline) await sleep(1_000);
    await expectIdentical('database down 20 s+, daemon stopped and killed meanwhile, database back', setup.outDir, vm);
  }, 300_000);

  for (const how of ['SIGTERM', 'SIGKILL'] as const) {
    it(`broker ${how} and restart, with persistence`, async () => {
      const { broker, vm } = await services();
      const setup = faultConfig(broker.url, `oep-fault-broker-${how}`, vm.url);
      await daemon(setup.configPath);
      const publishing = publishFaultCells(broker.url);
      for (const wait of [3_000, 3_000]) {
        await sleep(wait);
        if (how === 'SIGKILL') await broker.kill();
        else await broker.stop();
        await sleep(1_000);
        await broker.start();
      }
      await publishing;
      await settled(setup.outDir, 8_000, 120_000);
      await expectIdentical(`broker ${how} twice, restarted after 1 s`, setup.outDir, vm);
    }, 240_000);
  }
});
