/**
 * A checkpoint gathers its records in chunks kept from one checkpoint to the next (ChunkPool): the log it
 * writes is byte for byte the same whatever the chunk size (records larger than a chunk, records across
 * chunk boundaries), it restores every cell, and a later checkpoint reuses the chunks instead of allocating.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { ChunkPool } from '../../src/adapters/checkpoint-run.js';
import { StateStore } from '../../src/adapters/state-store.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { parseConfig } from '../../src/config/schema.js';
import { Lab, type CellRecord, type LabEvent } from '../../src/domain/lab.js';
import type { Reading } from '../../src/domain/types.js';

const T = Date.UTC(2026, 0, 1);
const cfg = parseConfig({ defaults: { activeMassG: 0.0179 } });
const meta = (seq: number) => ({ savedAt: seq, journal: { seq, recent: [`d${seq}`] } });
const CELLS = 30;

function feed(lab: Lab, cell: string, from: number, seconds: number): void {
  const b: Reading[] = [];
  for (let s = from; s < from + seconds; s++) {
    const ts = T + s * 1000;
    b.push({ cell, channel: 'current', ts, value: s % 60 < 30 ? 0.5 : -0.5 }, { cell, channel: 'pressure', ts, value: 5 + (s % 60) * 1e-3 });
  }
  const ev: LabEvent[] = [];
  lab.ingest(cell, b, T + (from + seconds) * 1000, ev);
}

const records = (lab: Lab): Map<string, CellRecord | undefined> => new Map([...lab.cells.keys()].map((id) => [id, lab.cellRecord(id)]));

/** Every cell of `lab` checkpointed into a fresh store with `pool`: a sliced checkpoint (a cell a slice), then a synchronous one appended. */
async function checkpointed(lab: Lab, pool: ChunkPool): Promise<{ log: Buffer; store: StateStore; first: number }> {
  const store = new StateStore(mkdtempSync(join(tmpdir(), 'oep-chunks-')), pool);
  for (const id of lab.cells.keys()) lab.changes.changed(id);
  await store.checkpoint(lab, meta(1), 0);
  const first = pool.allocated;
  for (const id of lab.cells.keys()) lab.changes.changed(id);
  store.save(lab, meta(2));
  return { log: readFileSync(store.path), store, first };
}

describe('checkpoint chunks', () => {
  it('writes the same log whatever the chunk size, restores every cell, and reuses its chunks', async () => {
    const lab = new Lab((id) => resolveCell(cfg, id));
    for (let c = 0; c < CELLS; c++) feed(lab, `c${c}`, 0, 150 + c);
    // records larger than the small chunks, and more than one to the largest of them
    const bytes = [...lab.cells.keys()].map((id) => serialize(lab.cellRecordView(id)).length);
    expect(Math.min(...bytes)).toBeGreaterThan(1024);
    expect(Math.max(...bytes)).toBeLessThan(4500);
    const whole = await checkpointed(lab, new ChunkPool());
    expect(whole.log.length).toBeGreaterThan(2 * CELLS * 1024);
    for (const size of [64, 1024, 9000]) {
      const small = await checkpointed(lab, new ChunkPool(size));
      expect(small.log.equals(whole.log), `chunks of ${String(size)} bytes`).toBe(true);
      // the second checkpoint (every cell again) took no chunk the first had not given back
      expect(small.store.chunks.allocated).toBe(small.first);
    }
    const back = new Lab((id) => resolveCell(cfg, id));
    new StateStore(whole.store.dir).restore(back);
    expect(records(back)).toEqual(records(lab));
  });
});
