/** Loss made visible: holes in a channel's event time while current flows are counted; at rest, or without holes, nothing. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../src/adapters/state-store.js';
import { GapTracker, INTERVAL_WINDOW, MIN_GAP_MS } from '../../src/domain/gaps.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import type { Reading } from '../../src/domain/types.js';

const T = Date.UTC(2026, 0, 1);

describe('gap tracker', () => {
  it('learns the interval (median) and counts a hole of more than 3 intervals while current flows', () => {
    const g = new GapTracker('c1');
    const at = (ts: number, flows = true) => g.observe({ cell: 'c1', channel: 'pressure', ts, value: 1 }, flows);
    let t = T;
    // jittered 500 ms steps, one doubled row (a cycler's step change): the median ignores both
    for (let k = 0; k <= INTERVAL_WINDOW; k++) expect(at((t += k === 5 ? 0 : 500 + ((k * 37) % 41) - 20))).toBeUndefined();
    expect(at((t += 1_400))).toBeUndefined(); // under 3 intervals
    const gap = at((t += 10_000));
    expect(gap).toMatchObject({ cell: 'c1', channel: 'pressure', to: t, from: t - 10_000, missing: 19 });
    expect(g.counts).toEqual({ pressure: 1 });
    expect(g.missing).toEqual({ pressure: 19 });
    expect(at((t += 10_000), false)).toBeUndefined(); // at rest: devices may log sparsely
    expect(g.counts).toEqual({ pressure: 1 });
  });

  it('does not count holes shorter than MIN_GAP_MS on a fast channel', () => {
    const g = new GapTracker('c1');
    let t = T;
    for (let k = 0; k <= INTERVAL_WINDOW; k++) g.observe({ cell: 'c1', channel: 'pressure', ts: (t += 100), value: 1 }, true);
    expect(g.observe({ cell: 'c1', channel: 'pressure', ts: (t += MIN_GAP_MS - 1), value: 1 }, true)).toBeUndefined();
    expect(g.observe({ cell: 'c1', channel: 'pressure', ts: (t += MIN_GAP_MS), value: 1 }, true)).toBeDefined();
  });
});

describe('gaps in the lab', () => {
  const cfg = parseConfig({ alignment: { lateness_ms: 0 } });
  /** 10 min of 1 mA current at 1 Hz and pressure at 2 Hz; `drop` removes a stretch of both. */
  function readings(drop?: [number, number]): Reading[] {
    const out: Reading[] = [];
    for (let s = 0; s < 600; s += 0.5) {
      const ts = T + s * 1000;
      if (drop !== undefined && ts >= drop[0] && ts < drop[1]) continue;
      if (Number.isInteger(s)) out.push({ cell: 'g1', channel: 'current', ts, value: 1 });
      out.push({ cell: 'g1', channel: 'pressure', ts, value: 15 });
    }
    return out;
  }
  const gapsOf = (rs: readonly Reading[], trackGaps: boolean): LabEvent[] => {
    const lab = new Lab((id) => resolveCell(cfg, id), undefined, { trackGaps });
    const events: LabEvent[] = [];
    lab.ingest('g1', rs, T, events);
    lab.finish(events);
    return events.filter((e) => e.type === 'gap');
  };

  it('a stretch lost while current flows is one gap per channel; a whole run has none; off by default', () => {
    expect(gapsOf(readings(), true)).toEqual([]);
    const lost = gapsOf(readings([T + 200_000, T + 230_000]), true);
    expect(lost.map((e) => (e.type === 'gap' ? [e.gap.channel, e.gap.to - e.gap.from, e.gap.missing] : []))).toEqual([
      ['current', 31_000, 30],
      ['pressure', 30_500, 60],
    ]);
    expect(gapsOf(readings([T + 200_000, T + 230_000]), false)).toEqual([]);
  });
});

describe('gap counts across a restart', () => {
  const cfg = parseConfig({ alignment: { lateness_ms: 0 } });
  const newLab = (): Lab => new Lab((id) => resolveCell(cfg, id), undefined, { trackGaps: true });
  /** `s` seconds of 1 mA current and pressure at 1 Hz from second `from`, without the seconds in `holes`. */
  const stretch = (from: number, s: number, holes: readonly [number, number][]): Reading[] => {
    const out: Reading[] = [];
    for (let k = from; k < from + s; k++) {
      if (holes.some(([a, b]) => k >= a && k < b)) continue;
      out.push({ cell: 'g1', channel: 'current', ts: T + k * 1000, value: 1 }, { cell: 'g1', channel: 'pressure', ts: T + k * 1000, value: 15 });
    }
    return out;
  };
  const holes: [number, number][] = [
    [100, 130],
    [400, 460],
  ];

  it('a checkpoint keeps the counts and the learnt intervals: the lab counts on as an uninterrupted run does', () => {
    const whole = newLab();
    const ev: LabEvent[] = [];
    whole.ingest('g1', stretch(0, 300, holes), T, ev);
    whole.ingest('g1', stretch(300, 300, holes), T + 1, ev);
    whole.finish(ev);
    expect(whole.gapsOf(whole.cell('g1'))?.counts).toEqual({ current: 2, pressure: 2 });

    const before = newLab();
    before.ingest('g1', stretch(0, 300, holes), T, []);
    const dir = mkdtempSync(join(tmpdir(), 'oep-gaps-'));
    new StateStore(dir).save(before, { savedAt: 0, journal: { seq: 0, recent: [] } });
    expect(before.gapsOf(before.cell('g1'))?.counts).toEqual({ current: 1, pressure: 1 });

    const after = newLab();
    new StateStore(dir).restore(after);
    expect(after.gapsOf(after.cell('g1'))?.counts).toEqual({ current: 1, pressure: 1 });
    expect(after.gapsOf(after.cell('g1'))?.missing).toEqual(before.gapsOf(before.cell('g1'))?.missing);
    // what the journal replays after the checkpoint, then the rest
    const events: LabEvent[] = [];
    after.ingest('g1', stretch(300, 300, holes), T + 1, events);
    after.finish(events);
    expect(after.gapsOf(after.cell('g1'))).toEqual(whole.gapsOf(whole.cell('g1')));
    expect(events.filter((e) => e.type === 'gap')).toEqual(ev.filter((e) => e.type === 'gap' && e.gap.from >= T + 300_000));
  });
});
