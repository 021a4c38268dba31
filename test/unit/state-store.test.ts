/**
 * Checkpoints across releases. `test/fixtures/state/v1/lab-state.v8` was written by the release before
 * the journal (commit 7761394, state format 1) with `make-v1.ts.txt` beside it: two simulated cells (seed
 * 7, 3 cycles) stopped after 2,600,000 readings, mid-cycle. Restored by this release and fed the rest, it
 * gives every record an uninterrupted run gives; so does a checkpoint of this release's format (plain-data
 * cell records) taken at the same reading. A checkpoint of an unknown format, or a record that does not
 * match the schema, is an error.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../src/adapters/state-store.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import { pressureToMPa } from '../../src/domain/units.js';
import { demoCells } from '../../src/sim/scenarios.js';
import { simulateCells } from '../../src/sim/simulator.js';
import { configFor } from '../support/sim-lab.js';

const FIXTURE_V1 = join(import.meta.dirname, '../fixtures/state/v1/lab-state.v8');
const CUT = 2_600_000;

describe('state store', () => {
  it('restores a checkpoint of the previous release (format 1) and one of this release (format 5) and goes on exactly as an uninterrupted run', () => {
    // The demo lab of the release that wrote the fixture: its penetrating cell started at cycle 8.
    const specs = demoCells(2).map((c) => (c.penetration ? { ...c, penetration: { ...c.penetration, onsetCycle: 8 } } : c));
    const cfg = configFor(specs);
    const setup = (id: string) => resolveCell(cfg, id);
    const dir = mkdtempSync(join(tmpdir(), 'oep-state-'));
    copyFileSync(FIXTURE_V1, join(dir, 'lab-state.v8'));
    const whole = new Lab(setup);
    const resumed = new Lab(setup);
    const r = new StateStore(dir).restore(resumed);
    expect(r).toMatchObject({ version: 1, cells: 2, journal: { seq: 0 } });
    const dir3 = mkdtempSync(join(tmpdir(), 'oep-state-'));
    const resumed3 = new Lab(setup);
    const resumed3After: LabEvent[] = [];
    const area = new Map(specs.map((s) => [s.id, s.area_mm2]));
    const batches = new Map<string, { cell: string; channel: 'pressure' | 'current' | 'voltage'; ts: number; value: number }[]>();
    const wholeAfter: LabEvent[] = [];
    const resumedAfter: LabEvent[] = [];
    let n = 0;
    for (const x of simulateCells(specs, { startTs: Date.UTC(2026, 0, 1), seed: 7, cycles: 3 })) {
      const value = x.channel === 'pressure' ? pressureToMPa(x.value, x.unit as 'MPa' | 'kgf', area.get(x.cell)!) : x.value;
      let b = batches.get(x.cell);
      if (b === undefined) batches.set(x.cell, (b = []));
      b.push({ cell: x.cell, channel: x.channel, ts: x.ts, value });
      n++;
      if (b.length < 200) continue;
      if (n > CUT && resumed3.cells.size === 0) {
        // the whole lab now stands where the fixture's did: a checkpoint of this release, restored
        const store = new StateStore(dir3);
        store.save(whole, { savedAt: 0, journal: { seq: 0, recent: [] } });
        expect(store.lastEncoded).toBe(2);
        store.save(whole, { savedAt: 1, journal: { seq: 0, recent: [] } });
        expect(store.lastEncoded).toBe(0); // nothing changed: no cell encoded again
        expect(new StateStore(dir3).restore(resumed3)).toMatchObject({ version: 5, cells: 2 });
      }
      const ev: LabEvent[] = [];
      whole.ingest(x.cell, b, x.ts, ev);
      if (n > CUT) {
        wholeAfter.push(...ev);
        resumed.ingest(x.cell, b, x.ts, resumedAfter);
        resumed3.ingest(x.cell, b, x.ts, resumed3After);
      }
      batches.set(x.cell, []);
    }
    whole.finish(wholeAfter);
    resumed.finish(resumedAfter);
    resumed3.finish(resumed3After);
    expect(resumed3After).toEqual(wholeAfter);
    const cycles = resumedAfter.filter((e) => e.type === 'cycle');
    expect(cycles.length).toBe(4); // each cell's cycle 2 (open at the cut) and 3
    expect(resumedAfter).toEqual(wholeAfter);
    expect(resumed.cell('cell-01').counters.accepted).toBe(whole.cell('cell-01').counters.accepted);
  });

  it('an unknown format is a clear error, never a fresh start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-state-'));
    writeFileSync(join(dir, 'lab-state.v8'), serialize({ version: 99, savedAt: 0, cells: [] }));
    const lab = new Lab(() => {
      throw new Error('no cell expected');
    });
    expect(() => new StateStore(dir).restore(lab)).toThrow(/format 99; this release reads formats 1, 2, 3, 4, 5/);
    writeFileSync(join(dir, 'lab-state.v8'), serialize({ version: 3, savedAt: 0, cells: [] })); // no journal position
    expect(() => new StateStore(dir).restore(lab)).toThrow(/does not match its schema/);
    // a format-3 cell record with a field of the wrong type: the error names it
    const record = { version: 1, aligner: {}, processor: {}, counters: {}, alerts: {}, cycleDetector: {}, sampleDetectors: {} };
    writeFileSync(
      join(dir, 'lab-state.v8'),
      serialize({ version: 3, savedAt: 0, journal: { seq: 0, recent: [] }, cells: [['c1', serialize({ ...record, counters: { accepted: 'x' } })]] }),
    );
    expect(() => new StateStore(dir).restore(lab)).toThrow(/cell c1: the checkpoint's record does not match this release's schema[\s\S]*counters/);
  });
});
