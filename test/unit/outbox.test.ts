/**
 * The InfluxDB outbox on disk: lines come out in order across segments and across a reopen (from the
 * saved cursor), a line torn by a crash is cut off, and past its size bound the oldest lines are dropped
 * and counted.
 */
import { appendFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskOutbox, MemoryOutbox } from '../../src/adapters/outbox.js';

const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `m,cell=c f=${from + i} ${1000 + from + i}`);

function drain(o: DiskOutbox | MemoryOutbox, batch: number): string[] {
  const out: string[] = [];
  for (;;) {
    const b = o.peek(batch);
    if (b.lines.length === 0) return out;
    out.push(...b.lines);
    o.ack(b);
  }
}

describe('outbox', () => {
  it('gives the lines back in order across segments and a reopen, from where the acknowledged ones end', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-outbox-'));
    const o = new DiskOutbox(dir, { maxBytes: 1e9, segmentBytes: 200 });
    o.append(lines(0, 10));
    o.append(lines(10, 10));
    expect(readdirSync(dir).filter((f) => f.endsWith('.lp')).length).toBeGreaterThan(1);
    expect(o.pending).toBe(20);
    const b = o.peek(7);
    expect(b.lines).toEqual(lines(0, 7));
    o.ack(b);
    o.close();
    const again = new DiskOutbox(dir, { maxBytes: 1e9, segmentBytes: 200 });
    expect(again.pending).toBe(13);
    again.append(lines(20, 3));
    expect(drain(again, 4)).toEqual(lines(7, 16));
    expect(again.pending).toBe(0);
    again.close();
    expect(new DiskOutbox(dir, { maxBytes: 1e9, segmentBytes: 200 }).pending).toBe(0);
  });

  it('reads no more of a segment than a batch needs, and more when its lines do not fit the first read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-outbox-'));
    const o = new DiskOutbox(dir, { maxBytes: 1e9, segmentBytes: 64e6 });
    const many = lines(0, 40_000); // ~1.1 MB: 5,000 lines are more than the first 256 KB read
    const long = `m,cell=c s="${'x'.repeat(600_000)}" 5`; // a line longer than the first read
    o.append(many.slice(0, 20_000));
    o.append([long]);
    o.append(many.slice(20_000));
    const sizes: number[] = [];
    const got: string[] = [];
    for (;;) {
      const b = o.peek(5_000);
      if (b.lines.length === 0) break;
      expect(b.bytes).toBe(b.lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0));
      sizes.push(b.lines.length);
      got.push(...b.lines);
      o.ack(b);
    }
    expect(got).toEqual([...many.slice(0, 20_000), long, ...many.slice(20_000)]);
    expect(sizes.slice(0, 8)).toEqual([5_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000]);
    expect(o.pending).toBe(0);
  });

  it('cuts off a line torn by a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-outbox-'));
    const o = new DiskOutbox(dir, { maxBytes: 1e9, segmentBytes: 1e6 });
    o.append(lines(0, 3));
    o.close();
    const seg = readdirSync(dir).find((f) => f.endsWith('.lp'))!;
    appendFileSync(join(dir, seg), 'm,cell=c f=');
    const again = new DiskOutbox(dir, { maxBytes: 1e9, segmentBytes: 1e6 });
    expect(again.pending).toBe(3);
    again.append(lines(3, 1));
    expect(drain(again, 10)).toEqual(lines(0, 4));
  });

  it('past its bound drops the oldest lines, counted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-outbox-'));
    const o = new DiskOutbox(dir, { maxBytes: 400, segmentBytes: 100 });
    for (let i = 0; i < 30; i++) o.append(lines(i, 1));
    expect(o.bytes).toBeLessThanOrEqual(400);
    expect(o.dropped + o.pending).toBe(30);
    expect(o.dropped).toBeGreaterThan(0);
    const left = drain(o, 100);
    expect(left).toEqual(lines(30 - left.length, left.length));
    const m = new MemoryOutbox(5);
    m.append(lines(0, 8));
    expect(m.dropped).toBe(3);
    expect(drain(m, 2)).toEqual(lines(3, 5));
  });
});
