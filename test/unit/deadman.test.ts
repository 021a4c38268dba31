/**
 * The deadman at the lab's processing-time tick (lab-alerts.ts checkSilence): an active cell whose readings
 * flow says nothing and is not marked changed (no measurement is even made: silenceCheck's `quietToo`); one
 * whose readings stop is raised at the warning and critical thresholds, and marked changed.
 */
import { describe, expect, it } from 'vitest';
import { resolveCell } from '../../src/config/cell-setup.js';
import { parseConfig } from '../../src/config/schema.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import type { Reading } from '../../src/domain/types.js';

const T = Date.UTC(2026, 0, 1);
const NOW = Date.UTC(2026, 5, 1);

describe('deadman (silence) at the tick', () => {
  it('says nothing of a cell whose readings flow (not marked changed), raises one whose readings stopped', () => {
    const cfg = parseConfig({ defaults: { activeMassG: 0.0179 }, cells: [{ id: 'c1', alerts: { silence: { warn_s: 5, crit_s: 20 } } }] });
    const lab = new Lab((id) => resolveCell(cfg, id));
    const ev: LabEvent[] = [];
    const b: Reading[] = [];
    for (let k = 0; k < 10; k++)
      b.push({ cell: 'c1', channel: 'current', ts: T + k * 1000, value: 0.65 }, { cell: 'c1', channel: 'pressure', ts: T + k * 1000, value: 15 });
    lab.ingest('c1', b, NOW, ev);
    // the first tick starts tracking the kind (at ok), and the aligner's clock moves: a change
    lab.tick(NOW + 500, ev);
    ev.length = 0;
    lab.changes.takeDirty();
    const silence = (): string[] => ev.flatMap((e) => (e.type === 'alert' && e.alert.kind === 'silence' ? [e.alert.level] : []));
    for (let s = 1; s <= 4; s++) lab.tick(NOW + s * 1000, ev);
    expect(silence()).toEqual([]);
    expect([...lab.changes.takeDirty()]).toEqual([]);
    lab.tick(NOW + 6_000, ev);
    expect(silence()).toEqual(['warning']);
    expect([...lab.changes.takeDirty()]).toEqual(['c1']);
    lab.tick(NOW + 21_000, ev);
    expect(silence()).toEqual(['warning', 'critical']);
  });
});
