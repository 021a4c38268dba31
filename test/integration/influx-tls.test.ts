/**
 * InfluxDB over TLS for real: VictoriaMetrics serving its write API over HTTPS (`-tls`) with a server
 * certificate made by `openssl` for this test, and `oep run` through the launcher (bin/oep.js) with
 * `influx.tls.ca` naming the CA: a cell's readings come in over MQTT and its steps, cycles and ingest
 * counters arrive in the database. With another CA, or none (Node's bundled CAs), `oep run` refuses to
 * start (exit 2) with a line naming the TLS failure, instead of starting and keeping points it can never send.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates } from '../support/certs.js';
import { launchDaemon, listening } from '../support/daemon-process.js';
import { startMosquitto, startVictoriaMetrics, type MosquittoHandle, type VmHandle } from '../support/services.js';
import { CELLS, messagesFor, publishAll, until } from '../support/square-cells.js';

const dir = mkdtempSync(join(tmpdir(), 'oep-influx-tls-'));

function configFile(broker: string, influx: object, name: string): string {
  const path = join(dir, `${name}.json`);
  const state = join(dir, `state-${name}`);
  writeFileSync(
    path,
    JSON.stringify({
      mqtt: { url: broker, clientId: `oep-it-${name}` },
      influx: { org: 'lab', bucket: 'oep', token: 't', flushInterval_ms: 200, ...influx },
      state: { dir: state, interval_s: 1 },
      alignment: { idleTimeout_ms: 3_000 },
    }),
  );
  return path;
}

describe('InfluxDB over TLS (VictoriaMetrics -tls)', () => {
  let broker: MosquittoHandle;
  let vm: VmHandle;
  let certs: ReturnType<typeof makeCertificates>;
  let otherCa: string;
  beforeAll(async () => {
    certs = makeCertificates(mkdtempSync(join(dir, 'ca-')));
    otherCa = makeCertificates(mkdtempSync(join(dir, 'other-'))).ca;
    [broker, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } })]);
  });
  afterAll(async () => {
    await Promise.all([broker.stop(), vm.stop()]);
  });

  it('writes points over https with the CA the config names', async () => {
    expect(vm.url).toMatch(/^https:\/\//);
    const d = launchDaemon(configFile(broker.url, { url: vm.url, tls: { ca: certs.ca } }, 'tls-ok'));
    try {
      await listening(d);
      const cell = CELLS[0]!;
      const msgs = messagesFor(cell);
      const readings = msgs.reduce((n, m) => n + (JSON.parse(m.payload) as unknown[]).length, 0);
      await publishAll(broker.url, msgs);
      const accepted = await until(
        async () => {
          await vm.flush();
          const [s] = await vm.exportSeries(`oep_ingest_accepted{cell="${cell.id}"}`);
          const last = s?.values.at(-1);
          return last === readings ? last : undefined;
        },
        90_000,
        `the ingest counters of ${cell.id} in VictoriaMetrics over https:\n${d.output()}`,
      );
      expect(accepted).toBe(readings);
      const cycles = await until(
        async () => {
          await vm.flush();
          const [s] = await vm.exportSeries(`{__name__=~"oep_cycle_.+",cell="${cell.id}"}`);
          return s !== undefined && s.timestamps.length >= 3 ? s.timestamps.length : undefined;
        },
        60_000,
        `three cycles of ${cell.id}:\n${d.output()}`,
      );
      expect(cycles).toBeGreaterThanOrEqual(3);
      expect(d.output()).not.toMatch(/does not answer|TLS/);
    } finally {
      d.proc.kill('SIGTERM');
      expect(await d.exited).toBe(0);
    }
  });

  it('refuses to start with a CA that did not sign the server certificate, or with none, naming the TLS failure', async () => {
    for (const [name, tls] of [
      ['tls-wrong-ca', { ca: otherCa }],
      ['tls-no-ca', undefined],
    ] as const) {
      const d = launchDaemon(configFile(broker.url, { url: vm.url, ...(tls !== undefined ? { tls } : {}) }, name));
      expect(await d.exited).toBe(2);
      expect(d.output()).toMatch(
        /^oep run: influx: the TLS handshake failed \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY): .*influx\.tls\.ca/m,
      );
      expect(d.output()).not.toContain('listening on');
    }
  });
});
