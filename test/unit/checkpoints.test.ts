/**
 * The early checkpoint: the journal past its bound asks for one, taken once the message has gone through;
 * the bound is the config's `state.maxJournalBytes`, else 64 MiB or 16 KiB a cell holding state, the larger,
 * at most 1 GiB (so a checkpoint of every cell is not taken for every 64 MiB of journal at 10,000 cells).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/log.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { DEFAULT_MAX_JOURNAL_BYTES, journalBound, JOURNAL_BYTES_PER_CELL, MAX_AUTO_JOURNAL_BYTES } from '../../src/config/defaults.js';
import { parseConfig } from '../../src/config/schema.js';
import { Lab } from '../../src/domain/lab.js';
import { Checkpoints } from '../../pipelines/checkpoints.js';

const T = Date.UTC(2026, 0, 1);

/** A lab of `cells` cells (one reading each) and its checkpoints in a fresh folder, the bound `maxJournalBytes`. */
function setup(cells: number, maxJournalBytes: number | undefined) {
  const cfg = parseConfig({ defaults: { activeMassG: 0.0179 }, state: { dir: mkdtempSync(join(tmpdir(), 'oep-ckpt-')), maxJournalBytes } });
  const lab = new Lab((id) => resolveCell(cfg, id));
  for (let c = 0; c < cells; c++) lab.ingest(`c${c}`, [{ cell: `c${c}`, channel: 'pressure', ts: T, value: 5 }], T, []);
  const cp = new Checkpoints({
    state: cfg.state,
    lab,
    log: createLogger('error', () => undefined),
    now: () => T,
    outputs: () => ({ influx: undefined, files: undefined }),
    stopping: () => false,
  });
  cp.replayJournal({ seq: 0, recent: [] }, () => undefined);
  return cp;
}

/**
 * Journals messages of `bytes` bytes each until the journal holds `total` bytes, then lets an early checkpoint
 * begin if one was asked for (its start sets the journal's file aside: the journal is empty again). Returns
 * the journal's bytes then.
 */
async function journalUntil(cp: Checkpoints, total: number, bytes = 64 * 1024): Promise<number> {
  const payload = Buffer.alloc(bytes, 0x61);
  const j = cp.journal;
  if (j === undefined) throw new Error('no journal');
  let i = 0;
  while (j.bytes < total) cp.journaled({ topic: 'oep/c0/pressure', payload, arrival: T + i++ });
  await new Promise((r) => setImmediate(r));
  const left = j.bytes;
  await cp.checkpoint(); // the early one to its end (or one more), before the folder is left
  return left;
}

describe('early checkpoint', () => {
  it('is asked for past the configured bound, and the journal starts again', async () => {
    expect(await journalUntil(setup(3, 1_000_000), 900_000)).toBeGreaterThanOrEqual(900_000);
    expect(await journalUntil(setup(3, 1_000_000), 1_100_000)).toBe(0);
  });

  it('without a configured bound: 64 MiB, or 16 KiB a cell holding state, the larger, at most 1 GiB', () => {
    expect(journalBound(undefined, 0)).toBe(DEFAULT_MAX_JOURNAL_BYTES);
    expect(journalBound(undefined, 100)).toBe(64 * 1024 * 1024);
    expect(journalBound(undefined, 10_000)).toBe(10_000 * JOURNAL_BYTES_PER_CELL);
    expect(journalBound(undefined, 10_000)).toBe(163_840_000);
    expect(journalBound(undefined, 1_000_000)).toBe(MAX_AUTO_JOURNAL_BYTES);
    expect(journalBound(5_000_000, 10_000)).toBe(5_000_000);
  });

  it('without a configured bound, follows the cells of the lab', async () => {
    // 5,000 cells: 80 MiB, so 70 MiB of journal asks for no checkpoint; with 100 cells (64 MiB) it does.
    expect(await journalUntil(setup(5_000, undefined), 70 * 1024 * 1024, 1024 * 1024)).toBeGreaterThanOrEqual(70 * 1024 * 1024);
    expect(await journalUntil(setup(100, undefined), 70 * 1024 * 1024, 1024 * 1024)).toBe(0);
  });
});
