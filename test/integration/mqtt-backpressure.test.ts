/**
 * A broker that stops reading the daemon's PUBACKs (busy sending, as Mosquitto was at 300,000 readings/s in
 * the benchmark) must not make the daemon queue them without bound: past MQTT_WRITE_BACKLOG_BYTES waiting
 * to be written, the adapter reads no further message until the socket drains, and every message arrives
 * once it does. Real Mosquitto; the stalled writes are made by corking the adapter's socket (Node then
 * queues every write in the process, as it does when the kernel's buffer toward the broker is full).
 */
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttClient } from '../../src/adapters/mqtt-client.js';
import { MQTT_WRITE_BACKLOG_BYTES, MqttAdapter } from '../../src/adapters/mqtt.js';
import { startMosquitto, type MosquittoHandle } from '../support/services.js';

const N = 40_000;
let broker: MosquittoHandle;
let diag = (): string => '';

beforeAll(async () => {
  // no in-flight limit, as the benchmark's broker (Mosquitto's default 20 would hold the rest back itself)
  broker = await startMosquitto({ extraConfig: ['max_inflight_messages 0', 'max_queued_messages 0'] });
});
afterAll(async () => {
  await broker.stop();
});

async function until(ok: () => boolean, timeout_ms: number, what: string): Promise<void> {
  const end = Date.now() + timeout_ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${diag()})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('MQTT backpressure toward a broker that stops reading', () => {
  it('stops reading while its PUBACKs cannot be written, and takes every message once they drain', async () => {
    const adapter = new MqttAdapter({ url: broker.url, topicPrefix: 'oep', clientId: 'bp-daemon', cleanSession: false, qos: 1 });
    const seen = new Set<string>();
    adapter.messages$.subscribe((m) => seen.add(m.payload.toString()));
    await adapter.start();
    // The adapter's socket, to stall its writes as a full kernel buffer would (private: reached for the test).
    const client: unknown = Reflect.get(adapter, 'client');
    const stream: unknown = typeof client === 'object' && client !== null ? Reflect.get(client, 'stream') : undefined;
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- MQTT.js's client.stream is the socket, a Duplex
    const socket = stream as Duplex;
    socket.cork();
    diag = () => `received ${adapter.received}, queued ${socket.writableLength} B, corked ${socket.writableCorked}`;

    const pub = mqttClient({ url: broker.url, clientId: 'bp-publisher', clean: true });
    await new Promise<void>((resolve) =>
      pub.once('connect', () => {
        resolve();
      }),
    );
    for (let k = 0; k < N; k++) pub.publish('oep/bp/pressure', JSON.stringify({ ts: 1_760_000_000_000 + k, value: k }), { qos: 1 });

    // Reading stops once the queued writes pass the bound: far fewer messages than were sent.
    await until(() => adapter.writeStalls > 0, 15_000, 'a write stall');
    const atStall = adapter.received;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(adapter.received).toBe(atStall);
    expect(atStall).toBeLessThan(N / 2);
    // what waits in the process is bounded by the threshold (plus the packets of the message being handled)
    expect(socket.writableLength).toBeLessThan(MQTT_WRITE_BACKLOG_BYTES + 4_096);

    socket.uncork();
    await until(() => seen.size === N, 120_000, `all ${N} messages`);
    expect(adapter.received).toBe(N);
    await pub.endAsync();
    await adapter.stop();
  }, 240_000);
});
