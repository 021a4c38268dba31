/**
 * MQTT: the daemon's adapter (its client from mqtt-client.ts, the one factory). It connects with a fixed
 * client id and a persistent session (QoS 1, clean: false), so readings published while the daemon
 * restarts are delivered when it is back; subscribes to the
 * contract's input topics for every cell; exposes the messages as an Observable; publishes retained
 * daemon status with a Last Will, so dashboards see `offline` when the daemon dies.
 */
import type { MqttClient } from 'mqtt';
import { redactUrl } from './log-text.js';
import { mqttClient, MQTT_RECONNECT_MAX_MS, MQTT_RECONNECT_MS, whenConnected } from './mqtt-client.js';
import { PublishQueue, type PublishCounts } from './publish-queue.js';
import type { TlsFiles } from './tls.js';
import { Observable, Subject } from 'rxjs';

export { utf8Bytes } from './publish-queue.js';

export interface RawMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** Processing time of arrival, ms. */
  readonly arrival: number;
  /** The broker marked it a redelivery (MQTT DUP flag: sent again after a reconnect, its PUBACK unseen). */
  readonly dup?: boolean;
}

export interface MqttAdapterOptions {
  readonly url: string;
  readonly topicPrefix: string;
  readonly clientId: string;
  readonly cleanSession: boolean;
  readonly qos: 0 | 1 | 2;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** TLS for `mqtts://` (CA, client certificate and key, rejectUnauthorized). */
  readonly tls?: TlsFiles | undefined;
  /** Clock for arrival stamps (injectable for tests). */
  readonly now?: () => number;
  readonly log?: (message: string) => void;
  /**
   * Called with each message before the stream sees it (a write-ahead journal appends here). false: drop
   * it (a redelivery of a message already in).
   */
  readonly beforeDelivery?: (m: RawMessage) => boolean;
  /** Holds each PUBACK until `send` is called (the journal's group commit): see {@link holdPubacks}. */
  readonly holdAck?: (send: () => void) => void;
  /** Where warnings go (default: `log`). */
  readonly warn?: (message: string) => void;
  /** Further topic filters to subscribe to (the control topics), at QoS 1. */
  readonly controlTopics?: readonly string[];
  /** The first connection attempt failing rejects `start()` (default: keep trying, with backoff). */
  readonly failFast?: boolean;
  /** Published messages awaiting their PUBACK, at most; the rest wait in the adapter's queue (see publish-queue.ts). */
  readonly publishInflight?: number;
  /** Bytes of events the queue holds, at most: past them an event is refused, counted and logged. */
  readonly publishQueueBytes?: number;
}

export const INPUT_CHANNELS = ['pressure', 'current', 'voltage', 'step'] as const;

/**
 * Longest the adapter processes messages back to back before it lets the event loop run, ms. mqtt.js
 * handles a burst of queued messages (a backlog after a restart, a flood) packet after packet without
 * returning to the event loop; measured in the fuzz test before this bound: /healthz unanswered for up to
 * 3.4 s while a bare HTTP server beside it answered within 0.2 s.
 */
export const MQTT_YIELD_EVERY_MS = 20;
/**
 * Bytes waiting to be written to the broker (PUBACKs, mostly) past which no further message is read until
 * the socket drains. A broker busy sending can stop reading this connection for a while; Node buffers every
 * write meanwhile, and a PUBACK of 4 bytes costs ~300 bytes of heap in the queue: measured, 100 cells at
 * 300,000 readings/s through Mosquitto, 309,438 queued chunks (~100,000 PUBACKs) and a heap out of memory at a
 * 56 MB old space, 711 MB peak RSS. Not reading then leaves the messages with the broker (its queue, its
 * disk), where they belong; TCP carries the backpressure.
 */
export const MQTT_WRITE_BACKLOG_BYTES = 64 * 1024;
type SendPacket = (
  packet: { readonly cmd: string; readonly messageId?: number; readonly reasonCode?: number },
  cb?: (e?: Error) => void,
  ...rest: unknown[]
) => void;

