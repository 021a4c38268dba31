/**
 * The journal read back a chunk at a time (a restart's replay): whatever the chunk size, what it hands over
 * and where it cuts the file off are what reading the whole file at once gives (readRecords on the file's
 * bytes): records across chunk boundaries, a record larger than a chunk, a torn tail, a damaged record
 * followed by good ones, lengths no file could hold.
 */
import { mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Journal, JOURNAL_FILE, type JournalEntry } from '../../src/adapters/journal.js';
import { readRecords } from '../../src/adapters/journal-record.js';

interface Msg {
  readonly topic: string;
  readonly payload: Buffer;
  readonly arrival: number;
}

/** A journal folder holding `msgs` (one file). */
function written(msgs: readonly Msg[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'oep-journal-stream-'));
  const j = new Journal(dir);
  j.open(0, []);
  for (const m of msgs) j.append(m);
  j.close();
  return dir;
}

/** What reading the whole file at once gives: the entries after `after`, and the bytes up to a torn record. */
function model(file: string, after: number): { entries: JournalEntry[]; bytes: number } {
  const entries: JournalEntry[] = [];
  const bytes = readRecords(readFileSync(file), (seq, arrival, topic, payload) => {
    if (seq > after) entries.push({ seq, arrival, topic, payload });
  });
  return { entries, bytes };
}

/** Opens the journal reading `chunk` bytes at a time; its entries and the file's size afterwards. */
function streamed(dir: string, after: number, chunk: number): { entries: JournalEntry[]; bytes: number } {
  const j = new Journal(dir, { readChunkBytes: chunk });
  const entries: JournalEntry[] = [];
  const n = j.openEach(after, [], (e) => entries.push(e));
  expect(n).toBe(entries.length);
  j.close();
  return { entries, bytes: statSync(join(dir, JOURNAL_FILE)).size };
}

const msgArb = fc.record({
  topic: fc.constantFrom('oep/c1/pressure', 'oep/c22/current', 'lab/a/b/voltage'),
  payload: fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
  arrival: fc.integer({ min: 0, max: 2 ** 40 }),
});

describe('journal read a chunk at a time', () => {
  it('hands over what reading the whole file gives, and cuts a torn or damaged tail at the same byte', () => {
    fc.assert(
      fc.property(
        fc.array(msgArb, { maxLength: 40 }),
        fc.integer({ min: 1, max: 700 }),
        fc.integer({ min: 0, max: 45 }),
        fc.oneof(
          fc.constant({ kind: 'none' as const }),
          fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
          fc.record({ kind: fc.constant('flip' as const), at: fc.nat() }),
          fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
        ),
        (msgs, chunk, after, damage) => {
          const dir = written(msgs);
          const file = join(dir, JOURNAL_FILE);
          const size = statSync(file).size;
          if (damage.kind === 'cut' && size > 0) truncateSync(file, damage.at % size);
          if (damage.kind === 'flip' && size > 0) {
            const b = readFileSync(file);
            const i = damage.at % size;
            b[i] = (b[i] ?? 0) ^ 0x5a;
            writeFileSync(file, b);
          }
          if (damage.kind === 'garbage') writeFileSync(file, damage.bytes, { flag: 'a' });
          const want = model(file, after);
          expect(streamed(dir, after, chunk)).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads a record larger than a chunk whole, and the ones after it', () => {
    const big = Buffer.alloc(100_000, 7);
    const msgs = [1, 2, 3].map((i) => ({ topic: 'oep/c1/pressure', payload: i === 2 ? big : Buffer.from(`{"v":${i}}`), arrival: i }));
    const dir = written(msgs);
    const { entries } = streamed(dir, 0, 64);
    expect(entries.map((e) => [e.seq, e.payload.length])).toEqual([
      [1, 7],
      [2, 100_000],
      [3, 7],
    ]);
    expect(entries[1]?.payload.equals(big)).toBe(true);
  });

  it('stops at a record whose lengths no file could hold, without trying to read it', () => {
    const dir = written([{ topic: 'oep/c1/pressure', payload: Buffer.from('{"v":1}'), arrival: 1 }]);
    const file = join(dir, JOURNAL_FILE);
    const good = statSync(file).size;
    const head = Buffer.alloc(12);
    head.writeUInt32LE(40, 0);
    head.writeUInt32LE(0xfffffff0, 4);
    writeFileSync(file, Buffer.concat([head, Buffer.alloc(100, 1)]), { flag: 'a' });
    const { entries, bytes } = streamed(dir, 0, 32);
    expect(entries.map((e) => e.seq)).toEqual([1]);
    expect(bytes).toBe(good);
  });

  it('goes on numbering after the last record it read', () => {
    const msgs = Array.from({ length: 50 }, (_, i) => ({ topic: 'oep/c1/pressure', payload: Buffer.from(`{"v":${i}}`), arrival: i }));
    const dir = written(msgs);
    const j = new Journal(dir, { readChunkBytes: 100 });
    expect(j.openEach(20, [], () => undefined)).toBe(30);
    expect(j.seq).toBe(50);
    j.append({ topic: 'oep/c1/pressure', payload: Buffer.from('{"v":50}'), arrival: 50 });
    j.close();
    expect(new Journal(dir).open(49, []).map((e) => e.seq)).toEqual([50, 51]);
  });
});
