/**
 * The daemon's outgoing QoS 1 messages (alert events, retained cell statuses) on their way to MQTT.js: at
 * most `maxInflight` handed to the client awaiting their PUBACK; the rest wait here as bytes.
 *
 * Why: MQTT.js keeps every QoS 1 message until its PUBACK (a packet, its clone in the outgoing store with a
 * copy of the payload, a callback entry: ~0.5 KB of heap and ~3 KB of RSS beside the payload, measured with
 * a broker that never acknowledges), and the broker sends the PUBACK behind every message it queued for the
 * daemon: in the 10,000-cell stress sweep, a backlog of readings held every one of ~20,000 alerts and statuses
 * (10,000 events, 10,000 statuses) for ~60 s before the first PUBACK came (a heap breakdown put ~31 MB on them).
 * MQTT.js offers no bound of its own (`queueQoSZero` concerns QoS 0; a custom outgoing store gets a clone of
 * every packet and cannot replace or refuse one).
 *
 * - Events (`event`): first in, first out, never replaced; straight to the client while nothing waits and
 *   there is room, else queued as their UTF-8 bytes in 64 KB chunks (no object per message; ~860 B an alert
 *   of the sweep). Past `maxQueuedBytes` of them a new event is refused: counted (`dropped`) and
 *   reported through `onDrop`, never silently.
 * - Latest state (`latest`, retained): one pending message per topic; a newer one replaces an older one not
 *   yet handed to the client (`superseded`), at the older one's place in the order, so a state that keeps
 *   changing is not starved. One already handed over stays (it is on its way); the newer one follows it on
 *   the same connection, so the broker keeps the newest last.
 * - Order: messages leave in the order they were queued (a replaced state at its first place).
 */

/**
 * `s` as UTF-8 in a buffer of its own. Not Buffer.from: a short string's bytes go into Node's shared 8 KB
 * pool, and a message that waits long for its PUBACK keeps the whole 8 KB slab alive with it (70 MB of
 * slabs for 14,000 alerts in the 10,000-cell stress sweep).
 */
export function utf8Bytes(s: string): Buffer {
  const b = Buffer.allocUnsafeSlow(Buffer.byteLength(s, 'utf8'));
  b.write(s, 'utf8');
  return b;
}

/** Hands one message to the client; `done` once it is acknowledged (or failed). May call `done` at once. */
export type SendMessage = (topic: string, payload: Buffer, retain: boolean, done: (error?: Error | null) => void) => void;

export interface PublishQueueOptions {
  /** Messages handed to the client and awaiting their PUBACK, at most (default {@link DEFAULT_PUBLISH_INFLIGHT}). */
  readonly maxInflight?: number;
  /** Bytes of events waiting behind them, at most (default {@link DEFAULT_PUBLISH_QUEUE_BYTES}). */
  readonly maxQueuedBytes?: number;
  /** An event refused because the queue is full (`dropped` counts them all). */
  readonly onDrop?: (topic: string, dropped: number) => void;
}

/**
 * Messages awaiting their PUBACK in MQTT.js, at most. Enough that nothing waits here while the broker answers
 * within a second or so (a lab raises a few alerts a minute); ~3 MB of RSS in MQTT.js when all are out.
 */
export const DEFAULT_PUBLISH_INFLIGHT = 1_000;
/** Bytes of alert events waiting behind them (~20,000 alerts of ~800 B): far beyond any lab's alert rate. */
export const DEFAULT_PUBLISH_QUEUE_BYTES = 16 * 1024 * 1024;

/** What the queue did so far, and holds now. */
export interface PublishCounts {
  /** Messages taken (`event` and `latest`, dropped ones included). */
  readonly accepted: number;
  /** Acknowledged by the broker. */
  readonly acked: number;
  /** Handed to the client and failed (the client stopped, a PUBACK with an error code). */
  readonly failed: number;
  /** Events refused because the queue was full. */
  readonly dropped: number;
  /** States replaced by a newer one of the same topic before they were handed to the client. */
  readonly superseded: number;
  /** Handed to the client, awaiting their PUBACK. */
  readonly inflight: number;
  /** Waiting here (events and states). */
  readonly queued: number;
  /** Bytes of the events waiting here (topics and payloads). */
  readonly queuedBytes: number;
}

const CHUNK_BYTES = 64 * 1024;
/** retain (1 byte), topic length (2), payload length (4). */
const HEADER_BYTES = 7;

/** A state waiting: its bytes, and how many events were queued before it (it leaves once they have). */
interface PendingState {
  payload: Buffer;
  readonly after: number;
}

export class PublishQueue {
  private readonly maxInflight: number;
  private readonly maxQueuedBytes: number;
  /** The event log: chunks of records, read from `head` in `chunks[0]`, written at `tail` in the last. */
  private chunks: Buffer[] = [];
  private ends: number[] = [];
  private head = 0;
  private tail = 0;
  private readonly states = new Map<string, PendingState>();
  private eventsQueued = 0;
  private eventsTaken = 0;
  private pumping = false;
  private released = false;
  private c = { accepted: 0, acked: 0, failed: 0, dropped: 0, superseded: 0, inflight: 0, queuedBytes: 0 };
  /** One callback for every message (no closure per message in MQTT.js's outgoing table). */
  private readonly done = (error?: Error | null): void => {
    this.c.inflight--;
    if (error === undefined || error === null) this.c.acked++;
    else this.c.failed++;
    this.pump();
  };

