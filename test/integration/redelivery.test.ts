/**
 * A redelivery larger than the former dedup ring (1,024 readings per channel), through a real Mosquitto
 * and `oep run` in a child process: a publisher sends a cell's 20,000 s of 1 Hz current and pressure in
 * batches of 5,000 readings, the daemon releases them all (the cell goes idle), then the publisher sends
 * every batch again (as a device does after a reconnect that lost its PUBACKs: to the daemon a new
 * message, which the journal takes). Every repeated reading is counted a duplicate, none late (before the
 * runs of dedup.ts, 37,948 of the 40,000 were late), and the results are those of the first delivery.
 * The same for the fault suite's two simulated cells (50,816 readings, stamps jittered ±20 ms), published
 * twice: all duplicates (before: 6,150 duplicates, 44,666 late).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_CELLS, faultConfig, killDaemon, publishFaultCells, readRun, startDaemonChild } from '../support/faults.js';
import { startMosquitto, type MosquittoHandle } from '../support/services.js';
import { until } from '../support/square-cells.js';

const T = Date.UTC(2026, 0, 1);
const SECONDS = 20_000;
const BATCH = 5_000;
const CELL = 'sim-01';

/** One message per channel and 5,000 s: a 1 mA charge and a discharge of 2,500 s each, pressure following the charge. */
function messages(): { topic: string; payload: string }[] {
  const out: { topic: string; payload: string }[] = [];
  for (let from = 0; from < SECONDS; from += BATCH) {
    const current: { ts: number; value: number }[] = [];
    const pressure: { ts: number; value: number }[] = [];
    for (let s = from; s < from + BATCH; s++) {
      const charging = Math.floor(s / 2_500) % 2 === 0;
      current.push({ ts: T + s * 1000, value: charging ? 1 : -1 });
      const q = charging ? s % 2_500 : 2_500 - (s % 2_500);
      pressure.push({ ts: T + s * 1000, value: 15 + q * 1e-4 });
    }
    out.push({ topic: `oep/${CELL}/current`, payload: JSON.stringify(current) }, { topic: `oep/${CELL}/pressure`, payload: JSON.stringify(pressure) });
  }
  return out;
}

/** A cell's latest `oep_ingest` counters in the run's points.lp (written at each checkpoint). */
function ingest(outDir: string, cell = CELL): Record<string, number> | undefined {
  let text: string;
  try {
    text = readFileSync(join(outDir, 'points.lp'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((l) => l.startsWith(`oep_ingest,cell=${cell} `));
  const last = lines.at(-1);
  if (last === undefined) return undefined;
  return Object.fromEntries(
    last
      .split(' ')[1]!
      .split(',')
      .map((kv) => {
        const [k, v] = kv.split('=');
        return [k!, Number(v!.replace(/i$/, ''))];
      }),
  );
}

async function publish(url: string, msgs: readonly { topic: string; payload: string }[]): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `pub-${String(process.pid)}-${String(Math.random()).slice(2)}`, clean: true });
  for (const m of msgs) await client.publishAsync(m.topic, m.payload, { qos: 1 });
  await client.endAsync();
}

describe('a redelivered batch larger than 1,024 readings', () => {
  let broker: MosquittoHandle;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('is counted as duplicates, not late, and changes no result', async () => {
    const setup = faultConfig(broker.url, 'oep-it-redelivery');
    const d = await startDaemonChild(setup.configPath);
    try {
      const msgs = messages();
      await publish(broker.url, msgs);
      const first = await until(
        () => Promise.resolve(ingest(setup.outDir)?.accepted === 2 * SECONDS ? ingest(setup.outDir) : undefined),
        60_000,
        `${String(2 * SECONDS)} readings accepted:\n${d.logs()}`,
      );
      expect(first).toMatchObject({ late: 0, duplicate: 0 });
      // released: the cell went idle (alignment.idleTimeout_ms 5 s) and its steps were written
      const steps = (): number => {
        try {
          return readRun(setup.outDir).steps.byKey.size;
        } catch {
          return 0; // no steps.csv yet
        }
      };
      await until(() => Promise.resolve(steps() >= 6 ? true : undefined), 30_000, 'the steps of the first delivery');
      const before = readRun(setup.outDir);
      await publish(broker.url, msgs);
      const again = await until(
        () => Promise.resolve((ingest(setup.outDir)?.duplicate ?? 0) + (ingest(setup.outDir)?.late ?? 0) >= 2 * SECONDS ? ingest(setup.outDir) : undefined),
        60_000,
        `the redelivery counted:\n${d.logs()}`,
      );
      expect(again).toMatchObject({ accepted: 2 * SECONDS, duplicate: 2 * SECONDS, late: 0 });
      expect(readRun(setup.outDir)).toEqual(before);
    } finally {
      await killDaemon(d, 'SIGTERM');
    }
  });

  it("changes nothing for the simulator's jittered stamps (the fault runs of issue 11): the latest readings duplicates, older ones late", async () => {
    const setup = faultConfig(broker.url, 'oep-it-redelivery-sim');
    const d = await startDaemonChild(setup.configPath);
    const sum = (k: string): number => FAULT_CELLS.reduce((n, c) => n + (ingest(setup.outDir, c.id)?.[k] ?? 0), 0);
    try {
      const readings = await publishFaultCells(broker.url);
      await until(() => Promise.resolve(sum('accepted') === readings ? true : undefined), 60_000, `${String(readings)} readings accepted:\n${d.logs()}`);
      await until(() => Promise.resolve(readRun(setup.outDir).cycles.byKey.size >= 14 ? true : undefined), 60_000, 'the cycles of the first delivery');
      const before = readRun(setup.outDir);
      expect(await publishFaultCells(broker.url)).toBe(readings); // the same seed: the same readings, sent again
      await until(() => Promise.resolve(sum('duplicate') + sum('late') >= readings ? true : undefined), 60_000, `the redelivery counted:\n${d.logs()}`);
      // a jittered channel keeps the fingerprints of its latest dedupDepth (1,024) readings: beyond them, a
      // reading inside the released span is not told from a load cell's flush of old readings, and is late
      expect(sum('accepted')).toBe(readings);
      expect(sum('duplicate') + sum('late')).toBe(readings);
      expect(sum('duplicate')).toBeGreaterThanOrEqual(FAULT_CELLS.length * 2 * 1_024);
      expect(readRun(setup.outDir)).toEqual(before);
    } finally {
      await killDaemon(d, 'SIGTERM');
    }
  });
});
