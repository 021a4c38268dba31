/**
 * The lab's changed cells (what an incremental checkpoint re-encodes): an ingest call marks its cell changed
 * once per checkpoint round, through a mark on the cell; every round starts unmarked.
 */
import { describe, expect, it } from 'vitest';
import { resolveCell } from '../../src/config/cell-setup.js';
import { parseConfig } from '../../src/config/schema.js';
import { Lab } from '../../src/domain/lab.js';

const T = Date.UTC(2026, 0, 1);

describe('changed cells', () => {
  it('an ingest call marks its cell changed in every round, also one that only buffers', () => {
    const cfg = parseConfig({});
    const lab = new Lab((id) => resolveCell(cfg, id));
    const current = (s: number) => [T + s * 1000, 0.5];
    lab.ingestPairs('c1', 'current', current(0), T, []);
    lab.ingestPairs('c2', 'current', current(0), T, []);
    expect([...lab.changes.takeDirty()].sort()).toEqual(['c1', 'c2']);
    for (let round = 1; round <= 3; round++) {
      lab.ingestPairs('c1', 'current', current(round), T + round * 1000, []);
      lab.ingestPairs('c1', 'current', current(round + 0.5), T + round * 1000, []);
      expect([...lab.changes.takeDirty()]).toEqual(['c1']);
    }
    // a cell met again after it was forgotten is a new state: marked afresh
    lab.evict('c1');
    expect([...lab.changes.takeDirty()]).toEqual([]);
    lab.ingestPairs('c1', 'current', current(9), T + 9000, []);
    expect([...lab.changes.takeDirty()]).toEqual(['c1']);
  });
});
