/**
 * Against a real Mosquitto with the daemon's persistent session:
 *  - poison messages queued for the session while the daemon is down (a million nested brackets, 2 M empty
 *    objects, a payload over the size limit) are rejected, counted and acknowledged once: the next start
 *    does not get them again (no crash loop);
 *  - a broker that comes back without the session (its persistence lost) is seen: a warning in the log,
 *    `oep_mqtt_sessions_lost_total`, and /readyz 503 saying why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Daemon } from '../../pipelines/daemon.js';
import { createLogger } from '../../src/adapters/log.js';
import { parseConfig, type OepConfig } from '../../src/config/schema.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../src/ingest/payload.js';
import { parsePrometheus } from '../support/prometheus.js';
import { startMosquitto, type MosquittoHandle } from '../support/services.js';
import { T0, until } from '../support/square-cells.js';

const POISON: readonly { payload: Buffer; reason: string }[] = [
  { payload: Buffer.alloc(1_000_000, '['), reason: 'too_deep' },
  { payload: Buffer.from(`[${'{},'.repeat(2_000_000)}{}]`), reason: 'batch_too_large' },
  { payload: Buffer.alloc(DEFAULT_MAX_MESSAGE_BYTES + 1, '1'), reason: 'too_large' },
];

function configFor(broker: MosquittoHandle, clientId: string, stateDir: string): OepConfig {
  return parseConfig({ mqtt: { url: broker.url, clientId }, state: { dir: stateDir, interval_s: 3600 }, health: { port: 0 } });
}

async function publish(url: string, msgs: readonly { topic: string; payload: Buffer | string }[]): Promise<void> {
  const c = await mqtt.connectAsync(url, { clientId: `pub-${Math.random()}`, clean: true });
  for (const m of msgs) await c.publishAsync(m.topic, m.payload, { qos: 1 });
  await c.endAsync();
}

const unattributed = (d: Daemon, reason: string): number => d.lab.unattributed[reason] ?? 0;

describe('poison messages and lost sessions', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => undefined);
    cleanup.length = 0;
  });

  it('rejects poison queued for its persistent session once, and is not given it again', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const config = configFor(broker, 'oep-it-poison', mkdtempSync(join(tmpdir(), 'oep-poison-')));
    const log = createLogger('silent');

    // The first start makes the session; then poison is queued while the daemon is away.
    const first = new Daemon({ config, log });
    await first.start();
    await first.stop();
    await publish(
      broker.url,
      POISON.map((p) => ({ topic: 'oep/p1/pressure', payload: p.payload })),
    );
    await publish(broker.url, [{ topic: 'oep/p1/current', payload: JSON.stringify({ ts: T0, value: 1 }) }]);

    const second = new Daemon({ config, log });
    cleanup.push(() => second.stop());
    await second.start();
    await until(() => Promise.resolve(second.mqtt.received === POISON.length + 1 ? true : undefined), 20_000, 'the queued messages');
    for (const p of POISON) expect(unattributed(second, p.reason), p.reason).toBe(1);
    expect(second.lab.cells.get('p1')?.counters.accepted).toBe(1);
    await second.stop();

    // Acknowledged: the next start gets nothing again.
    const third = new Daemon({ config, log });
    cleanup.push(() => third.stop());
    await third.start();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(third.mqtt.received).toBe(0);
    expect(third.mqtt.sessionsLost).toBe(0);
  });

  it('says so when the broker comes back without its session: log, metric, /readyz', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const lines: string[] = [];
    const log = createLogger('info', (l) => lines.push(l));
    const daemon = new Daemon({ config: configFor(broker, 'oep-it-session', mkdtempSync(join(tmpdir(), 'oep-session-'))), log });
    cleanup.push(() => daemon.stop());
    await daemon.start();
    const base = daemon.healthUrl!;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    // The broker loses its persistence (a restart without it, a wiped disk): the session is gone.
    await broker.stop();
    rmSync(join(broker.persistenceDir, 'mosquitto.db'), { force: true });
    await broker.restart();
    await until(() => Promise.resolve(daemon.mqtt.connected && daemon.mqtt.sessionsLost > 0 ? true : undefined), 20_000, 'the reconnection');

    expect(lines.some((l) => l.includes('WARN') && l.includes('did not resume the session of oep-it-session'))).toBe(true);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { reasons: string[]; mqttSession?: string };
    expect(body.mqttSession).toMatch(/did not resume the persistent session/);
    const m = parsePrometheus(await (await fetch(`${base}/metrics`)).text());
    expect(m.value('oep_mqtt_sessions_lost_total')).toBe(1);
    expect(m.value('oep_ready')).toBe(0);
  });
});
