/**
 * Emission: a closed step leaves the core once the pressures at both its boundaries are resolved, as a
 * step draft handed to cycle assembly (cell/cycles.ts), in order.
 */
import type { CellProcessorSettings } from './settings.js';
import { assembleStep } from './cycles.js';
import { kindFromCharge, stepDraft, type StepDraft } from './run.js';
import type { Closed, CoreFields } from './state.js';
import type { CellOutput } from './types.js';

/** Hands every closed step whose boundaries are resolved to cycle assembly, oldest first; stops at the first that must wait. */
export function emitReady(core: CoreFields, settings: CellProcessorSettings, out: CellOutput): void {
  while (core.closed.length > 0) {
    const c = core.closed[0];
    if (c === undefined || !c.run.start.resolved || !c.end.resolved) return;
    let nextKind = c.nextKind;
    if (nextKind === undefined && core.cyclerMode && settings.cycleSource !== 'cycler') {
      // A cycler step's kind is known only from the current it carries: wait until the step after
      // this one has run for the minimum step duration, so that a cycle can close where the next
      // one starts rather than one whole step later.
      const next = core.closed[1]?.run ?? core.runs.step;
      if (next !== null) {
        nextKind = kindFromCharge(next, core.closed.length > 1, settings.restCurrent_mA, settings.minStepDuration_ms);
        if (nextKind === undefined) return;
      }
    }
    core.closed.shift();
    assembleStep(core.cycles, draft(core, settings, c), nextKind, settings, out);
  }
}

function draft(core: CoreFields, settings: CellProcessorSettings, c: Closed): StepDraft {
  const r = c.run;
  let kind = r.kind;
  if (core.cyclerMode || r.cyclerStep !== undefined) {
    // The cycler's step: its kind is the direction that carried the charge, rest if the mean |I| is in the deadband.
    r.tEnd = c.end.t;
    kind = kindFromCharge(r, true, settings.restCurrent_mA, settings.minStepDuration_ms) ?? 'rest';
  }
  return stepDraft(settings.cell, ++core.stepSeq, kind, r, c.end);
}
