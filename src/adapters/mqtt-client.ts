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
    ...readTls(o.tls),
  });
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
