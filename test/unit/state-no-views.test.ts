/**
 * A restored cell must hold no typed array that is a view into a larger buffer. The typed arrays
 * `v8.deserialize` returns from a record are views into the buffer it read, here the whole log: kept as the
 * cell's state, each would pin that buffer in memory, and an encoder that writes a view's whole ArrayBuffer
 * (v8's plain Serializer, tried in session 21) would carry it into every later record. So a lab restored
 * from a log, from the format-4 fixture of the release before the dedup runs and from the format-1 fixture
 * must hold no view, and checkpoint to records no larger than the lab they came from.
 */
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { cellRecordBytes, commitRecordBytes, LOG_FILE, scanLog } from '../../src/adapters/state-log.js';
import { StateStore } from '../../src/adapters/state-store.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { parseConfig } from '../../src/config/schema.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import type { Reading } from '../../src/domain/types.js';
import { demoCells } from '../../src/sim/scenarios.js';
import { configFor } from '../support/sim-lab.js';

const T = Date.UTC(2026, 0, 1);
const cfg = parseConfig({ defaults: { activeMassG: 0.0179, nominalCurrent_mA: 0.65 } });
const meta = { savedAt: 1, journal: { seq: 1, recent: ['d1'] } };

/** The typed arrays in `v` that do not own their whole ArrayBuffer, by path. */
function views(v: unknown, path = 'record'): string[] {
  if (ArrayBuffer.isView(v)) return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? [] : [`${path} (${String(v.buffer.byteLength)} B buffer)`];
  if (typeof v !== 'object' || v === null) return [];
  return Object.entries(v).flatMap(([k, x]) => views(x, `${path}.${k}`));
}

/** Cells charging and resting, with a gap, a pressure drop, voltage, and instants holding two current readings. */
function busyLab(): Lab {
  const lab = new Lab((id) => resolveCell(cfg, id), undefined, { trackGaps: true });
  const ev: LabEvent[] = [];
  for (let s = 0; s < 1_800; s += 20) {
    for (let c = 0; c < 4; c++) {
      const cell = `c${String(c)}`;
      const b: Reading[] = [];
      for (let k = 0; k < 20; k++) {
        const t = s + k;
        if (c === 1 && t % 700 > 650) continue;
        const ts = T + t * 1000;
        const charging = Math.floor(t / (300 + 60 * c)) % 2 === 0;
        const p = 5 + (charging ? (t % 300) * 1e-3 : 0.3 - (t % 300) * 1e-3) - (c === 2 && t > 1_500 ? (t - 1_500) * 2e-3 : 0);
        b.push({ cell, channel: 'current', ts, value: charging ? 0.65 : -0.65 }, { cell, channel: 'pressure', ts, value: p });
        if (c === 3) b.push({ cell, channel: 'voltage', ts, value: 3.6 + (t % 300) * 1e-3 });
        if (c === 0 && t % 97 === 0) b.push({ cell, channel: 'current', ts, value: 0.1 });
      }
      lab.ingest(cell, b, T + (s + 20) * 1000, ev);
    }
  }
  return lab;
}

/** Each cell's record length in the log at `dir`. */
function recordLengths(dir: string): Map<string, number> {
  return new Map([...scanLog(readFileSync(join(dir, LOG_FILE))).cells].map(([id, e]) => [id, e.len]));
}

/** Restores the state folder `dir` into `lab`, then checkpoints `lab` afresh: each cell's record length. */
function restoredAndSaved(dir: string, lab: Lab): Map<string, number> {
  expect(new StateStore(dir).restore(lab)).toBeDefined();
  for (const id of lab.cells.keys()) expect(views(lab.cellRecordView(id)), id).toEqual([]);
  for (const id of lab.cells.keys()) lab.changes.changed(id);
  const out = mkdtempSync(join(tmpdir(), 'oep-views-'));
  new StateStore(out).save(lab, meta);
  return recordLengths(out);
}

describe('checkpoint records hold no views', () => {
  it('a lab restored from records Node serialized (views into the log) checkpoints to the records of the lab it came from', () => {
    const lab = busyLab();
    for (const id of lab.cells.keys()) expect(views(lab.cellRecordView(id)), id).toEqual([]);
    // the log as the release before wrote it: each record with v8.serialize
    const old = mkdtempSync(join(tmpdir(), 'oep-views-'));
    const ids = [...lab.cells.keys()];
    const head = { version: 4, ...meta };
    writeFileSync(
      join(old, LOG_FILE),
      Buffer.concat([...ids.map((id) => cellRecordBytes(id, serialize(lab.cellRecordView(id)))), commitRecordBytes(serialize(head))]),
    );
    // the restore reads the typed arrays back as views into the log (what it must not keep)
    const back = new Lab((id) => resolveCell(cfg, id), undefined, { trackGaps: true });
    const lengths = restoredAndSaved(old, back);
    for (const id of ids) expect(back.cellRecord(id), id).toStrictEqual(lab.cellRecord(id));
    const fresh = mkdtempSync(join(tmpdir(), 'oep-views-'));
    for (const id of ids) lab.changes.changed(id);
    new StateStore(fresh).save(lab, meta);
    // not larger (a few bytes smaller: whole numbers computed as doubles come back as small integers, written shorter)
    const before = recordLengths(fresh);
    expect(lengths.size).toBe(4);
    for (const [id, len] of lengths) expect(len, id).toBeLessThanOrEqual(before.get(id) ?? 0);
    // and a restore of the log this release writes (typed arrays read back natively, each its own buffer)
    for (const [id, len] of restoredAndSaved(fresh, new Lab((id) => resolveCell(cfg, id), undefined, { trackGaps: true })))
      expect(len, id).toBeLessThanOrEqual(before.get(id) ?? 0);
  });

  it('the format-4 fixture with dedup rings, and the format-1 fixture, restore without views', () => {
    const specs = demoCells(2).map((c) => (c.penetration ? { ...c, penetration: { ...c.penetration, onsetCycle: 8 } } : c));
    const setup = (id: string) => resolveCell(configFor(specs), id);
    const fixtures = join(import.meta.dirname, '../fixtures/state');
    for (const [file, sub] of [
      [LOG_FILE, 'v4-rings'],
      ['lab-state.v8', 'v1'],
    ] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'oep-views-'));
      copyFileSync(join(fixtures, sub, file), join(dir, file));
      const lengths = restoredAndSaved(dir, new Lab(setup));
      expect(lengths.size, sub).toBe(2);
      // a view into the fixture would carry the whole file into the record
      for (const [id, len] of lengths) expect(len, `${sub} ${id}`).toBeLessThan(statSync(join(dir, file)).size / 2);
    }
  });
});
