/**
 * The one MQTT client factory ({@link mqttClient}, {@link connectMqtt}): the daemon, replay, follow, silence
 * and the simulator all connect through it, with the same reconnect back-off, timeouts and TLS.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { readTls, type TlsFiles } from './tls.js';

/** How to reach a broker. */
export interface MqttConnectOptions {
  readonly url: string;
  readonly clientId: string;
  /** false: a persistent session (the broker keeps QoS 1 messages while the client is away). */
  readonly clean: boolean;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** The Last Will, published by the broker if the client dies. */
  readonly will?: IClientOptions['will'];
  /** TLS for `mqtts://` (files read when the client is made). */
  readonly tls?: TlsFiles | undefined;
  /** Keepalive interval, s (default MQTT.js's 60; tests shorten it). */
  readonly keepalive_s?: number;
}

/** First reconnect delay after a lost connection (or a failed attempt), ms; it doubles after each failed attempt. */
export const MQTT_RECONNECT_MS = 1_000;
/** Longest reconnect delay, ms. */
export const MQTT_RECONNECT_MAX_MS = 30_000;
/** How long one connection attempt may take, ms. */
export const MQTT_CONNECT_TIMEOUT_MS = 10_000;

const noLog = (): void => undefined;

/**
 * A client that connects, and reconnects by itself after a lost connection or a failed attempt: after
 * {@link MQTT_RECONNECT_MS}, doubling up to {@link MQTT_RECONNECT_MAX_MS}, back to the start once connected.
 */
export function mqttClient(o: MqttConnectOptions): MqttClient {
  const client = mqtt.connect(o.url, {
    clientId: o.clientId,
    clean: o.clean,
    reconnectPeriod: MQTT_RECONNECT_MS,
    connectTimeout: MQTT_CONNECT_TIMEOUT_MS,
    // No mqtt-packet cache of 65,536 encoded numbers (+15.8 MB RSS at the first packet written; README, Benchmark).
    writeCache: false,
    // MQTT.js logs through `debug` several times a message, and `debug` gathers its arguments into a new array
    // even when off: ~1 KB of garbage per message (6 % of the daemon's allocations at 1,000 cells). Off
    // unless DEBUG asks for it (DEBUG=mqttjs* still traces the client).
    ...(process.env.DEBUG === undefined || process.env.DEBUG === '' ? { log: noLog } : {}),
    username: o.username,
    password: o.password,
    ...(o.will !== undefined ? { will: o.will } : {}),
    ...(o.keepalive_s !== undefined ? { keepalive: o.keepalive_s } : {}),
    ...readTls(o.tls),
  });
  aliveWhileReceiving(client);
  // mqtt.js arms its reconnect timer from options.reconnectPeriod in its own 'close' listener: set the
  // next delay before it runs. A connection resets it; each attempt (one 'close' each) doubles it.
  let next = MQTT_RECONNECT_MS;
  client.prependListener('close', () => {
    client.options.reconnectPeriod = next;
    next = Math.min(next * 2, MQTT_RECONNECT_MAX_MS);
  });
  client.on('connect', () => {
    next = MQTT_RECONNECT_MS;
  });
  return client;
}

/**
 * MQTT.js takes only acknowledgements and PINGRESP as signs of life (its handlers/index.js): 1.5 keepalive
 * after the last one it calls the connection dead ("Keepalive timeout"), closes it and reconnects, and the
 * broker sends every unacknowledged message again. A broker with a backlog of messages for the client
 * sends the PINGRESP behind them: in the 10,000-cell stress sweep the daemon, receiving all along, was cut off
 * 92 s after connecting (the first PUBACK of its own publishes had not come through yet) and resumed its
 * session 20 s later. Here a message received counts too: past half the keepalive since the last sign of life,
 * one received starts a new period and sends a PINGREQ (the broker needs a packet from the client within its
 * keepalive, and a QoS 0 subscriber sends no PUBACK). A connection on which nothing arrives still times out.
 */
function aliveWhileReceiving(client: MqttClient): void {
  client.on('packetreceive', (packet) => {
    if (packet.cmd !== 'publish') return;
    const m = client.keepaliveManager;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- null until the first CONNACK, and with keepalive 0 (MQTT.js declares it always set)
    if (m === null || m.keepaliveTimeoutTimestamp - Date.now() > m.keepalive) return;
    client.reschedulePing(true);
    client.sendPing();
  });
}

/**
 * Resolves once `client` is connected (at once if it is), or when `signal` aborts. With `failOnError`
 * the first error rejects (a wrong URL fails fast); without, the client keeps retrying until it connects.
 */
export function whenConnected(client: MqttClient, o: { readonly failOnError: boolean; readonly signal?: AbortSignal | undefined }): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const off = (): void => {
      client.off('connect', onConnect);
      client.off('error', onError);
      o.signal?.removeEventListener('abort', onConnect);
    };
    const onConnect = (): void => {
      off();
      resolve();
    };
    const onError = (e: Error): void => {
      if (!o.failOnError) return;
      off();
      reject(e);
    };
    client.on('connect', onConnect);
    client.on('error', onError);
    o.signal?.addEventListener('abort', onConnect, { once: true });
  });
}

/** A connected client; rejects (and ends the client) if the first attempt fails. */
export async function connectMqtt(o: MqttConnectOptions): Promise<MqttClient> {
  const client = mqttClient(o);
  try {
    await whenConnected(client, { failOnError: true });
  } catch (e) {
    await client.endAsync(true);
    throw e;
  }
  return client;
}
