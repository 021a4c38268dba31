/**
 * The daemon's INFO lines between start and the first alert (pipelines/activity-log.ts), through the real
 * logger (pino) into a list: a new cell with its resolved settings, one line per closed cycle, and a summary
 * instead when many cells close cycles within a window.
 */
import { describe, expect, it } from 'vitest';
import { ActivityLog, CYCLE_LINES_PER_WINDOW, CYCLE_SUMMARY_MS } from '../../pipelines/activity-log.js';
import { createLogger } from '../../src/adapters/log.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import type { LabEvent } from '../../src/domain/lab.js';
import type { CycleRecord } from '../../src/domain/types.js';

const cycle = (cell: string, n: number, over: Partial<CycleRecord> = {}): LabEvent => ({
  type: 'cycle',
  record: { cell, cycle: n, tStart: 0, tEnd: 1, duration_s: 1, steps: 2, qCharge_mAh: 0.65, qDischarge_mAh: 0.6437, ce: 0.99, complete: true, ...over },
});

function setup(level: 'info' | 'debug' = 'info') {
  const lines: string[] = [];
  let t = 1_000_000;
  const clock = { advance: (ms: number) => (t += ms) };
  const log = new ActivityLog(
    createLogger(level, (l) => lines.push(l)),
    () => t,
  );
  return { lines, clock, log };
}

describe('ActivityLog', () => {
  it('a new cell: one INFO line with its normalization, mass or area, reference cycle and cycle source', () => {
    const { lines, log } = setup();
    const cfg = parseConfig({
      cells: [
        { id: 'li-li', normalization: 'areal', electrodeAreaMm2: 132.7 },
        { id: 'nmc', activeMassG: 0.0179, formationCycles: 2 },
      ],
    });
    log.cell(resolveCell(cfg, 'li-li'), false);
    log.cell(resolveCell(cfg, 'nmc'), false);
    log.cell(resolveCell(cfg, 'nmc'), true); // restored: DEBUG only
    expect(lines.map((l) => l.slice(25))).toEqual([
      'INFO  new cell li-li: normalization areal (electrode 1.327 cm²), cell area 132.7 mm², reference cycle 4 (cycles auto, capacity integral), rest current 0.005 mA',
      'INFO  new cell nmc: normalization mass (active mass 0.0179 g), cell area 132.7 mm², reference cycle 3 (cycles auto, capacity integral), rest current 0.005 mA',
    ]);
  });

  it('a closed cycle: charges, CE, ΔP, Δ(ΔP), Δ(ΔP_Q) in its normalization; an incomplete one says nothing', () => {
    const { lines, log } = setup();
    log.events([cycle('c1', 5, { dpCum_MPa: 0.01234, ddp_MPa: 0.0456, ddpQ_MPa_g_per_Ah: 22.41 }), cycle('c2', 1, { complete: false })]);
    expect(lines.map((l) => l.slice(25))).toEqual([
      'INFO  cycle 5 closed: c1, Q charge 0.650 mAh, discharge 0.644 mAh, CE 99.00 %, ΔP 0.0123 MPa, Δ(ΔP) 0.0456 MPa, Δ(ΔP_Q) 22.4100 MPa·g/Ah',
    ]);
  });

  it(`more than ${CYCLE_LINES_PER_WINDOW} cycles in a window: the rest go into one summary line per ${CYCLE_SUMMARY_MS / 1000} s`, () => {
    const { lines, log, clock } = setup();
    const burst = Array.from({ length: 300 }, (_, i) => cycle(`cell-${i % 280}`, 3));
    log.events(burst);
    expect(lines).toHaveLength(CYCLE_LINES_PER_WINDOW);
    clock.advance(CYCLE_SUMMARY_MS / 2);
    log.events([cycle('cell-0', 4), ...burst.slice(0, 24)]);
    // the window has passed: lines again, up to the cap; the rest still held
    expect(lines).toHaveLength(2 * CYCLE_LINES_PER_WINDOW);
    clock.advance(CYCLE_SUMMARY_MS / 2);
    log.tick();
    expect(lines.at(-1)?.slice(25)).toBe('INFO  285 cycles closed in the last 60 s across 280 cells (not logged one by one: more than 20 per 10 s)');
    log.tick();
    expect(lines).toHaveLength(2 * CYCLE_LINES_PER_WINDOW + 1);
  });

  it('a lab of 1,000 cells starting: the first new cells one by one, the rest in one line', () => {
    const { lines, log } = setup();
    const cfg = parseConfig({});
    for (let i = 0; i < 1000; i++) log.cell(resolveCell(cfg, `cell-${i}`), false);
    expect(lines).toHaveLength(CYCLE_LINES_PER_WINDOW);
    log.flush();
    expect(lines.at(-1)?.slice(25)).toBe('INFO  980 more new cells in the last 0 s (not logged one by one: more than 20 per 10 s)');
  });
});
