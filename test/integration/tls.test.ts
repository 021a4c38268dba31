/**
 * MQTT over TLS against a real Mosquitto TLS listener that requires client certificates, with a CA, a
 * server certificate and a client certificate made by `openssl` for this test. The daemon connects with
 * the config's `mqtt.tls` (CA, cert, key) and receives readings; without the CA, or without its client
 * certificate, it is refused.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../pipelines/daemon.js';
import { createLogger } from '../../src/adapters/log.js';
import { parseConfig } from '../../src/config/schema.js';
import { makeCertificates } from '../support/certs.js';
import { startMosquitto, type MosquittoHandle } from '../support/services.js';
import { until } from '../support/square-cells.js';

const T = Date.UTC(2026, 0, 1);

describe('MQTT over TLS', () => {
  let broker: MosquittoHandle;
  let certs: ReturnType<typeof makeCertificates>;
  beforeAll(async () => {
    certs = makeCertificates(mkdtempSync(join(tmpdir(), 'oep-tls-')));
    broker = await startMosquitto({ tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey, requireCertificate: true } });
  });
  afterAll(async () => {
    await broker.stop();
  });

  const daemonWith = (tls: Record<string, unknown>, clientId: string): Daemon =>
    new Daemon({ config: parseConfig({ mqtt: { url: broker.url, clientId, tls } }), log: createLogger('silent') });

  it('connects with CA, client certificate and key, and receives readings', async () => {
    const d = daemonWith({ ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }, 'oep-it-tls');
    try {
      await d.start();
      expect(d.mqtt.connected).toBe(true);
      const pub = await mqtt.connectAsync(broker.url, { ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) });
      await pub.publishAsync('oep/t1/current', JSON.stringify({ ts: T, value: 1 }), { qos: 1 });
      await pub.endAsync();
      await until(() => Promise.resolve(d.lab.cells.get('t1')?.counters.accepted === 1 ? true : undefined), 10_000, 'the reading over TLS');
    } finally {
      await d.stop();
    }
  });

  it('is refused without the CA (the server certificate does not verify) and without a client certificate', async () => {
    for (const [tls, id] of [
      [{ cert: certs.clientCert, key: certs.clientKey }, 'oep-it-tls-noca'],
      [{ ca: certs.ca }, 'oep-it-tls-nocert'],
    ] as const) {
      const d = daemonWith(tls, id);
      try {
        await expect(d.start()).rejects.toThrow();
        expect(d.mqtt.connected).toBe(false);
      } finally {
        await d.stop();
      }
    }
  });

  it('a TLS file that cannot be read is named in the error', async () => {
    const d = daemonWith({ ca: '/nonexistent/ca.pem' }, 'oep-it-tls-missing');
    try {
      await expect(d.start()).rejects.toThrow(/TLS CA \/nonexistent\/ca\.pem cannot be read/);
    } finally {
      await d.stop();
    }
  });
});
