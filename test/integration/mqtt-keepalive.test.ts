/**
 * A client working through a backlog stays connected: Mosquitto sends the PINGRESP behind the messages it
 * queued for the client, and MQTT.js alone calls the connection dead 1.5 keepalive after its last PUBACK or
 * PINGRESP ("Keepalive timeout"), however many messages arrive meanwhile (in the stress sweep: a reconnect
 * 92 s after start and every unacknowledged message sent again). Real Mosquitto; the backlog is made by a
 * client slow to handle each message, with a keepalive of 1 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttClient } from '../../src/adapters/mqtt-client.js';
import { startMosquitto, type MosquittoHandle } from '../support/services.js';
import { untilTrue } from '../support/until.js';

const N = 4_000;
let broker: MosquittoHandle;

beforeAll(async () => {
  broker = await startMosquitto({ extraConfig: ['max_inflight_messages 0', 'max_queued_messages 0'] });
});
afterAll(async () => {
  await broker.stop();
});

describe('keepalive while a backlog arrives', () => {
  it('does not call the connection dead while messages keep arriving ahead of the PINGRESP', async () => {
    const rx = mqttClient({ url: broker.url, clientId: 'ka-rx', clean: true, keepalive_s: 1 });
    const errors: string[] = [];
    let closes = 0;
    let received = 0;
    rx.on('error', (e) => errors.push(e.message));
    rx.on('close', () => closes++);
    rx.on('message', () => received++);
    // 2 ms a message: the messages queue at the broker and in the socket, the PINGRESP behind them
    rx.handleMessage = (_packet, callback) => {
      setTimeout(callback, 2);
    };
    await new Promise((resolve) => rx.once('connect', resolve));
    await rx.subscribeAsync({ 'ka/x': { qos: 1 } });

    const tx = mqttClient({ url: broker.url, clientId: 'ka-tx', clean: true });
    await new Promise((resolve) => tx.once('connect', resolve));
    await Promise.all(Array.from({ length: N }, (_, k) => tx.publishAsync('ka/x', JSON.stringify({ ts: k, value: k }), { qos: 1 })));

    // N messages at ≥ 2 ms each: several keepalive periods go by while they arrive
    await untilTrue(
      () => received === N || closes > 0,
      120_000,
      () => `${String(N)} messages (${String(received)})`,
    );
    expect({ received, closes, errors }).toEqual({ received: N, closes: 0, errors: [] });
    await Promise.all([rx.endAsync(), tx.endAsync()]);
  }, 180_000);
});
