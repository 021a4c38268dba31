import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNK_BYTES, fileChunks } from '../../src/adapters/files.js';

const dir = mkdtempSync(join(tmpdir(), 'oep-chunks-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Every batch of a file: its bytes (copied: the read buffer is reused), first line and offset. */
async function batchesOf(path: string, start = 0, firstLine = 1): Promise<{ data: Buffer; firstLine: number; offset: number }[]> {
  const out: { data: Buffer; firstLine: number; offset: number }[] = [];
  for await (const b of fileChunks(path, start, firstLine)) out.push({ data: Buffer.from(b.data), firstLine: b.firstLine, offset: b.offset });
  return out;
}

/** The batches fit together: they are the file from `start`, each ends at a line end (or the file's end), with the right first line and offset. */
function checkBatches(content: Buffer, start: number, batches: readonly { data: Buffer; firstLine: number; offset: number }[]): void {
  expect(Buffer.concat(batches.map((b) => b.data)).equals(content.subarray(start))).toBe(true);
  let offset = start;
  let line = 1;
  for (const b of batches) {
    expect(b.data.length).toBeGreaterThan(0);
    expect(b.firstLine).toBe(line);
    offset += b.data.length;
    expect(b.offset).toBe(offset);
    if (offset < content.length) expect(b.data[b.data.length - 1]).toBe(10);
    line += b.data.reduce((n, c) => n + (c === 10 ? 1 : 0), 0);
  }
}

describe('fileChunks', () => {
  it('gives the file in batches of whole lines, lines longer than a read included, with each batch’s first line and offset', async () => {
    // Lines of 1 byte up to 3 reads' worth, with and without a final newline.
    const lineArb = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: CHUNK_BYTES - 2, max: 3 * CHUNK_BYTES + 1 }));
    await fc.assert(
      fc.asyncProperty(fc.array(lineArb, { minLength: 1, maxLength: 12 }), fc.boolean(), fc.nat(50), async (lengths, finalNewline, skip) => {
        const lines = lengths.map((n, i) => Buffer.alloc(n, 48 + (i % 10)));
        const text = Buffer.concat(lines.flatMap((l, i) => (i < lines.length - 1 || finalNewline ? [l, Buffer.from('\n')] : [l])));
        const path = join(dir, 'f.txt');
        writeFileSync(path, text);
        checkBatches(text, 0, await batchesOf(path));
        // From a line start further in (as a follower resumes): the first line's length plus its newline.
        const start = lines.length > 1 ? (lines[0]?.length ?? 0) + 1 : 0;
        if (skip > 0 && start <= text.length) checkBatches(text, start, await batchesOf(path, start));
      }),
      { numRuns: 40 },
    );
  });

  it('gives nothing for an empty file', async () => {
    const path = join(dir, 'empty.txt');
    writeFileSync(path, '');
    expect(await batchesOf(path)).toEqual([]);
  });
});
