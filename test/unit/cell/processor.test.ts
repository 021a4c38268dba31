/** The composed core on small hand-made streams: glitches, held gaps, the switch to cycler steps; and the lab's isolation of a failing cell. */
import { describe, expect, it } from 'vitest';
import { cellSettings } from '../../support/cell-settings.js';
import { CellProcessor, newOutput, type CellOutput, type CellProcessorSettings } from '../../../src/domain/cell-processor.js';
import { CELL_FAILED, Lab, type LabEvent } from '../../../src/domain/lab.js';
import type { Reading } from '../../../src/domain/types.js';

const T0 = Date.UTC(2026, 0, 1);
const SETTINGS = cellSettings();
const S = 1000;

/** Current every `every` s and pressure every second, from the (t_s, I_mA) plan, held between plan points. */
function stream(plan: [number, number][], every = 1, pressure = true): Reading[] {
  const out: Reading[] = [];
  const end = plan[plan.length - 1]![0];
  let k = 0;
  for (let t = 0; t <= end; t++) {
    while (k + 1 < plan.length && plan[k + 1]![0] <= t) k++;
    if (pressure) out.push({ cell: 'c1', channel: 'pressure', ts: T0 + t * S, value: 15 + t * 1e-4 });
    if (t % every === 0) out.push({ cell: 'c1', channel: 'current', ts: T0 + t * S + 500, value: plan[k]![1] });
  }
  return out;
}

function feed(readings: readonly Reading[], s: CellProcessorSettings = SETTINGS): { out: CellOutput; p: CellProcessor } {
  const p = new CellProcessor(s);
  const out = newOutput();
  for (const r of readings) p.process(r, out);
  p.finish(out);
  return { out, p };
}

