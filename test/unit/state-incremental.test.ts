/**
 * Incremental checkpoints (state formats 4 and 5): a checkpoint writes only the cells changed since the previous
 * one; one taken a slice at a time while readings go on holds the lab as it stood when it began; records
 * after the last commit (a checkpoint a crash cut short) are ignored; a log grown past twice its live
 * records is written afresh. Each time, a restart restores every cell's record as it was.
 */
import { appendFileSync, cpSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { cellRecordBytes } from '../../src/adapters/state-log.js';
import { StateStore } from '../../src/adapters/state-store.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { Lab, type CellRecord, type LabEvent } from '../../src/domain/lab.js';
import type { Reading } from '../../src/domain/types.js';

const T = Date.UTC(2026, 0, 1);
const cfg = parseConfig({ defaults: { activeMassG: 0.0179 } });
const newLab = (): Lab => new Lab((id) => resolveCell(cfg, id));
const meta = (seq: number) => ({ savedAt: seq, journal: { seq, recent: [`d${seq}`] } });

/** `seconds` of 1 Hz current and pressure for one cell, from second `from`. */
function feed(lab: Lab, cell: string, from: number, seconds: number): void {
  const ev: LabEvent[] = [];
  const b: Reading[] = [];
  for (let s = from; s < from + seconds; s++) {
    const ts = T + s * 1000;
    b.push({ cell, channel: 'current', ts, value: s % 600 < 300 ? 0.5 : -0.5 }, { cell, channel: 'pressure', ts, value: 5 + s * 1e-4 });
  }
  lab.ingest(cell, b, T + (from + seconds) * 1000, ev);
}

function records(lab: Lab): Map<string, CellRecord | undefined> {
  return new Map([...lab.cells.keys()].map((id) => [id, lab.cellRecord(id)]));
}

function restored(dir: string, seq: number): Map<string, CellRecord | undefined> {
  const lab = newLab();
  expect(new StateStore(dir).restore(lab)).toMatchObject({ version: 5, cells: lab.cells.size, journal: { seq, recent: [`d${seq}`] } });
  return records(lab);
}

const CELLS = 40;

describe('incremental checkpoints', () => {
  it('writes only the changed cells, and a restart restores every cell', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-state4-'));
    const lab = newLab();
    for (let c = 0; c < CELLS; c++) feed(lab, `c${c}`, 0, 120);
    const store = new StateStore(dir);
    const first = store.save(lab, meta(1));
    expect(store.lastEncoded).toBe(CELLS);
    expect(statSync(store.path).size).toBe(first);
    feed(lab, 'c3', 120, 30);
    feed(lab, 'c7', 120, 30);
    const second = store.save(lab, meta(2));
    expect(store.lastEncoded).toBe(2);
    expect(second).toBeLessThan((first / CELLS) * 3); // two cells' records and a commit, not the lab
    expect(statSync(store.path).size).toBe(first + second);
    expect(store.save(lab, meta(3))).toBeLessThan(200); // nothing changed: a commit alone
    expect(store.lastEncoded).toBe(0);
    expect(restored(dir, 3)).toEqual(records(lab));
    // An evicted cell is gone after the next checkpoint.
    lab.evict('c5');
    store.save(lab, meta(4));
    const back = restored(dir, 4);
    expect(back.has('c5')).toBe(false);
    expect(back).toEqual(records(lab));
  });

  it('a checkpoint taken a slice at a time while readings go on holds the lab as it stood when it began', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-state4-'));
    const lab = newLab();
    for (let c = 0; c < CELLS; c++) feed(lab, `c${c}`, 0, 120);
    const atBegin = records(lab);
    const store = new StateStore(dir);
    const p = store.checkpoint(lab, meta(1), 0); // one cell per slice
    // While it is taken: every cell changes (the pending ones are handed over first), a new one appears.
    for (let c = CELLS - 1; c >= 0; c -= 3) {
      feed(lab, `c${c}`, 120, 10);
      await new Promise<void>((r) => setImmediate(r));
    }
    feed(lab, 'new', 0, 10);
    expect(store.busy).toBe(true);
    const r = await p;
    expect(r).toMatchObject({ encoded: CELLS, fresh: true });
    expect(restored(dir, 1)).toEqual(atBegin);
    // The next checkpoint holds what changed meanwhile.
    store.save(lab, meta(2));
    expect(store.lastEncoded).toBe(Math.ceil(CELLS / 3) + 1);
    expect(restored(dir, 2)).toEqual(records(lab));
  });

  it('writes its commit only once the outputs it names are durable; a failed output sync fails it and leaves the previous checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-state4-'));
    const lab = newLab();
    for (let c = 0; c < CELLS; c++) feed(lab, `c${c}`, 0, 120);
    const store = new StateStore(dir);
    store.save(lab, meta(1));
    const first = records(lab);
    feed(lab, 'c2', 120, 30);
    let durable = (): void => undefined;
    const outputs = new Promise<void>((r) => (durable = r));
    const p = store.checkpoint(lab, meta(2), 0, outputs);
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r)); // its slices are done
    // No commit yet: a crash now restores the previous checkpoint (read from a copy: a restore cuts off what follows the last commit).
    const crashed = mkdtempSync(join(tmpdir(), 'oep-state4-'));
    cpSync(dir, crashed, { recursive: true });
    expect(restored(crashed, 1)).toEqual(first);
    durable();
    await p;
    expect(restored(dir, 2)).toEqual(records(lab));
    // An output that could not be made durable: no commit, and the cell counts as changed for the next one.
    const atTwo = records(lab);
    feed(lab, 'c4', 150, 30);
    const failed = Promise.reject(new Error('EIO'));
    failed.catch(() => undefined);
    await expect(store.checkpoint(lab, meta(3), 0, failed)).rejects.toThrow('EIO');
    expect(restored(dir, 2)).toEqual(atTwo);
    store.save(lab, meta(4));
    expect(store.lastEncoded).toBe(1);
    expect(restored(dir, 4)).toEqual(records(lab));
  });

  it("does not count a cell changed for a tick that only finds its readings flowing (the silence check's 'ok')", () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-state4-'));
    const lab = newLab();
    for (let c = 0; c < CELLS; c++) feed(lab, `c${c}`, 0, 120);
    const ev: LabEvent[] = [];
    lab.tick(T + 121_000, ev); // the first check of each active cell: its silence state begins (a change)
    const store = new StateStore(dir);
    store.save(lab, meta(1));
    expect(store.lastEncoded).toBe(CELLS);
    for (let s = 122; s < 126; s++) lab.tick(T + s * 1000, ev);
    store.save(lab, meta(2));
    expect(store.lastEncoded).toBe(0);
    expect(ev).toEqual([]);
    // a cell that falls silent past the warning does change, and says so
    lab.tick(T + 120_000 + 3_600_000, ev);
    expect(ev.filter((e) => e.type === 'alert').length).toBeGreaterThanOrEqual(CELLS);
    store.save(lab, meta(3));
    expect(store.lastEncoded).toBe(CELLS);
  });

  it('ignores records after the last commit, and writes the log afresh once it is mostly dead records', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-state4-'));
    const lab = newLab();
    for (let c = 0; c < CELLS; c++) feed(lab, `c${c}`, 0, 600);
    const store = new StateStore(dir);
    store.save(lab, meta(1));
    const committed = records(lab);
    // A checkpoint cut short: a record without its commit, then half a record.
    const orphan = cellRecordBytes('c1', serialize({ not: 'a record' }));
    appendFileSync(store.path, Buffer.concat([orphan, orphan.subarray(0, 20)]));
    expect(restored(dir, 1)).toEqual(committed);
    // Every cell changes, checkpoint after checkpoint: the log is written afresh before it passes 2× its live records (+ 1 MB).
    const again = new StateStore(dir);
    again.restore(newLab());
    let from = 600;
    let fresh = 0;
    let k = 0;
    let maxSize = 0;
    // cells' records are a few KB (compact rings): as many checkpoints as it takes to pass the 1 MB floor, and one more
    for (; k < 200 && fresh < 2; k++, from += 60) {
      for (let c = 0; c < CELLS; c++) feed(lab, `c${c}`, from, 60);
      const before = statSync(again.path).size;
      again.save(lab, meta(2 + k));
      const after = statSync(again.path).size;
      maxSize = Math.max(maxSize, after);
      if (after < before) fresh++;
    }
    expect(fresh).toBe(2);
    expect(maxSize).toBeLessThan(4 << 20); // bounded: past 1 MB and 2× its live records, written afresh
    expect(restored(dir, 1 + k)).toEqual(records(lab));
  });
});