/**
 * MQTT.js sends the PUBACK of a QoS 1 message through its `_sendPacket` once the `message` listeners have
 * returned, and reads the next packet when that call says so. Holding the PUBACK packet (and answering
 * the call at once) lets messages flow while a journal syncs, so one fdatasync covers many of them; the
 * broker forgets a message only once `hold` sends its PUBACK. What waits is the message id (a number in a
 * queue), and `hold` is given one function for all: a closure, a packet and an argument list per message,
 * kept until the fdatasync, outlived young-generation collections at a few thousand messages a second.
 * Each call of it sends the oldest PUBACK held: `hold` releases in order, and a message is durable once
 * every message journaled before it is (one file, synced as a whole).
 */
function holdPubacks(client: MqttClient, hold: (send: () => void) => void): void {
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- MQTT.js declares _sendPacket private, without a type
  const c = client as unknown as { _sendPacket: SendPacket };
  const send = c._sendPacket.bind(client);
  const ids: number[] = [];
  const codes: (number | undefined)[] = [];
  let head = 0;
  const sendOldest = (): void => {
    const messageId = ids[head];
    const reasonCode = codes[head];
    head++;
    if (head === ids.length) ids.length = codes.length = head = 0;
    else if (head > 1024 && head * 2 > ids.length) {
      ids.splice(0, head);
      codes.splice(0, head);
      head = 0;
    }
    if (messageId !== undefined) send({ cmd: 'puback', messageId, reasonCode });
  };
  c._sendPacket = (packet, cb, cbStorePut?: unknown, noStore?: unknown) => {
    if (packet.cmd !== 'puback' || packet.messageId === undefined) {
      send(packet, cb, cbStorePut, noStore);
      return;
    }
    ids.push(packet.messageId);
    codes.push(packet.reasonCode);
    hold(sendOldest);
    cb?.();
  };
}

/** A broker's refusal of the credentials (CONNACK 4/5, MQTT 5 0x86/0x87), as a line with the fix. */
function refusal(error: string | undefined): string | undefined {
  if (error === undefined || !/not authori[sz]ed|bad user ?name or password/i.test(error)) return undefined;
  return `mqtt: the broker refused the credentials (${error}): set mqtt.username and mqtt.password (or OEP_MQTT_USERNAME, OEP_MQTT_PASSWORD)`;
}

/** Least time between two warnings about events a full publish queue refused, ms. */
const DROP_WARNING_EVERY_MS = 60_000;

export function daemonStatusTopic(prefix: string): string {
  return `${prefix}/_daemon/status`;
}

export class MqttAdapter {
  private client: MqttClient | undefined;
  private readonly subject = new Subject<RawMessage>();
  /** Messages as they arrive (hot). */
  readonly messages$: Observable<RawMessage> = this.subject.asObservable();
  connected = false;
  received = 0;
  /** Times no further message was read until the socket drained its writes (see {@link MQTT_WRITE_BACKLOG_BYTES}). */
  writeStalls = 0;
  /**
   * Whether the broker should still hold a session for this client id at the first connection (the
   * daemon ran before: its state was saved). Later connections of a persistent session always expect it.
   */
  expectSession = false;
  /** Connections on which the broker had lost the persistent session (CONNACK sessionPresent false when it was expected). */
  sessionsLost = 0;
  /** When the last one happened (arrival clock), if ever. */
  sessionLostAt: number | undefined;
  private connects = 0;
  /** The current outage (since when, failed attempts, the last reason logged); undefined while connected. */
  private outage: { since: number; attempts: number; reason: string | undefined } | undefined;
  /** The last error mqtt.js reported (it comes just before the 'close' of a failed attempt). */
  private lastError: string | undefined;

  /** The messages of {@link publish} on their way to mqtt.js. */
  private readonly out: PublishQueue;
  /** Events refused by a full queue, since the last warning about them. */
  private droppedSinceWarning = 0;
  private dropWarnedAt = -Infinity;

  constructor(private readonly opts: MqttAdapterOptions) {
    this.out = new PublishQueue(
      (topic, payload, retain, done) => {
        this.sendOut(topic, payload, retain, done);
      },
      {
        maxInflight: opts.publishInflight,
        maxQueuedBytes: opts.publishQueueBytes,
        onDrop: (topic, n) => {
          this.onDrop(topic, n);
        },
      },
    );
  }