describe('CellProcessor', () => {
  it('folds a 5 s rest inside a charge into the charge (a glitch), keeping every mAh', () => {
    const { out, p } = feed(
      stream([
        [0, 1],
        [600, 0],
        [605, 1],
        [1200, 0],
        [1800, 0],
      ]),
    );
    expect(out.steps.map((x) => x.kind)).toEqual(['charge', 'rest']);
    expect(p.stats.glitches).toBe(1);
    const total = out.steps.reduce((q, x) => q + x.q_mAh, 0);
    // 1 mA for 1195 s (the blip carries ~0 plus the ramps in and out of it).
    expect(out.steps[0]!.q_mAh).toBeCloseTo(1195 / 3600, 3);
    expect(total).toBeCloseTo(out.steps[0]!.q_mAh, 6);
  });

  it('on-change samples: holds the current across a gap longer than currentMaxGap (no interpolated ramp)', () => {
    const r: Reading[] = [
      { cell: 'c1', channel: 'current', ts: T0, value: 2 },
      { cell: 'c1', channel: 'current', ts: T0 + 600_000, value: 0 }, // 10 min later, gap limit 2 min
      { cell: 'c1', channel: 'current', ts: T0 + 700_000, value: 0 },
    ];
    const { out, p } = feed(r, cellSettings({ currentSampling: 'on-change' }));
    expect(p.stats.gaps).toBe(1);
    // Held at 2 mA for the whole 10 min: 1/3 mAh (a ramp would give half of it).
    expect(out.steps[0]).toMatchObject({ kind: 'charge' });
    expect(out.steps[0]!.q_mAh).toBeCloseTo(2 * (600 / 3600), 12);
  });

  it('instantaneous samples (a recorded file): a gap that ends at rest or at a cycler step change carried nothing', () => {
    const toRest: Reading[] = [
      { cell: 'c1', channel: 'current', ts: T0, value: 2 },
      { cell: 'c1', channel: 'current', ts: T0 + 60_000, value: 2 },
      { cell: 'c1', channel: 'current', ts: T0 + 660_000, value: 0 }, // 10 min later, gap limit 2 min
      { cell: 'c1', channel: 'current', ts: T0 + 760_000, value: 0 },
    ];
    const a = feed(toRest).out.steps;
    // The charge ended at its last sample (60 s at 2 mA); the rest starts there.
    expect(a.map((s) => [s.kind, s.tEnd - T0])).toEqual([
      ['charge', 60_000],
      ['rest', 760_000],
    ]);
    expect(a[0]!.q_mAh).toBeCloseTo(2 * (60 / 3600), 12);
    expect(a[1]!.q_mAh).toBe(0);
    // A gap that ends where the cycler's next step begins: the old step ended at its last sample too.
    const toStep: Reading[] = [
      { cell: 'c1', channel: 'step', ts: T0, value: 1, cycleIndex: 0 },
      ...toRest.slice(0, 2),
      { cell: 'c1', channel: 'step', ts: T0 + 660_000, value: 2, cycleIndex: 0 },
      { cell: 'c1', channel: 'current', ts: T0 + 660_000, value: -2 },
      { cell: 'c1', channel: 'current', ts: T0 + 720_000, value: -2 },
    ];
    const b = feed(toStep).out.steps;
    expect(b.map((s) => [s.kind, s.cyclerStep, s.tStart - T0, s.tEnd - T0])).toEqual([
      ['charge', 1, 0, 60_000],
      ['discharge', 2, 60_000, 720_000],
    ]);
    expect(b[0]!.q_mAh).toBeCloseTo(2 * (60 / 3600), 12);
    expect(b[1]!.q_mAh).toBeCloseTo(2 * (60 / 3600), 12);
  });

  it('interval-average samples (EC-Lab <I>/mA): each value covers the interval before it (right rectangles), a step change included', () => {
    const r: Reading[] = [
      { cell: 'c1', channel: 'step', ts: T0, value: 1, cycleIndex: 0 },
      { cell: 'c1', channel: 'current', ts: T0, value: 0 },
      { cell: 'c1', channel: 'current', ts: T0 + 10_000, value: 3 },
      { cell: 'c1', channel: 'current', ts: T0 + 30_000, value: 1 },
      { cell: 'c1', channel: 'step', ts: T0 + 40_000, value: 2, cycleIndex: 0 },
      { cell: 'c1', channel: 'current', ts: T0 + 40_000, value: -2 },
      { cell: 'c1', channel: 'current', ts: T0 + 70_000, value: -2 },
    ];
    const steps = feed(r, cellSettings({ currentSampling: 'interval-average', minStepDuration_ms: 0 })).out.steps;
    // Step 1: 3 mA over 10 s + 1 mA over 20 s; step 2 from the sample before its first: −2 mA over 40 s.
    expect(steps.map((s) => [s.cyclerStep, s.tStart - T0, s.tEnd - T0])).toEqual([
      [1, 0, 30_000],
      [2, 30_000, 70_000],
    ]);
    expect(steps[0]!.qCharge_mAh).toBeCloseTo((3 * 10 + 1 * 20) / 3600, 12);
    expect(steps[1]!.qDischarge_mAh).toBeCloseTo((2 * 40) / 3600, 12);
  });

  it("switches to the cycler's step index on its first step reading, and takes each step's kind from its charge", () => {
    const r = stream(
      [
        [0, 1],
        [3600, -1],
        [7200, 0],
        [7800, 0],
      ],
      10,
    );
    // The cycler says step 1 from 1800 s (mid-charge: the deadband's charge step ends there), 2 at 3600 s, 3 at 7200 s.
    const steps: Reading[] = [
      { cell: 'c1', channel: 'step', ts: T0 + 1_800_000 + 500, value: 1, cycleIndex: 1 },
      { cell: 'c1', channel: 'step', ts: T0 + 3_600_000 + 500, value: 2, cycleIndex: 1 },
      { cell: 'c1', channel: 'step', ts: T0 + 7_200_000 + 500, value: 3, cycleIndex: 1 },
    ];
    const all = [...r, ...steps].sort((a, b) => a.ts - b.ts || (a.channel === 'step' ? -1 : b.channel === 'step' ? 1 : 0));
    const { out } = feed(all);
    expect(out.steps.map((x) => [x.kind, x.cyclerStep, x.tEnd - T0])).toEqual([
      ['charge', undefined, 1_800_500],
      ['charge', 1, 3_600_500],
      ['discharge', 2, 7_200_500],
      ['rest', 3, 7_800_500],
    ]);
  });

  it('with firstHalf discharge starts cycles at discharges', () => {
    const { out } = feed(
      stream([
        [0, 1],
        [1800, 0],
        [2400, -1],
        [4200, 0],
        [4800, 1],
        [6600, 0],
        [7200, -1],
        [9000, 0],
        [9600, 0],
      ]),
      { ...SETTINGS, firstHalf: 'discharge' },
    );
    expect(out.steps.map((x) => `${x.kind}:${x.cycle}`)).toEqual([
      'charge:0',
      'rest:0',
      'discharge:1',
      'rest:1',
      'charge:1',
      'rest:1',
      'discharge:2',
      'rest:2',
    ]);
  });
});

describe('Lab failure isolation', () => {
  it("one cell's internal error fails that cell alone: reported once, its later readings counted, the other cell unaffected", () => {
    const broken: CellProcessorSettings = Object.defineProperty({ ...SETTINGS }, 'restCurrent_mA', {
      get(): number {
        throw new Error('boom');
      },
    });
    const lab = new Lab((id) => ({
      aligner: { lateness_ms: 0, idleTimeout_ms: 30_000, dedupDepth: 16, maxBuffered: 1000 },
      processor: id === 'bad' ? broken : { ...SETTINGS, cell: id },
    }));
    const events: LabEvent[] = [];
    const good = stream(
      [
        [0, 1],
        [1800, 0],
        [2400, 0],
      ],
      10,
    );
    for (let i = 0; i < good.length; i += 100) {
      const part = good.slice(i, i + 100);
      const now = part[part.length - 1]!.ts;
      lab.ingest(
        'ok',
        part.map((r) => ({ ...r, cell: 'ok' })),
        now,
        events,
      );
      lab.ingest(
        'bad',
        part.map((r) => ({ ...r, cell: 'bad' })),
        now,
        events,
      );
    }
    lab.finish(events);
    const failures = events.filter((e) => e.type === 'failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ cell: 'bad', message: 'Error: boom' });
    expect(lab.failedCells).toEqual([['bad', 'Error: boom']]);
    expect(lab.cell('bad').counters.rejected[CELL_FAILED]).toBeGreaterThan(0);
    const okSteps = events.filter((e) => e.type === 'step' && e.record.cell === 'ok');
    expect(okSteps.length).toBe(2);
  });
});
