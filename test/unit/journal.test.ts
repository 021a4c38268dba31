/**
 * The write-ahead journal: what is appended is read back after a reopen (only what follows the
 * checkpoint's sequence number), a torn record at the end is cut off, a redelivery of a journaled message
 * is recognised (also across a reopen, through the checkpoint's digests), a file set aside for a checkpoint
 * is read back until the checkpoint is durable, and truncation empties it.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSink } from '../../src/adapters/file-sink.js';
import { Journal } from '../../src/adapters/journal.js';
import { readRecords, recordBound, writeHeader, writeRecord } from '../../src/adapters/journal-record.js';
import fc from 'fast-check';

const msg = (i: number) => ({ topic: `oep/c${i % 3}/pressure`, payload: Buffer.from(JSON.stringify({ ts: 1000 + i, value: i / 7 })), arrival: 5000 + i });

describe('journal', () => {
  it('reads back what follows the checkpoint, in order, with arrival times and sequence numbers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-journal-'));
    const j = new Journal(dir);
    expect(j.open(0, [])).toEqual([]);
    for (let i = 1; i <= 10; i++) expect(j.append(msg(i))).toBe(true);
    expect(j.seq).toBe(10);
    j.close();
    const again = new Journal(dir);
    const entries = again.open(4, []);
    expect(entries.map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(entries.map((e) => ({ topic: e.topic, payload: e.payload.toString(), arrival: e.arrival }))).toEqual(
      [5, 6, 7, 8, 9, 10].map((i) => ({ topic: msg(i).topic, payload: msg(i).payload.toString(), arrival: msg(i).arrival })),
    );
    expect(again.seq).toBe(10);
    // the next message continues the numbering
    again.append(msg(11));
    again.close();
    expect(new Journal(dir).open(10, []).map((e) => e.seq)).toEqual([11]);
  });

  it('a checkpoint sets the file aside (the next sync covers it, then its held PUBACKs go): read back after a crash until the checkpoint is durable, then gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-journal-'));
    const j = new Journal(dir, { commitInterval_ms: 0 }); // each sync at once
    j.open(0, []);
    for (let i = 1; i <= 3; i++) j.append(msg(i));
    const syncs = j.syncs;
    j.rotate(); // a checkpoint begins at seq 3
    expect(readdirSync(dir).sort()).toEqual(['journal-3.bin', 'journal.bin']);
    // A crash before the checkpoint is durable: the restart reads the set-aside file.
    expect(new Journal(dir).open(0, []).map((e) => e.seq)).toEqual([1, 2, 3]);
    const released: number[] = [];
    j.append(msg(4));
    j.whenDurable(() => released.push(4));
    // Not on the event loop: the set-aside file's fdatasync runs off it, beside the new file's.
    expect(released).toEqual([]);
    await until(() => released.length === 1);
    // Two files synced: a sync of the new file alone would leave 1-3 in the page cache only.
    expect(j.syncs).toBe(syncs + 2);
    // A sync under way when a file is set aside covers it if it holds nothing more: no second one.
    j.append(msg(5));
    j.whenDurable(() => released.push(5));
    j.rotate();
    await until(() => released.length === 2);
    j.append(msg(6));
    j.whenDurable(() => released.push(6));
    await until(() => released.length === 3);
    expect(j.syncs).toBe(syncs + 4);
    expect(new Journal(dir).open(0, []).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    j.dropThrough(5);
    await until(() => readdirSync(dir).length === 1); // removed off the event loop
    expect(readdirSync(dir)).toEqual(['journal.bin']);
    await new Promise<void>((r) => {
      j.whenDurable(r);
    });
    j.close();
    expect(new Journal(dir).open(5, []).map((e) => e.seq)).toEqual([6]);
    // A set-aside file the checkpoint already holds (a crash between the checkpoint and its removal) goes on open.
    writeFileSync(join(dir, 'journal-2.bin'), '');
    expect(new Journal(dir).open(5, []).map((e) => e.seq)).toEqual([6]);
    expect(readdirSync(dir)).toEqual(['journal.bin']);
  });

  it('cuts off a torn record at the end (a crash mid-append) and goes on from the last whole one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-journal-'));
    const j = new Journal(dir);
    j.open(0, []);
    for (let i = 1; i <= 3; i++) j.append(msg(i));
    j.close();
    const whole = statSync(j.path).size;
    appendFileSync(j.path, readFileSync(j.path).subarray(0, 20)); // half a record
    const again = new Journal(dir);
    expect(again.open(0, []).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(statSync(again.path).size).toBe(whole);
    again.append(msg(4));
    again.close();
    expect(new Journal(dir).open(0, []).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('a corrupted record ends the readable journal (CRC), never a wrong message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-journal-'));
    const j = new Journal(dir);
    j.open(0, []);
    for (let i = 1; i <= 3; i++) j.append(msg(i));
    j.close();
    const b = readFileSync(j.path);
    b.writeUInt8(b.readUInt8(b.length - 3) ^ 0xff, b.length - 3); // a byte of the last payload
    writeFileSync(j.path, b);
    expect(new Journal(dir).open(0, []).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('recognises the redelivery (DUP flag) of a journaled message, also after a checkpoint and a reopen; an equal message without the flag is new', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-journal-'));
    const j = new Journal(dir);
    j.open(0, []);
    j.append(msg(1));
    j.append(msg(2));
    expect(j.append({ ...msg(2), arrival: 9999, dup: true })).toBe(false);
    expect(j.redelivered).toBe(1);
    // published twice by its device: two messages
    expect(j.append({ ...msg(2), arrival: 9999 })).toBe(true);
    expect(j.seq).toBe(3);
    const recent = [...j.recentDigests];
    j.truncate();
    expect(j.bytes).toBe(0);
    j.close();
    const again = new Journal(dir);
    expect(again.open(3, recent)).toEqual([]);
    expect(again.append({ ...msg(2), dup: true })).toBe(false);
    expect(again.append({ ...msg(3), dup: true })).toBe(true);
    expect(again.seq).toBe(4);
  });
});

describe('journal group commit', () => {
  it('a trickle (fewer than 8 PUBACKs held) syncs after 2 ms of quiet, not at every quiet turn: one sync for messages a turn apart', async () => {
    const j = new Journal(mkdtempSync(join(tmpdir(), 'oep-journal-')), { commitInterval_ms: 3_600_000 });
    j.open(0, []);
    const released: number[] = [];
    j.append(msg(1));
    j.whenDurable(() => released.push(1)); // no sync within the interval yet: at once
    await until(() => released.length === 1);
    const syncs = j.syncs;
    j.append(msg(2));
    j.whenDurable(() => released.push(2));
    // The next turn of the event loop is quiet (the journal looks first); a message follows in the one after.
    await new Promise<void>((r) => setImmediate(r));
    j.append(msg(3));
    j.whenDurable(() => released.push(3));
    await until(() => released.length === 3); // an interval of an hour: the grace, not the interval, synced them
    expect(released).toEqual([1, 2, 3]);
    expect(j.syncs).toBe(syncs + 1);
    j.close();
  });

  it('holds each release until an fdatasync covers its message; one covers all appended before it; a checkpoint releases all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-journal-'));
    const j = new Journal(dir);
    j.open(0, []);
    const released: number[] = [];
    for (let i = 1; i <= 5; i++) {
      j.append(msg(i));
      j.whenDurable(() => released.push(i));
    }
    expect(released).toEqual([]);
    expect(j.held).toBe(5);
    await until(() => released.length === 5);
    expect(released).toEqual([1, 2, 3, 4, 5]);
    // durable already: at once
    j.whenDurable(() => released.push(0));
    expect(released).toHaveLength(6);
    j.append(msg(6));
    j.whenDurable(() => released.push(6));
    j.truncate();
    expect(released.at(-1)).toBe(6);
    expect(j.held).toBe(0);
    j.close();
  });
});

describe('journal commit interval', () => {
  it('under sustained input, starts at most one fdatasync per interval; each release after a sync that started after its append', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-journal-'));
    // longer than an fdatasync takes even on a loaded machine (~20 ms measured at load 10), so back to back would be several times more
    const interval_ms = 200;
    const j = new Journal(dir, { commitInterval_ms: interval_ms });
    j.open(0, []);
    let i = 0;
    let early = 0;
    const released: number[] = [];
    const started = performance.now();
    // 20 messages a turn of the event loop for 1 s. The next turn's batch is scheduled before this one's
    // appends, so it comes before the journal's look (as messages read in the poll phase do): input never goes quiet.
    await new Promise<void>((done) => {
      const turn = (): void => {
        if (performance.now() - started < 1_000) setImmediate(turn);
        else done();
        for (let k = 0; k < 20; k++) {
          const n = ++i;
          j.append(msg(n));
          const syncsAtAppend = j.syncs;
          j.whenDurable(() => {
            if (j.syncs <= syncsAtAppend) early++;
            released.push(n);
          });
        }
      };
      setImmediate(turn);
    });
    const elapsed = performance.now() - started;
    await until(() => released.length === i);
    expect(early).toBe(0);
    expect(released).toEqual(Array.from({ length: i }, (_, k) => k + 1));
    // one at once (the first message), then one per interval at most, and the last once input stopped
    expect(j.syncs).toBeLessThanOrEqual(Math.floor(elapsed / interval_ms) + 2);
    expect(i / j.syncs).toBeGreaterThan(20);
    j.close();
    expect(new Journal(dir).open(0, [])).toHaveLength(i);
  });

  it('syncs at once when input goes quiet, however long the interval (a broker holding its next messages until it gets PUBACKs)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-journal-'));
    const j = new Journal(dir, { commitInterval_ms: 3_600_000 });
    j.open(0, []);
    let released = 0;
    let n = 0;
    for (let batch = 0; batch < 5; batch++) {
      // 20 messages in one turn, then none: the first batch finds no sync for an hour, the next ones one just done
      for (let k = 0; k < 20; k++) {
        j.append(msg(++n));
        j.whenDurable(() => released++);
      }
      await until(() => released === n);
    }
    // the first message's at once (no sync for an hour), then one a batch once it has gone quiet
    expect(j.syncs).toBe(6);
    // more held than brokers' usual in-flight limits (Mosquitto 2.0.11 lets 20 more through per PUBACK): after a grace
    for (let k = 0; k < 500; k++) {
      j.append(msg(++n));
      j.whenDurable(() => released++);
    }
    await until(() => released === n);
    expect(j.syncs).toBe(7);
    j.close();
  });
});

async function until(f: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!f()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('file sink resume', () => {
  it('cuts every file back to the sizes of the checkpoint, then appends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-files-'));
    const first = new FileSink(dir);
    first.writeLines(['m f=1 1']);
    await first.sync();
    const offsets = first.offsets;
    first.writeLines(['m f=2 2']);
    await first.close();
    expect(readFileSync(join(dir, 'points.lp'), 'utf8')).toBe('m f=1 1\nm f=2 2\n');
    const second = new FileSink(dir, true, offsets);
    second.writeLines(['m f=3 3']);
    await second.close();
    expect(readFileSync(join(dir, 'points.lp'), 'utf8')).toBe('m f=1 1\nm f=3 3\n');
    expect(readFileSync(join(dir, 'steps.csv'), 'utf8').split('\n')).toHaveLength(2); // the header, once
  });
});

describe('journal record header', () => {
  it('is the bytes of JSON.stringify({ seq, arrival, topic }), or −1 where it would not be', () => {
    const topics = fc.oneof(
      fc.constantFrom('oep/b17/pressure', 'oep/cell-1/current', 'oep//step', ''),
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
    );
    const arrivals = fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.maxSafeInteger(), fc.double(), fc.constantFrom(0, -0, -1, Date.now()));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), arrivals, topics, (seq, arrival, topic) => {
        const b = Buffer.alloc(128 + topic.length * 3);
        const n = writeHeader(b, 5, seq, arrival, topic);
        const json = JSON.stringify({ seq, arrival, topic });
        const plain = Number.isSafeInteger(arrival) && /^[\x20-\x7e]*$/.test(topic) && !/["\\]/.test(topic);
        expect(n >= 0).toBe(plain);
        if (n >= 0) expect(b.toString('latin1', 5, 5 + n)).toBe(json);
      }),
      { numRuns: 5_000 },
    );
  });

  it("an empty payload's record reads back, whatever memory the empty payload has (zlib's crc32 of a buffer without any is 0)", () => {
    const empties = [randomBytes(0), Buffer.alloc(0), new Uint8Array(0), new Uint8Array(new ArrayBuffer(0)), Buffer.from('x').subarray(1)];
    for (const payload of empties) {
      const topic = 'oep/b1/control/silence';
      const b = Buffer.alloc(recordBound(topic, 0));
      const end = writeRecord(b, 0, 7, 1_796_125_516_315, topic, payload);
      const read: [number, string, number][] = [];
      expect(readRecords(b.subarray(0, end), (seq, _arrival, t, p) => read.push([seq, t, p.length]))).toBe(end);
      expect(read).toEqual([[7, topic, 0]]);
    }
  });

  it('a record reads back as written, within its bound, whatever its topic (escaped, non-ASCII, lone surrogates) and arrival time', () => {
    const topics = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }));
    const arrivals = fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
    const record = fc.record({
      seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      arrival: arrivals,
      topic: topics,
      payload: fc.uint8Array({ maxLength: 64 }),
    });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 5 }), (records) => {
        const b = Buffer.alloc(records.reduce((n, r) => n + recordBound(r.topic, r.payload.length), 3));
        let at = 3;
        for (const r of records) {
          const end = writeRecord(b, at, r.seq, r.arrival, r.topic, r.payload);
          expect(end - at).toBeLessThanOrEqual(recordBound(r.topic, r.payload.length));
          at = end;
        }
        const read: { seq: number; arrival: number; topic: string; payload: Uint8Array }[] = [];
        const n = readRecords(b.subarray(3, at), (seq, arrival, topic, payload) => read.push({ seq, arrival, topic, payload: new Uint8Array(payload) }));
        expect(n).toBe(at - 3);
        // JSON turns -0 into 0 and a lone surrogate into U+FFFD once decoded as UTF-8: what the journal has always kept
        expect(read).toEqual(records.map((r) => ({ ...r, arrival: r.arrival === 0 ? 0 : r.arrival, topic: Buffer.from(r.topic, 'utf8').toString('utf8') })));
      }),
      { numRuns: 2_000 },
    );
  });
});
