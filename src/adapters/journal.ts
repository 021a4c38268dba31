/**
 * The write-ahead journal of incoming MQTT messages: a message is appended before the pipeline sees it,
 * and its PUBACK is held until the journal is durable (written and fdatasync'd) or a checkpoint holds it: `MqttAdapter` hands each PUBACK to
 * {@link Journal.whenDurable}. So a message the broker has forgotten is always on disk: in the journal,
 * or in the state of the last checkpoint, which truncates the journal.
 *
 * Group commit: one sync runs at a time: the records appended since the last one are written in one call,
 * then fdatasync runs off the event loop; the PUBACKs of the messages appended meanwhile wait for the
 * next sync, which covers them all. A message whose record was not written when the daemon died was not
 * acknowledged either: the broker delivers it again.
 *
 * Commit interval and the quiet rules: journal-commit.ts.
 *
 * Every message in the journal is either in the checkpoint's state or after it, by its sequence number
 * (the append and the pipeline's processing are one synchronous step, which a checkpoint never splits).
 * After a crash, the broker redelivers the messages whose PUBACK was held, with the DUP flag: the digests
 * of the latest journaled messages (kept in the checkpoint too) recognise them, and they are acknowledged,
 * not taken twice. A message without the flag is always taken (a device may publish equal payloads twice).
 *
 * A checkpoint is taken while messages go on arriving: when it begins, the journal sets its file aside
 * (`journal-<last seq>.bin`) and goes on in a new one; the next sync covers the set-aside file too (no
 * PUBACK is released before it), and once the checkpoint is durable, the set-aside file goes. A restart reads the set-aside files a stopped checkpoint left, then the current one.
 *
 * Records: see journal-record.ts. A torn record at the end (a crash mid-append) is cut off on open.
 */
import { closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, renameSync, rm, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_JOURNAL_COMMIT_MS } from '../config/defaults.js';
import { HeldAcks } from './held-acks.js';
import { CommitTimer } from './journal-commit.js';
import { readRecordsFromFile, recordBound, writeRecord } from './journal-record.js';
import type { RawMessage } from './mqtt.js';
import { messageDigest, RecentMessages } from './recent-messages.js';

export const JOURNAL_FILE = 'journal.bin';
/** A file set aside while a checkpoint was being taken: the sequence number of its last message. */
const SEGMENT = /^journal-(\d+)\.bin$/;

interface Retired {
  readonly path: string;
  readonly last: number;
  /** Open while this process wrote it. */
  readonly fd: number | undefined;
  /** Records in it not yet covered by an fdatasync: the next sync covers them (before its PUBACKs go). */
  unsynced: boolean;
}
/**
 * Size of the buffer the records are appended to until a sync writes them, bytes: past it they are written
 * at once (not synced: the sync in flight or the next one covers them). A record larger than it gets a
 * buffer of its own size.
 */
const STAGE_BYTES = 256 * 1024;

export interface JournalEntry extends RawMessage {
  readonly seq: number;
}

export interface JournalOptions {
  /** Hears a failed fdatasync (the PUBACKs then stay held: the broker keeps the messages). */
  readonly onError?: (message: string) => void;
  /** Bytes read at a time on open (tests make it small; default 4 MiB). */
  readonly readChunkBytes?: number;
  /** Least time between the starts of two fdatasyncs while messages keep coming, ms (0: back to back). Default {@link DEFAULT_JOURNAL_COMMIT_MS}. */
  readonly commitInterval_ms?: number;
}

export class Journal {
  private fd: number | undefined;
  /** Bytes in the file. */
  private size = 0;
  /** Records appended but not written yet (the first `unwrittenBytes` bytes): written in one call when a sync starts (their PUBACKs wait for it). */
  private stage = Buffer.allocUnsafe(STAGE_BYTES);
  private unwrittenBytes = 0;
  /** Sequence number of the latest appended message (0: none yet). */
  seq = 0;
  private readonly recent = new RecentMessages();
  /** Sequence number up to which the journal is durable (fdatasync done, or a checkpoint holds it). */
  private durableSeq = 0;
  private syncing = false;
  /** When the next sync starts. */
  private readonly commit: CommitTimer;
  /** Files set aside by {@link rotate}, each with the last sequence number it holds. */
  private retired: Retired[] = [];
  /** The files an fdatasync is under way on, and set-aside files to close once theirs is done. */
  private readonly syncingFds = new Set<number>();
  private closeAfterSync: number[] = [];
  /** Held PUBACKs: each waits until the journal is durable up to its message. */
  private readonly acks = new HeldAcks();
  /** Messages appended, and messages recognised as redeliveries of journaled ones (not appended again). */
  appended = 0;
  redelivered = 0;
  /** fdatasync calls made on the journal's files. */
  syncs = 0;

