/**
 * A checkpoint of the release before the dedup runs: `test/fixtures/state/v4-rings/lab-state.log` was
 * written by commit fdb8b6d (state format 4, its aligners holding (ts, value) rings of released readings)
 * with `make-v4.mjs.txt` beside it: the demo lab of state-store.test.ts (two cells, seed 7, 3 cycles)
 * stopped after 2,600,000 readings, mid-cycle. Restored by this release, its rings become runs, and fed the
 * rest it gives every record an uninterrupted run gives; its released readings are still recognised.
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../src/adapters/state-store.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import type { Reading } from '../../src/domain/types.js';
import { pressureToMPa } from '../../src/domain/units.js';
import { demoCells } from '../../src/sim/scenarios.js';
import { simulateCells } from '../../src/sim/simulator.js';
import { configFor } from '../support/sim-lab.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/state/v4-rings/lab-state.log');
const CUT = 2_600_000;

describe('a format-4 checkpoint with the former dedup rings', () => {
  it('restores into runs and goes on exactly as an uninterrupted run', () => {
    const specs = demoCells(2).map((c) => (c.penetration ? { ...c, penetration: { ...c.penetration, onsetCycle: 8 } } : c));
    const cfg = configFor(specs);
    const setup = (id: string) => resolveCell(cfg, id);
    const dir = mkdtempSync(join(tmpdir(), 'oep-state-v4-'));
    // the fixture holds rings, not runs (v8 writes the keys of each record as strings)
    const bytes = readFileSync(FIXTURE);
    expect([bytes.includes('recent'), bytes.includes('runs'), bytes.includes('instants')]).toEqual([true, false, false]);
    copyFileSync(FIXTURE, join(dir, 'lab-state.log'));
    const resumed = new Lab(setup);
    expect(new StateStore(dir).restore(resumed)).toMatchObject({ version: 4, cells: 2 });
    for (const id of resumed.cells.keys()) for (const r of resumed.cellRecord(id)?.aligner.recent ?? []) expect('runs' in r).toBe(true);
    const whole = new Lab(setup);
    const area = new Map(specs.map((s) => [s.id, s.area_mm2]));
    const batches = new Map<string, Reading[]>();
    const wholeAfter: LabEvent[] = [];
    const resumedAfter: LabEvent[] = [];
    let repeated: Reading[] | undefined;
    let n = 0;
    for (const x of simulateCells(specs, { startTs: Date.UTC(2026, 0, 1), seed: 7, cycles: 3 })) {
      const value = x.channel === 'pressure' ? pressureToMPa(x.value, x.unit as 'MPa' | 'kgf', area.get(x.cell)!) : x.value;
      let b = batches.get(x.cell);
      if (b === undefined) batches.set(x.cell, (b = []));
      b.push({ cell: x.cell, channel: x.channel, ts: x.ts, value });
      n++;
      if (b.length < 200) continue;
      const ev: LabEvent[] = [];
      whole.ingest(x.cell, b, x.ts, ev);
      if (n > CUT) {
        wholeAfter.push(...ev);
        resumed.ingest(x.cell, b, x.ts, resumedAfter);
      } else if (n > CUT - 20_000) repeated = b; // released before the checkpoint
      batches.set(x.cell, []);
    }
    whole.finish(wholeAfter);
    resumed.finish(resumedAfter);
    expect(resumedAfter.filter((e) => e.type === 'cycle')).toHaveLength(4); // each cell's cycle 2 (open at the cut) and 3
    expect(resumedAfter).toEqual(wholeAfter);
    // a batch the old release had released (or held), sent again at once after the restore: duplicates
    const again = new Lab(setup);
    new StateStore(dir).restore(again);
    const cell = again.cell(repeated![0]!.cell);
    again.ingest(cell.id, repeated!, Date.UTC(2026, 0, 3), []);
    expect(cell.counters.duplicate).toBe(repeated!.length);
  });
});