  constructor(
    private readonly send: SendMessage,
    private readonly o: PublishQueueOptions = {},
  ) {
    this.maxInflight = Math.max(1, o.maxInflight ?? DEFAULT_PUBLISH_INFLIGHT);
    this.maxQueuedBytes = o.maxQueuedBytes ?? DEFAULT_PUBLISH_QUEUE_BYTES;
  }

  /** Queues an event (never replaced); refused, counted and reported when the queue is full. */
  event(topic: string, payload: string, retain = false): void {
    this.c.accepted++;
    if (this.eventsTaken === this.eventsQueued && this.c.inflight < this.maxInflight && !this.pumping) {
      // nothing waits and there is room: straight to the client (the usual case)
      this.c.inflight++;
      this.send(topic, utf8Bytes(payload), retain, this.done);
      return;
    }
    const topicBytes = Buffer.byteLength(topic, 'utf8');
    const size = HEADER_BYTES + topicBytes + Buffer.byteLength(payload, 'utf8');
    if (topicBytes > 0xffff || this.c.queuedBytes + size > this.maxQueuedBytes) {
      this.c.dropped++;
      this.o.onDrop?.(topic, this.c.dropped);
      return;
    }
    let chunk = this.chunks.at(-1);
    if (chunk === undefined || this.tail + size > chunk.length) {
      if (chunk !== undefined) this.ends[this.ends.length - 1] = this.tail;
      chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, size));
      this.chunks.push(chunk);
      this.ends.push(chunk.length);
      this.tail = 0;
    }
    const at = this.tail;
    chunk[at] = retain ? 1 : 0;
    chunk.writeUInt16LE(topicBytes, at + 1);
    const written = chunk.write(topic, at + HEADER_BYTES, 'utf8');
    const payloadBytes = chunk.write(payload, at + HEADER_BYTES + written, 'utf8');
    chunk.writeUInt32LE(payloadBytes, at + 3);
    this.tail = at + HEADER_BYTES + written + payloadBytes;
    this.c.queuedBytes += size;
    this.eventsQueued++;
    this.pump();
  }

  /** Queues the latest retained state of `topic`, replacing one that waits here. */
  latest(topic: string, payload: string): void {
    this.c.accepted++;
    const bytes = utf8Bytes(payload);
    const waiting = this.states.get(topic);
    if (waiting !== undefined) {
      waiting.payload = bytes;
      this.c.superseded++;
    } else this.states.set(topic, { payload: bytes, after: this.eventsQueued });
    this.pump();
  }

  /** Hands every waiting message to the client now, past the in-flight bound (the client is about to end). */
  release(): void {
    this.released = true;
    this.pump();
  }

  get counts(): PublishCounts {
    return { ...this.c, queued: this.eventsQueued - this.eventsTaken + this.states.size };
  }

  private pump(): void {
    // `send` may call `done` at once (a stopped client), which calls pump again: the loop below goes on instead.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.released || this.c.inflight < this.maxInflight) {
        if (!this.sendNext()) break;
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Hands the oldest waiting message to the client; false if none waits. */
  private sendNext(): boolean {
    const first = this.states.entries().next();
    if (first.done !== true && first.value[1].after <= this.eventsTaken) {
      const [topic, s] = first.value;
      this.states.delete(topic);
      this.c.inflight++;
      this.send(topic, s.payload, true, this.done);
      return true;
    }
    const chunk = this.chunks[0];
    if (this.eventsTaken === this.eventsQueued || chunk === undefined) return false;
    const at = this.head;
    const retain = chunk[at] === 1;
    const topicBytes = chunk.readUInt16LE(at + 1);
    const payloadBytes = chunk.readUInt32LE(at + 3);
    const topicAt = at + HEADER_BYTES;
    const topic = chunk.toString('utf8', topicAt, topicAt + topicBytes);
    // A buffer of its own (see utf8Bytes): a slice would keep the 64 KB chunk alive until this message's PUBACK.
    const payload = Buffer.allocUnsafeSlow(payloadBytes);
    chunk.copy(payload, 0, topicAt + topicBytes, topicAt + topicBytes + payloadBytes);
    this.head = topicAt + topicBytes + payloadBytes;
    this.c.queuedBytes -= HEADER_BYTES + topicBytes + payloadBytes;
    this.eventsTaken++;
    if (this.eventsTaken === this.eventsQueued) {
      // empty: the next event is written from the start of the last chunk (if it is a standard one), the others go
      const last = this.chunks.at(-1);
      this.chunks = last?.length === CHUNK_BYTES ? [last] : [];
      this.ends = this.chunks.length > 0 ? [CHUNK_BYTES] : [];
      this.head = this.tail = 0;
    } else if (this.head >= (this.ends[0] ?? 0)) {
      // this chunk is read (it was sealed: the events go on in the next)
      this.chunks.shift();
      this.ends.shift();
      this.head = 0;
    }
    this.c.inflight++;
    this.send(topic, payload, retain, this.done);
    return true;
  }
}
