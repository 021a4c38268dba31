/**
 * The write-ahead journal of incoming MQTT messages: a message is appended and made durable (write +
 * fdatasync) before the pipeline sees it, and the MQTT client sends its PUBACK only after that (MQTT.js
 * sends the PUBACK of a QoS 1 message once the `message` listeners have returned; see `MqttAdapter`).
 * So a message the broker has forgotten is always on disk: in the journal, or in the state of the last
 * checkpoint, which truncates the journal.
 *
 * Why one fdatasync per message and not a group commit: MQTT.js handles incoming packets one at a time
 * (the next one only after the previous one's PUBACK is sent), so a group could never hold more than one
 * message without bypassing the client's ack path. The synchronous append also makes (journal, process,
 * acknowledge) one step that a checkpoint can never split: every message in the journal is either in
 * the checkpoint's state or after it, by its sequence number.
 *
 * Record: u32 header length, u32 payload length, u32 CRC-32 of both, the header (JSON: seq, arrival,
 * topic), the payload bytes. A torn record at the end (a crash mid-append) is cut off on open.
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import type { RawMessage } from './mqtt.js';

export const JOURNAL_FILE = 'journal.bin';
const HEAD_BYTES = 12;
/** Digests of the latest journaled messages kept to recognise the broker's redelivery of one (its PUBACK lost in a crash). */
export const RECENT_DIGESTS = 64;

const headerSchema = z.strictObject({ seq: z.number().int().nonnegative(), arrival: z.number(), topic: z.string() });

export interface JournalEntry extends RawMessage {
  readonly seq: number;
}

export interface JournalOptions {
  /** false: no fdatasync (tests and benchmarks of the cost only). */
  readonly sync?: boolean;
}

/** Digest of one message (topic and payload), to recognise a redelivery. */
export function messageDigest(topic: string, payload: Buffer): string {
  return createHash('sha1').update(topic).update('\0').update(payload).digest('base64');
}

export class Journal {
  private fd: number | undefined;
  private size = 0;
  /** Sequence number of the latest appended message (0: none yet). */
  seq = 0;
  private recent: string[] = [];
  /** Messages appended, and messages recognised as redeliveries of journaled ones (not appended again). */
  appended = 0;
  redelivered = 0;

  constructor(
    readonly dir: string,
    private readonly opts: JournalOptions = {},
  ) {}

  get path(): string {
    return join(this.dir, JOURNAL_FILE);
  }

  /** Bytes in the journal now (checkpoints truncate it; the daemon checkpoints early when it grows past its bound). */
  get bytes(): number {
    return this.size;
  }

  /**
   * Opens the journal and returns its entries after sequence number `after` (those the checkpoint does not
   * hold), cutting off a torn record at the end. `recent` are the digests the checkpoint remembered.
   */
  open(after: number, recent: readonly string[]): JournalEntry[] {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.fd = openSync(this.path, 'a+', 0o600);
    const buf = readFileSync(this.path);
    const entries: JournalEntry[] = [];
    this.seq = after;
    this.recent = [...recent];
    let off = 0;
    while (off + HEAD_BYTES <= buf.length) {
      const hl = buf.readUInt32LE(off);
      const pl = buf.readUInt32LE(off + 4);
      const end = off + HEAD_BYTES + hl + pl;
      if (end > buf.length || crc32(buf.subarray(off + HEAD_BYTES, end)) !== buf.readUInt32LE(off + 8)) break;
      const h = headerSchema.parse(JSON.parse(buf.toString('utf8', off + HEAD_BYTES, off + HEAD_BYTES + hl)));
      const payload = Buffer.from(buf.subarray(off + HEAD_BYTES + hl, end));
      if (h.seq > after) entries.push({ seq: h.seq, arrival: h.arrival, topic: h.topic, payload });
      if (h.seq > this.seq) this.seq = h.seq;
      this.remember(messageDigest(h.topic, payload));
      off = end;
    }
    if (off < buf.length) ftruncateSync(this.fd, off);
    this.size = off;
    return entries;
  }

  /**
   * Appends one message and makes it durable; false (nothing appended) when it is the redelivery of one
   * of the latest journaled messages, whose PUBACK a crash lost: its readings are already in.
   */
  append(m: RawMessage): boolean {
    const fd = this.fd;
    if (fd === undefined) throw new Error('the journal is not open');
    const digest = messageDigest(m.topic, m.payload);
    if (this.recent.includes(digest)) {
      this.redelivered++;
      return false;
    }
    const head = Buffer.from(JSON.stringify({ seq: this.seq + 1, arrival: m.arrival, topic: m.topic }));
    const rec = Buffer.allocUnsafe(HEAD_BYTES + head.length + m.payload.length);
    rec.writeUInt32LE(head.length, 0);
    rec.writeUInt32LE(m.payload.length, 4);
    head.copy(rec, HEAD_BYTES);
    m.payload.copy(rec, HEAD_BYTES + head.length);
    rec.writeUInt32LE(crc32(rec.subarray(HEAD_BYTES)), 8);
    let done = 0;
    while (done < rec.length) done += writeSync(fd, rec, done, rec.length - done, this.size + done);
    if (this.opts.sync !== false) fdatasyncSync(fd);
    this.size += rec.length;
    this.seq++;
    this.appended++;
    this.remember(digest);
    return true;
  }

  /** The digests to keep in a checkpoint (see {@link open}). */
  get recentDigests(): readonly string[] {
    return this.recent;
  }

  /** Empties the journal: a checkpoint now holds everything up to {@link seq}. */
  truncate(): void {
    if (this.fd === undefined) return;
    ftruncateSync(this.fd, 0);
    if (this.opts.sync !== false) fdatasyncSync(this.fd);
    this.size = 0;
  }

  close(): void {
    if (this.fd === undefined) return;
    if (fstatSync(this.fd).size !== this.size) ftruncateSync(this.fd, this.size);
    closeSync(this.fd);
    this.fd = undefined;
  }

  private remember(digest: string): void {
    this.recent.push(digest);
    if (this.recent.length > RECENT_DIGESTS) this.recent.shift();
  }
}
