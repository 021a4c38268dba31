/**
 * Behaviour pinned: every step, cycle and alert record oep produces on the simulator (through the wire
 * edge) and on every recorded file we have (through `oep process`'s code path) equals the checked-in
 * golden record to the bit. See test/support/golden.ts for how to record them anew.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileCases, fileGolden, GOLDEN_DIR, simulatorGolden, type GoldenRun } from '../support/golden.js';

const UPDATE = process.env.OEP_GOLDEN_UPDATE === '1';

function check(name: string, run: GoldenRun): void {
  const path = join(GOLDEN_DIR, `${name}.json`);
  if (UPDATE) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, JSON.stringify(run, null, 1) + '\n');
    return;
  }
  expect(existsSync(path), `${path} is missing (record with OEP_GOLDEN_UPDATE=1)`).toBe(true);
  const want = JSON.parse(readFileSync(path, 'utf8')) as GoldenRun;
  expect(run.error).toEqual(want.error);
  // Cycle by cycle and step by step, so a difference names the first record that moved.
  expect(run.cycles.length, 'cycles').toBe(want.cycles.length);
  for (let i = 0; i < want.cycles.length; i++) expect(run.cycles[i], `cycle record ${i}`).toEqual(want.cycles[i]);
  expect(run.steps.length, 'steps').toBe(want.steps.length);
  for (let i = 0; i < want.steps.length; i++) expect(run.steps[i], `step record ${i}`).toEqual(want.steps[i]);
  expect(run.alerts).toEqual(want.alerts);
}

describe('golden outputs (behaviour unchanged by refactoring)', () => {
  it('the simulated demo lab, 5 cells × 30 cycles, through the wire edge', async () => {
    check('sim-demo-5x30', await simulatorGolden(30));
  }, 300_000);
  for (const c of fileCases()) {
    it(`oep process ${c.name}`, async () => {
      check(c.name, await fileGolden(c));
    });
  }
});