  /** An event the full queue refused: a warning at the first, then at most one a minute with the count since. */
  private onDrop(topic: string, dropped: number): void {
    this.droppedSinceWarning++;
    const t = (this.opts.now ?? Date.now)();
    if (t - this.dropWarnedAt < DROP_WARNING_EVERY_MS) return;
    const c = this.out.counts;
    (this.opts.warn ?? this.opts.log)?.(
      `mqtt: DROPPED ${String(this.droppedSinceWarning)} message(s) to publish (latest on ${topic}; ${String(dropped)} in all): ` +
        `${String(c.queued)} messages (${String(c.queuedBytes)} B of events) wait behind ${String(c.inflight)} unacknowledged by the broker; ` +
        'the other sinks (InfluxDB, files, webhook) still have these alerts; oep_mqtt_publish_dropped_total counts them',
    );
    this.droppedSinceWarning = 0;
    this.dropWarnedAt = t;
  }

  /** Connects and subscribes; resolves once subscribed. Reconnects by itself after that. */
  async start(): Promise<void> {
    const o = this.opts;
    const now = o.now ?? Date.now;
    const statusTopic = daemonStatusTopic(o.topicPrefix);
    const client = mqttClient({
      url: o.url,
      clientId: o.clientId,
      clean: o.cleanSession,
      username: o.username,
      password: o.password,
      tls: o.tls,
      will: { topic: statusTopic, payload: Buffer.from(JSON.stringify({ state: 'offline' })), qos: 1, retain: true },
    });
    this.client = client;
    if (o.holdAck !== undefined) holdPubacks(client, o.holdAck);
    client.on('message', (topic, payload, packet) => {
      this.received++;
      const m: RawMessage = packet.dup ? { topic, payload, arrival: now(), dup: true } : { topic, payload, arrival: now() };
      if (o.beforeDelivery === undefined || o.beforeDelivery(m)) this.subject.next(m);
    });
    // mqtt.js asks for the next packet (and sends the PUBACK) once this calls back: after a slice of
    // MQTT_YIELD_EVERY_MS of work, it calls back from setImmediate, so HTTP and timers get their turn.
    let sliceStart = performance.now();
    client.handleMessage = (_packet, callback) => {
      const stream = client.stream;
      if (stream.writableLength > Math.max(MQTT_WRITE_BACKLOG_BYTES, stream.writableHighWaterMark)) {
        // a write past the high-water mark returned false, so `drain` comes once the queue is written
        this.writeStalls++;
        const go = (): void => {
          stream.off('drain', go);
          stream.off('close', go);
          sliceStart = performance.now();
          callback();
        };
        stream.on('drain', go);
        stream.on('close', go);
        return;
      }
      if (performance.now() - sliceStart < MQTT_YIELD_EVERY_MS) {
        callback();
        return;
      }
      setImmediate(() => {
        sliceStart = performance.now();
        callback();
      });
    };
    client.on('connect', (ack) => {
      this.onConnected(ack.sessionPresent);
      client.publish(statusTopic, JSON.stringify({ state: 'online', since: new Date(now()).toISOString() }), { qos: 1, retain: true });
    });
    client.on('error', (e) => {
      this.lastError = e.message;
    });
    client.on('close', () => {
      if (this.client !== undefined && !(o.failFast === true && this.connects === 0)) this.onClosed(client.options.reconnectPeriod ?? MQTT_RECONNECT_MS);
      this.connected = false;
    });
    try {
      await whenConnected(client, { failOnError: o.failFast === true });
    } catch (e) {
      this.client = undefined;
      await client.endAsync(true);
      throw new Error(`mqtt: cannot reach ${redactUrl(o.url)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const topics = Object.fromEntries([
      ...INPUT_CHANNELS.map((c) => [`${o.topicPrefix}/+/${c}`, { qos: o.qos }] as const),
      ...(o.controlTopics ?? []).map((t) => [t, { qos: 1 as const }] as const),
    ]);
    await client.subscribeAsync(topics);
  }

  /**
   * Queues a QoS 1 message (never blocks); `latest`: a retained state, replaced by a newer one of the same
   * topic while it waits. At most `publishInflight` wait in mqtt.js for their PUBACK, which comes after every
   * message the broker queued for oep before it (a backlog of readings held ~20,000 alerts and statuses in
   * the 10,000-cell stress sweep); the others wait in {@link PublishQueue} as bytes. What became of them:
   * {@link publishCounts}.
   */
  publish(topic: string, payload: string, opts: { retain?: boolean; latest?: boolean } = {}): void {
    if (opts.latest === true) this.out.latest(topic, payload);
    else this.out.event(topic, payload, opts.retain ?? false);
  }

  /** What became of the messages given to {@link publish}, and what waits. */
  get publishCounts(): PublishCounts {
    return this.out.counts;
  }

  /**
   * Hands a message to mqtt.js, whose QoS 1 messages wait until their PUBACK as their UTF-8 bytes outside the
   * V8 heap (`payload`, a buffer of its own: see {@link utf8Bytes}), not as a JSON string (two bytes a
   * character once it holds a σ or a ≥).
   */
  private sendOut(topic: string, payload: Buffer, retain: boolean, done: (error?: Error | null) => void): void {
    if (this.client === undefined) {
      done(new Error('the MQTT adapter is stopped'));
      return;
    }
    this.client.publish(topic, payload, { qos: 1, retain }, done);
  }

  /** One line per state change: connected, or back after an outage (with how long and how many attempts). */
  private onConnected(sessionPresent: boolean): void {
    const o = this.opts;
    this.connected = true;
    const expected = !o.cleanSession && (this.connects++ > 0 || this.expectSession);
    const session = sessionPresent ? ' (session resumed)' : '';
    if (this.outage === undefined) o.log?.(`mqtt: connected to ${redactUrl(o.url)}${session}`);
    else {
      const s = Math.round(((o.now ?? Date.now)() - this.outage.since) / 1000);
      o.log?.(`mqtt: back: connected to ${redactUrl(o.url)}${session} after ${String(s)} s and ${String(this.outage.attempts)} attempts`);
    }
    this.outage = undefined;
    this.lastError = undefined;
    if (expected && !sessionPresent) {
      this.sessionsLost++;
      this.sessionLostAt = (o.now ?? Date.now)();
      (o.warn ?? o.log)?.(
        `mqtt: the broker did not resume the session of ${o.clientId}: readings published while oep was away are lost ` +
          '(broker restarted without persistence, session expired, or queue limits; see config/mosquitto.conf)',
      );
    }
  }

  /**
   * A connection lost, or an attempt failed: logged when the connection is lost, at the first failed
   * attempt, and when the reason changes; the attempts in between are only counted (no line per retry).
   */
  private onClosed(delay_ms: number): void {
    const o = this.opts;
    const url = redactUrl(o.url);
    const why = this.lastError !== undefined ? ` (${this.lastError})` : '';
    const retry = `next try in ${String(delay_ms / 1000)} s, doubling up to ${String(MQTT_RECONNECT_MAX_MS / 1000)} s`;
    if (this.connected) {
      this.outage = { since: (o.now ?? Date.now)(), attempts: 0, reason: this.lastError };
      o.log?.(`mqtt: connection to ${url} lost${why}; reconnecting, ${retry}`);
      return;
    }
    if (this.outage === undefined) {
      this.outage = { since: (o.now ?? Date.now)(), attempts: 1, reason: this.lastError };
      o.log?.(`${refusal(this.lastError) ?? `mqtt: cannot reach ${url}${why}`}; oep keeps trying (${retry})`);
      return;
    }
    this.outage.attempts++;
    if (this.lastError !== this.outage.reason) {
      this.outage.reason = this.lastError;
      o.log?.(`${refusal(this.lastError) ?? `mqtt: still cannot reach ${url}${why}`}; ${retry}`);
    }
  }

  /** Publishes the retained offline status, then disconnects cleanly (the session stays on the broker). */
  async stop(): Promise<void> {
    const client = this.client;
    if (client === undefined) return;
    // Whatever still waits goes to mqtt.js, whose end() waits for the PUBACKs (as it did for every message before the queue).
    this.out.release();
    this.client = undefined;
    if (client.connected) {
      await client
        .publishAsync(daemonStatusTopic(this.opts.topicPrefix), JSON.stringify({ state: 'offline' }), { qos: 1, retain: true })
        .catch(() => undefined);
    }
    await client.endAsync();
    this.subject.complete();
  }
}