  constructor(
    readonly dir: string,
    private readonly opts: JournalOptions = {},
  ) {
    this.commit = new CommitTimer(opts.commitInterval_ms ?? DEFAULT_JOURNAL_COMMIT_MS, {
      seq: () => this.seq,
      held: () => this.held,
      waiting: () => this.fd !== undefined && this.held > 0 && !this.syncing,
      start: () => {
        this.startSync();
      },
    });
  }

  get path(): string {
    return join(this.dir, JOURNAL_FILE);
  }

  /** Bytes in the journal now (checkpoints truncate it; the daemon checkpoints early when it grows past its bound). */
  get bytes(): number {
    return this.size + this.unwrittenBytes;
  }

  /**
   * Opens the journal and returns its entries after sequence number `after` (those the checkpoint does not
   * hold), cutting off a torn record at the end. `recent` are the digests the checkpoint remembered.
   * Holds every entry in memory: a restart uses {@link openEach}.
   */
  open(after: number, recent: readonly string[]): JournalEntry[] {
    const entries: JournalEntry[] = [];
    this.openEach(after, recent, (e) => entries.push(e));
    return entries;
  }

  /**
   * Opens the journal and hands its entries after sequence number `after` to `visit`, in order, as it reads
   * them a chunk at a time (memory bounded by a chunk, not by the journal); cuts off a torn record at the
   * end. Returns how many it handed over.
   */
  openEach(after: number, recent: readonly string[], visit: (e: JournalEntry) => void): number {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    let handed = 0;
    this.seq = after;
    this.recent.clear();
    for (const d of recent) this.recent.addDigest(d);
    const take = (seq: number, arrival: number, topic: string, payload: Buffer): void => {
      if (seq > this.seq) this.seq = seq;
      this.recent.add(topic, payload);
      if (seq <= after) return;
      handed++;
      visit({ seq, arrival, topic, payload });
    };
    // Segments set aside by checkpoints still being taken when the daemon stopped, oldest first.
    for (const s of this.segmentsOnDisk()) {
      if (s.last <= after) rmSync(s.path, { force: true });
      else {
        const fd = openSync(s.path, 'r');
        try {
          readRecordsFromFile(fd, this.opts.readChunkBytes, take);
        } finally {
          closeSync(fd);
        }
        this.retired.push({ path: s.path, last: s.last, fd: undefined, unsynced: false });
      }
    }
    this.fd = openSync(this.path, 'a+', 0o600);
    const off = readRecordsFromFile(this.fd, this.opts.readChunkBytes, take);
    if (off < fstatSync(this.fd).size) ftruncateSync(this.fd, off);
    this.size = off;
    this.durableSeq = this.seq;
    return handed;
  }

  private segmentsOnDisk(): { path: string; last: number }[] {
    const out: { path: string; last: number }[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = SEGMENT.exec(name);
      if (m?.[1] !== undefined) out.push({ path: join(this.dir, name), last: Number(m[1]) });
    }
    return out.sort((a, b) => a.last - b.last);
  }

  /**
   * Sets the records appended so far aside (a checkpoint begins: it will hold them) and goes on in a new
   * file; {@link dropThrough} removes them once the checkpoint is durable. Its records not synced yet are
   * covered by the next sync (off the event loop, with the new file's: their held PUBACKs go then, not
   * after the checkpoint, which can take seconds, during which every later PUBACK would wait: they are
   * released in order).
   */
  rotate(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.writeOut(fd);
    if (this.size === 0) return;
    const path = join(this.dir, `journal-${this.seq}.bin`);
    renameSync(this.path, path);
    this.retired.push({ path, last: this.seq, fd, unsynced: this.durableSeq < this.seq });
    this.fd = openSync(this.path, 'a+', 0o600);
    this.size = 0;
    if (this.held > 0) this.syncSoon();
  }

  /** A checkpoint holding every message up to `seq` is durable: their set-aside files go, their PUBACKs too. */
  dropThrough(seq: number): void {
    const keep: Retired[] = [];
    for (const r of this.retired) {
      if (r.last > seq) {
        keep.push(r);
        continue;
      }
      // Off the event loop: unlinking a file of 100 MB whose pages are being written back took up to 100 ms.
      rm(r.path, { force: true }, (e) => {
        if (e !== null) this.opts.onError?.(`journal: could not remove ${r.path}: ${e.message}`);
      });
      if (r.fd !== undefined) this.closeWhenIdle(r.fd);
    }
    this.retired = keep;
    this.markDurable(seq);
  }

  /**
   * Appends one message (written, not yet synced: see {@link whenDurable}); false (nothing appended) when
   * it is the redelivery of one of the latest journaled messages, whose PUBACK a crash lost.
   */
  append(m: RawMessage): boolean {
    if (this.fd === undefined) throw new Error('the journal is not open');
    // Only a message the broker marks as sent again can be one: two equal messages published twice are two.
    if (m.dup === true && this.recent.has(messageDigest(m.topic, m.payload))) {
      this.redelivered++;
      return false;
    }
    const at = this.unwrittenBytes;
    this.reserve(at + recordBound(m.topic, m.payload.length));
    const end = writeRecord(this.stage, at, this.seq + 1, m.arrival, m.topic, m.payload);
    this.unwrittenBytes = end;
    this.seq++;
    this.appended++;
    this.recent.add(m.topic, m.payload);
    if (end > STAGE_BYTES) this.writeOut(this.fd);
    return true;
  }

