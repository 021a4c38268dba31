/**
 * Who owns a restored cell's plain-data parts (counters, alert state). `Lab.restoreRecord` copies them: the record
 * stays its caller's, and neither sees the other's changes. A restore from the state folder hands each cell a
 * record decoded for it alone (`Lab.restoreOwnRecord`, no copy): the cells of one restore, and two labs restored
 * from the same log, share nothing, so readings fed to one cell change no other cell's record.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../src/adapters/state-store.js';
import type { CellRecord, Lab, LabEvent } from '../../src/domain/lab.js';
import { BUSY_T0, busyBatch, feedBusy, newBusyLab } from '../support/busy-lab.js';
import { exactDiff } from '../support/exact-equal.js';

const CELLS = ['c0', 'c1', 'c2', 'c3', 'bad'];

function recordOf(lab: Lab, id: string): CellRecord {
  const r = lab.cellRecord(id);
  if (r === undefined) throw new Error(`no cell ${id}`);
  return r;
}

/** Where the records `lab` holds differ from `records`. */
function changedSince(lab: Lab, records: ReadonlyMap<string, CellRecord>): string[] {
  return CELLS.flatMap((id) => exactDiff(recordOf(lab, id), records.get(id), id));
}

describe('a restored cell', () => {
  it('from Lab.restoreRecord: the record stays the caller’s, its parts copied', () => {
    const lab = newBusyLab();
    feedBusy(lab, 0, 1_800);
    const record = recordOf(lab, 'c2');
    const kept = recordOf(lab, 'c2');
    const back = newBusyLab();
    back.restoreRecord('c2', record);
    expect(exactDiff(recordOf(back, 'c2'), kept)).toEqual([]);
    // the caller changes its record: the cell does not see it
    record.counters.accepted += 1_000;
    record.counters.rejected.late = 7;
    Reflect.set(record.alerts, 'touched', true);
    Reflect.set(record.incidents, 'touched', true);
    expect(exactDiff(recordOf(back, 'c2'), kept)).toEqual([]);
    // the cell goes on: the record does not see it
    const before = structuredClone(record);
    feedBusy(back, 1_800, 2_400);
    expect(exactDiff(recordOf(back, 'c2'), kept)).not.toEqual([]);
    expect(exactDiff(record, before)).toEqual([]);
  });

  it('from the state folder: no cell shares a part with another, nor with a second lab restored from the same log', () => {
    const lab = newBusyLab();
    feedBusy(lab, 0, 1_800);
    const dir = mkdtempSync(join(tmpdir(), 'oep-restore-own-'));
    new StateStore(dir).save(lab, { savedAt: 1, journal: { seq: 1, recent: [] } });
    const a = newBusyLab();
    const b = newBusyLab();
    expect(new StateStore(dir).restore(a)?.cells).toBe(5);
    expect(new StateStore(dir).restore(b)?.cells).toBe(5);
    const saved = new Map(CELLS.map((id) => [id, recordOf(lab, id)]));
    expect(changedSince(a, saved)).toEqual([]);
    // readings for c2 alone into lab a (its pressure keeps dropping: its counters and alert state change)
    const ev: LabEvent[] = [];
    for (let s = 1_800; s < 2_400; s += 20) a.ingest('c2', busyBatch(2, s), BUSY_T0 + (s + 20) * 1000, ev);
    const changed = changedSince(a, saved);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((d) => d.startsWith('c2.'))).toBe(true);
    for (const part of ['counters', 'incidents', 'sampleDetectors'])
      expect(
        changed.some((d) => d.startsWith(`c2.${part}.`)),
        part,
      ).toBe(true);
    expect(changedSince(b, saved)).toEqual([]);
  });
});
