/**
 * State format 5 (cell records in the codec of record-codec.ts) next to format 4 (the same log, records
 * v8-serialized). `test/fixtures/state/v4-main/lab-state.log` was written by main before format 5 (commit
 * de45a90, its own StateStore) with `make-v4-main.mjs.txt` beside it: the lab of test/support/busy-lab.ts
 * (gaps, a pressure drop, voltage, alerts, a failed cell) checkpointed after 1,800 s and again after 2,400 s.
 * Restored by this release, every cell's record is exactly the one the same lab holds; the next checkpoint
 * writes all of them into a fresh format-5 log, which restores exactly too, and every restored lab goes on
 * as the lab that never stopped.
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { LOG_FILE, scanLog } from '../../src/adapters/state-log.js';
import { StateStore } from '../../src/adapters/state-store.js';
import type { Lab } from '../../src/domain/lab.js';
import { feedBusy, newBusyLab } from '../support/busy-lab.js';
import { exactDiff } from '../support/exact-equal.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/state/v4-main', LOG_FILE);

/** Where the records of `a` and `b` differ. */
function recordsDiff(a: Lab, b: Lab): string[] {
  expect([...a.cells.keys()].sort()).toEqual([...b.cells.keys()].sort());
  return [...a.cells.keys()].flatMap((id) => exactDiff(a.cellRecord(id), b.cellRecord(id), id));
}

/** The format the last commit of the log in `dir` names. */
function logFormat(dir: string): unknown {
  const { commit } = scanLog(readFileSync(join(dir, LOG_FILE)));
  return (deserialize(commit!) as { version: unknown }).version;
}

describe('state format 5', () => {
  it("restores main's format-4 log exactly, then replaces it with a format-5 log that restores exactly too", () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-state5-'));
    copyFileSync(FIXTURE, join(dir, LOG_FILE));
    expect(logFormat(dir)).toBe(4);
    const whole = newBusyLab();
    feedBusy(whole, 0, 2_400);
    const from4 = newBusyLab();
    const store = new StateStore(dir);
    expect(store.restore(from4)).toMatchObject({
      version: 4,
      cells: 5,
      savedAt: 2,
      journal: { seq: 20, recent: ['d19', 'd20'] },
      files: { 'steps.csv': 1234 },
    });
    expect(recordsDiff(from4, whole)).toEqual([]);
    expect(from4.failedCells).toEqual([['bad', 'Error: boom']]);
    // the next checkpoint writes every cell again, into a fresh log of this release's format
    store.save(from4, { savedAt: 3, journal: { seq: 30, recent: [] } });
    expect(store.lastEncoded).toBe(5);
    expect(logFormat(dir)).toBe(5);
    expect(scanLog(readFileSync(join(dir, LOG_FILE))).cells.size).toBe(5);
    store.close();
    const from5 = newBusyLab();
    const again = new StateStore(dir);
    expect(again.restore(from5)).toMatchObject({ version: 5, cells: 5, journal: { seq: 30 } });
    expect(recordsDiff(from5, whole)).toEqual([]);
    // restored from format 5, nothing changed: nothing is encoded again
    again.save(from5, { savedAt: 4, journal: { seq: 31, recent: [] } });
    expect(again.lastEncoded).toBe(0);
    again.close();
    // and every lab goes on as the one that never stopped
    const events = [whole, from4, from5].map((lab) => feedBusy(lab, 2_400, 4_000));
    expect(events[0]!.filter((e) => e.type === 'step').length).toBeGreaterThan(5);
    expect(events[1]).toEqual(events[0]);
    expect(events[2]).toEqual(events[0]);
    expect(recordsDiff(from5, whole)).toEqual([]);
  });

  it('a format-5 log is less than half the size of the format-4 log of the same lab', () => {
    const lab = newBusyLab();
    feedBusy(lab, 0, 2_400);
    const dir = mkdtempSync(join(tmpdir(), 'oep-state5-'));
    const bytes5 = new StateStore(dir).save(lab, { savedAt: 2, journal: { seq: 20, recent: ['d19', 'd20'] } });
    // the fixture holds the same lab twice over (two checkpoints), the records of its last one:
    const cells4 = scanLog(readFileSync(FIXTURE)).cells;
    const cells5 = scanLog(readFileSync(join(dir, LOG_FILE))).cells;
    let len4 = 0;
    let len5 = 0;
    for (const [id, e] of cells4) {
      len4 += e.len;
      len5 += cells5.get(id)?.len ?? Infinity;
    }
    expect(len5).toBeLessThan(len4 / 2);
    expect(bytes5).toBeLessThan(statSize(FIXTURE) / 2);
  });
});

function statSize(path: string): number {
  return readFileSync(path).length;
}
