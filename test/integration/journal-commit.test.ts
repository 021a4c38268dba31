/**
 * The journal's commit interval against a broker that caps the QoS 1 messages in flight toward a client
 * (Mosquitto's default, 20, which the shipped config/mosquitto.conf keeps): once it has sent its 20 it
 * sends nothing more until it gets PUBACKs, so a journal that waited for more input before syncing would
 * stall. Input going quiet starts the sync at once: every message arrives, even with a commit interval of
 * an hour. Real Mosquitto, the real MQTT adapter, a real journal file.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/adapters/journal.js';
import { mqttClient } from '../../src/adapters/mqtt-client.js';
import { MqttAdapter } from '../../src/adapters/mqtt.js';
import { startMosquitto, type MosquittoHandle } from '../support/services.js';
import { untilTrue } from '../support/until.js';

const N = 5_000;
let broker: MosquittoHandle;

beforeAll(async () => {
  broker = await startMosquitto({ extraConfig: ['max_inflight_messages 20'] });
});
afterAll(async () => {
  await broker.stop();
});

async function deliver(commitInterval_ms: number | undefined, clientId: string): Promise<Journal> {
  const journal = new Journal(mkdtempSync(join(tmpdir(), 'oep-journal-commit-')), commitInterval_ms === undefined ? {} : { commitInterval_ms });
  journal.open(0, []);
  const adapter = new MqttAdapter({
    url: broker.url,
    topicPrefix: 'oep',
    clientId,
    cleanSession: false,
    qos: 1,
    beforeDelivery: (m) => journal.append(m),
    holdAck: (send) => {
      journal.whenDurable(send);
    },
  });
  const seen = new Set<string>();
  adapter.messages$.subscribe((m) => seen.add(m.payload.toString()));
  await adapter.start();
  const pub = mqttClient({ url: broker.url, clientId: `${clientId}-publisher`, clean: true });
  await new Promise<void>((resolve) =>
    pub.once('connect', () => {
      resolve();
    }),
  );
  for (let k = 0; k < N; k++) pub.publish(`oep/jc/pressure`, JSON.stringify({ ts: 1_760_000_000_000 + k, value: k }), { qos: 1 });
  // A stall (the broker waiting for PUBACKs, the journal waiting for input) ends here, not in a timing assertion.
  await untilTrue(
    () => seen.size === N && journal.held === 0,
    120_000,
    () => `${N} messages (got ${seen.size}, ${journal.held} PUBACKs held, ${journal.syncs} syncs)`,
  );
  await pub.endAsync();
  await adapter.stop();
  expect(journal.appended).toBe(N);
  // each sync covered several messages (the broker's 20 in flight at most)
  expect(journal.syncs).toBeLessThan(N / 2);
  return journal;
}

describe('journal commit interval under a broker with 20 messages in flight', () => {
  it('gets every message with an interval of an hour: the sync starts once input goes quiet; all read back', async () => {
    const journal = await deliver(3_600_000, 'jc-hour');
    journal.close();
    const again = new Journal(journal.dir);
    expect(again.open(0, []).map((e) => e.seq)).toEqual(Array.from({ length: N }, (_, k) => k + 1));
    again.close();
  }, 240_000);

  it('gets every message with the default interval', async () => {
    (await deliver(undefined, 'jc-default')).close();
  }, 240_000);
});
