/**
 * Gap counts across a restart, through a real Mosquitto and `oep run` in a child process: a cell's 1 Hz
 * current and pressure with a minute lost while current flows are counted on /metrics
 * (`oep_gaps_total`, one per channel); the daemon is stopped and started again, and the counts are still
 * there before any new reading (they are in the checkpoint), then the next stretch with its own hole
 * brings them to two. Before the counts were kept, the restart showed none.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultConfig, killDaemon, startDaemonChild } from '../support/faults.js';
import { freePort, startMosquitto, type MosquittoHandle } from '../support/services.js';
import { until } from '../support/square-cells.js';

const T = Date.UTC(2026, 0, 1);
const CELL = 'gap-01';

/** Seconds [from, from + n) of 1 mA current and pressure at 1 Hz, without [holeFrom, holeFrom + 60). */
function stretch(from: number, n: number, holeFrom: number): { topic: string; payload: string }[] {
  const current: { ts: number; value: number }[] = [];
  const pressure: { ts: number; value: number }[] = [];
  for (let s = from; s < from + n; s++) {
    if (s >= holeFrom && s < holeFrom + 60) continue;
    current.push({ ts: T + s * 1000, value: 1 });
    pressure.push({ ts: T + s * 1000, value: 15 + s * 1e-5 });
  }
  return [
    { topic: `oep/${CELL}/current`, payload: JSON.stringify(current) },
    { topic: `oep/${CELL}/pressure`, payload: JSON.stringify(pressure) },
  ];
}

async function publish(url: string, msgs: readonly { topic: string; payload: string }[]): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `pub-gaps-${String(process.pid)}`, clean: true });
  for (const m of msgs) await client.publishAsync(m.topic, m.payload, { qos: 1 });
  await client.endAsync();
}

/** `oep_gaps_total` of the cell per channel, from /metrics. */
async function gaps(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^oep_gaps_total\{cell="gap-01",channel="(\w+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

describe('gap counts across a restart of the daemon', () => {
  let broker: MosquittoHandle;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('are kept by the checkpoint and counted on', async () => {
    const setup = faultConfig(broker.url, 'oep-it-gaps');
    const port = await freePort();
    const config = JSON.parse(readFileSync(setup.configPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(setup.configPath, JSON.stringify({ ...config, health: { port } }));
    const first = await startDaemonChild(setup.configPath);
    try {
      await publish(broker.url, stretch(0, 600, 200));
      await until(async () => ((await gaps(port)).current === 1 ? true : undefined), 30_000, `the first gap:\n${first.logs()}`);
      expect(await gaps(port)).toEqual({ current: 1, pressure: 1 });
    } finally {
      await killDaemon(first, 'SIGTERM');
    }
    const second = await startDaemonChild(setup.configPath);
    try {
      expect(await gaps(port)).toEqual({ current: 1, pressure: 1 });
      await publish(broker.url, stretch(600, 600, 900));
      await until(async () => ((await gaps(port)).current === 2 ? true : undefined), 30_000, `the second gap:\n${second.logs()}`);
      expect(await gaps(port)).toEqual({ current: 2, pressure: 2 });
    } finally {
      await killDaemon(second, 'SIGTERM');
    }
  });
});
