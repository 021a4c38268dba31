/**
 * Maintenance silence through a real Mosquitto: `oep silence` publishes the retained control message, the
 * daemon is restarted and reads it again, an incident during the silence is recorded (alerts.csv, status)
 * and not sent (no event on the alerts topic), and a short silence ends by itself.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../pipelines/daemon.js';
import { parseCsv } from '../../src/adapters/csv.js';
import { createLogger } from '../../src/adapters/log.js';
import { command as silence } from '../../src/commands/silence.js';
import { parseConfig } from '../../src/config/schema.js';
import { startMosquitto, type MosquittoHandle } from '../support/services.js';
import { until } from '../support/square-cells.js';

interface AlertMsg {
  cell: string;
  kind: string;
  action: string;
  silenced: boolean;
  incident: { id: string };
}

describe('maintenance silence through Mosquitto, across a daemon restart', () => {
  let broker: MosquittoHandle;
  let watcher: mqtt.MqttClient;
  let pub: mqtt.MqttClient;
  let daemon: Daemon | undefined;
  const out = mkdtempSync(join(tmpdir(), 'oep-silence-'));
  const alerts: AlertMsg[] = [];
  const status = new Map<string, { silencedUntil?: string; incidents: { kind: string; silenced: boolean }[] }>();
  const config = (url: string) =>
    parseConfig({
      mqtt: { url, clientId: 'oep-it-silence' },
      output: { dir: out },
      alignment: { maxFutureSkew_ms: 0, lateness_ms: 500 },
      cells: [
        { id: 'sil', alerts: { clearDwell_s: 1, silence: { warn_s: 1, crit_s: 600 } } },
        { id: 'loud', alerts: { clearDwell_s: 1, silence: { warn_s: 1, crit_s: 600 } } },
      ],
    });
  const t0 = Date.now() - 3_600_000;
  let k = 0;
  /** One reading per channel, one simulated second further; `dropVoltage` makes a 500 mV fall under charge. */
  const send = async (cell: string, channels: ('pressure' | 'current' | 'voltage')[], dropVoltage = false): Promise<void> => {
    const v = { pressure: 15 + k * 1e-4, current: 1.0, voltage: dropVoltage ? 3.5 : 4.0 };
    for (const ch of channels) await pub.publishAsync(`oep/${cell}/${ch}`, JSON.stringify({ ts: t0 + k * 1000, value: v[ch] }), { qos: 1 });
    k++;
  };
  const startDaemon = async (): Promise<Daemon> => {
    const d = new Daemon({ config: config(broker.url), log: createLogger('error') });
    await d.start();
    return d;
  };

  beforeAll(async () => {
    broker = await startMosquitto();
    watcher = await mqtt.connectAsync(broker.url, { clientId: 'silence-watcher', clean: true });
    watcher.on('message', (topic, payload) => {
      const j = JSON.parse(payload.toString()) as AlertMsg & { silencedUntil?: string; incidents: { kind: string; silenced: boolean }[] };
      if (topic.endsWith('/alerts')) alerts.push(j);
      else status.set(topic.split('/')[1]!, j);
    });
    await watcher.subscribeAsync(['oep/+/alerts', 'oep/+/status'], { qos: 1 });
    pub = await mqtt.connectAsync(broker.url, { clientId: 'silence-pub', clean: true });
  }, 60_000);

  afterAll(async () => {
    await pub?.endAsync();
    await watcher?.endAsync();
    await daemon?.stop();
    await broker?.stop();
  });

  it('records an incident during the silence without sending it, after a restart; a short silence ends by itself', async () => {
    daemon = await startDaemon();
    expect(await silence.main(['sil', '--for', '1h', '--reason', 'out of the press', '--url', broker.url])).toBe(0);
    await until(() => Promise.resolve(daemon!.lab.silencedUntil('sil', Date.now())), 10_000, 'silence applied');
    // restart: the new daemon learns the silence from the retained message alone
    await daemon.stop();
    daemon = await startDaemon();
    const until1h = await until(() => Promise.resolve(daemon!.lab.silencedUntil('sil', Date.now())), 10_000, 'silence applied after the restart');
    expect(until1h).toBeGreaterThan(Date.now() + 3_500_000);
    expect(daemon.lab.silencedUntil('loud', Date.now())).toBeUndefined();

    // a hard short on both cells: the silenced one is recorded, the other is sent
    for (let j = 0; j < 8; j++) for (const cell of ['sil', 'loud']) await send(cell, ['pressure', 'current', 'voltage'], j === 4);
    await until(() => Promise.resolve(alerts.some((a) => a.cell === 'loud' && a.kind === 'hard_short') ? true : undefined), 15_000, 'loud hard short');
    await until(() => Promise.resolve(status.get('sil')?.incidents.some((i) => i.kind === 'hard_short') ? true : undefined), 15_000, 'sil status');
    expect(alerts.filter((a) => a.cell === 'sil')).toEqual([]);
    expect(status.get('sil')?.silencedUntil).toBe(new Date(until1h).toISOString());
    expect(status.get('sil')?.incidents.find((i) => i.kind === 'hard_short')?.silenced).toBe(true);

    // a 2 s silence replaces it and ends by itself: the next incident (the load cell stops) is sent
    expect(await silence.main(['sil', '--for', '2s', '--url', broker.url])).toBe(0);
    await until(
      () => Promise.resolve((daemon!.lab.silencedUntil('sil', Date.now()) ?? Infinity) < Date.now() + 3_000 ? true : undefined),
      10_000,
      '2 s silence',
    );
    // readings flow again for 3 s (the deadman of the pause above clears; the 2 s silence runs out meanwhile)
    const flowUntil = Date.now() + 3_000;
    while (Date.now() < flowUntil) {
      await send('sil', ['pressure', 'current']);
      await new Promise((r) => setTimeout(r, 200));
    }
    await until(() => Promise.resolve(daemon!.lab.cell('sil').incidents.open.silence === undefined ? true : undefined), 10_000, 'deadman resolved');
    const silentUntil = Date.now() + 3_000;
    while (Date.now() < silentUntil) {
      await send('sil', ['current']);
      await new Promise((r) => setTimeout(r, 200));
    }
    await until(
      () => Promise.resolve(alerts.some((a) => a.cell === 'sil' && a.kind === 'silence' && a.action === 'open') ? true : undefined),
      10_000,
      'sil silence open',
    );
    expect(alerts.find((a) => a.cell === 'sil' && a.kind === 'silence' && a.action === 'open')?.silenced).toBe(false);

    // alerts.csv has both: the silenced hard short and the sent silence alert
    await daemon.stop();
    daemon = undefined;
    const rows = parseCsv(readFileSync(join(out, 'alerts.csv'), 'utf8')).rows.filter((r) => r.cell === 'sil');
    expect(rows.find((r) => r.kind === 'hard_short' && r.action === 'open')?.silenced).toBe('1');
    expect(rows.filter((r) => r.kind === 'silence' && r.action === 'open').map((r) => r.silenced)).toContain('0');
    // ending it clears the retained message
    expect(await silence.main(['--all', '--end', '--url', broker.url])).toBe(0);
  }, 120_000);
});