  /** Grows the stage to hold `bytes`, keeping what it holds. */
  private reserve(bytes: number): void {
    if (bytes <= this.stage.length) return;
    let size = this.stage.length * 2;
    while (size < bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    grown.set(this.stage.subarray(0, this.unwrittenBytes));
    this.stage = grown;
  }

  /** The digests to keep in a checkpoint (see {@link open}). */
  get recentDigests(): readonly string[] {
    return this.recent.list();
  }

  /** Calls `release` once everything appended so far is durable (at once if it is). */
  whenDurable(release: () => void): void {
    if (this.durableSeq >= this.seq) {
      release();
      return;
    }
    this.acks.hold(this.seq, release);
    this.syncSoon();
  }

  /** Held PUBACKs. */
  get held(): number {
    return this.acks.size;
  }

  /** One fdatasync at a time, covering everything appended before it starts: when, see {@link CommitTimer}. */
  private syncSoon(): void {
    if (this.syncing || this.fd === undefined) return;
    this.commit.soon();
  }

  /** An fdatasync of the file and of the set-aside files with records not synced yet, side by side; then the PUBACKs of all appended before it go. */
  private startSync(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.syncing = true;
    this.commit.started();
    const target = this.seq;
    this.writeOut(fd);
    const fds = [fd];
    for (const r of this.retired) if (r.unsynced && r.fd !== undefined) fds.push(r.fd);
    this.syncs += fds.length;
    let left = fds.length;
    let failure: Error | undefined;
    for (const f of fds) {
      this.syncingFds.add(f);
      fdatasync(f, (e) => {
        this.syncingFds.delete(f);
        failure ??= e ?? undefined;
        if (--left === 0) this.synced(target, fds, failure);
      });
    }
  }

  private synced(target: number, fds: readonly number[], failure: Error | undefined): void {
    this.syncing = false;
    this.closeIdle();
    // A file set aside meanwhile (rotate) was synced all the same: its messages up to the target are durable.
    if (this.fd === undefined) return;
    if (failure !== undefined) {
      this.opts.onError?.(`journal: fdatasync failed: ${failure.message}`);
      return;
    }
    // The files set aside before it started, and the one set aside while it ran if it held nothing past the target.
    for (const r of this.retired) if (r.unsynced && r.fd !== undefined && r.last <= target && fds.includes(r.fd)) r.unsynced = false;
    this.markDurable(target);
    if (this.held > 0) this.syncSoon();
  }

  /** Closes a set-aside file now, or once the fdatasync under way on it is done. */
  private closeWhenIdle(fd: number): void {
    if (this.syncingFds.has(fd)) this.closeAfterSync.push(fd);
    else closeSync(fd);
  }

  private closeIdle(): void {
    const waiting = this.closeAfterSync;
    this.closeAfterSync = [];
    for (const fd of waiting) this.closeWhenIdle(fd);
  }

  /** Writes the appended records to the file, in one call. */
  private writeOut(fd: number): void {
    const n = this.unwrittenBytes;
    if (n === 0) return;
    this.unwrittenBytes = 0;
    let done = 0;
    while (done < n) done += writeSync(fd, this.stage, done, n - done, this.size + done);
    this.size += n;
  }

  private markDurable(seq: number): void {
    if (seq > this.durableSeq) this.durableSeq = seq;
    this.acks.releaseThrough(this.durableSeq);
  }

  /** Makes everything appended durable now and releases the held PUBACKs (before a stop). */
  syncNow(): void {
    if (this.fd === undefined) return;
    this.writeOut(this.fd);
    fdatasyncSync(this.fd);
    this.syncs++;
    this.markDurable(this.seq);
  }

  /** Empties the journal: a checkpoint now holds everything up to {@link seq} (held PUBACKs go). */
  truncate(): void {
    if (this.fd === undefined) return;
    this.dropThrough(this.seq);
    // Records not written yet belong to messages the checkpoint holds: they are not needed either.
    this.unwrittenBytes = 0;
    ftruncateSync(this.fd, 0);
    fdatasyncSync(this.fd);
    this.syncs++;
    this.size = 0;
    this.markDurable(this.seq);
  }

  close(): void {
    this.commit.stop();
    for (const r of this.retired) if (r.fd !== undefined) this.closeWhenIdle(r.fd);
    this.retired = this.retired.map((r) => ({ ...r, fd: undefined }));
    if (this.fd === undefined) return;
    this.writeOut(this.fd);
    if (fstatSync(this.fd).size !== this.size) ftruncateSync(this.fd, this.size);
    closeSync(this.fd);
    this.fd = undefined;
  }
}
