/**
 * Cycle assembly: a reducer over step records. Cycle n starts with the first step of the configured first
 * half (full cells: charge) that follows a step of the other half; rests belong to the cycle they sit in;
 * steps before the first cycle carry cycle 0. With `cycleSource: 'cycler'` the cycler's cycle index
 * decides instead (a new cycle wherever it changes, numbered from 1 here). The reference Δ(ΔP_Q) for drift
 * is the first complete cycle from `refCycle` on that has one.
 */
import { computeCycle, ddpQOf, type Normalization } from '../metrics/cycle.js';
import type { CycleRecord, StepKind, StepRecord } from '../types.js';
import type { StepDraft } from './run.js';

/** Steps kept for an open cycle; a cycle with more is closed early as incomplete (a runaway guard). */
export const MAX_STEPS_PER_CYCLE = 10_000;

export interface CycleSettings {
  readonly cell: string;
  /** Which half starts a cycle. */
  readonly firstHalf: 'charge' | 'discharge';
  /** Derive cycles from the step sequence, or take the cycler's cycle index from `step` readings. */
  readonly cycleSource: 'derived' | 'cycler';
  readonly normalization: Normalization;
  /** Reference cycle for drift (the first cycle after formation). */
  readonly refCycle: number;
}

/** Where the open cycle stands: none open, in its first half, or in its second half. */
export type CyclePhase = 'none' | 'first-half' | 'second-half';

/** Plain data. */
export interface CycleAssembly {
  /** Current cycle number (0 before cycling starts). */
  cycle: number;
  phase: CyclePhase;
  steps: StepRecord[];
  /** Pressure at the start of the first cycle, MPa. */
  pInitial: number | undefined;
  /** Δ(ΔP_Q) of the reference cycle, once known. */
  ddpQRef: number | undefined;
  lastCyclerCycle: number | undefined;
}

export function newCycleAssembly(): CycleAssembly {
  return { cycle: 0, phase: 'none', steps: [], pInitial: undefined, ddpQRef: undefined, lastCyclerCycle: undefined };
}

export interface CycleOutput {
  readonly steps: StepRecord[];
  readonly cycles: CycleRecord[];
}

/**
 * Adds a closed step. `nextKind` is the kind of the step that follows when known at the boundary: a
 * derived cycle then closes where the next one starts, rather than one step later.
 */
export function assembleStep(a: CycleAssembly, draft: StepDraft, nextKind: StepKind | undefined, s: CycleSettings, out: CycleOutput): void {
  const first = s.firstHalf;
  const cyclerCycle = draft.cyclerCycle;
  if (s.cycleSource === 'cycler' && cyclerCycle !== undefined) {
    if (cyclerCycle !== a.lastCyclerCycle) {
      if (a.steps.length > 0) closeCycle(a, s, true, out);
      a.lastCyclerCycle = cyclerCycle;
      startCycle(a, a.cycle + 1, draft.pStart_MPa);
    }
  } else if (draft.kind === first) {
    if (a.phase === 'second-half' || a.phase === 'none') {
      if (a.phase === 'second-half') closeCycle(a, s, true, out);
      startCycle(a, a.cycle + 1, draft.pStart_MPa);
    }
    a.phase = 'first-half';
  } else if (draft.kind !== 'rest' && a.phase !== 'none') {
    a.phase = 'second-half';
  }
  const rec: StepRecord = { ...draft, cycle: a.cycle };
  out.steps.push(rec);
  if (a.cycle >= 1 || a.steps.length > 0) a.steps.push(rec);
  if (s.cycleSource === 'derived' && a.phase === 'second-half' && nextKind === first) closeCycle(a, s, true, out);
  else if (a.steps.length >= MAX_STEPS_PER_CYCLE) {
    // Closed early as incomplete; what follows is counted in the next cycle number, so that no two
    // records ever carry the same (cell, cycle).
    closeCycle(a, s, false, out);
    startCycle(a, a.cycle + 1, undefined);
  }
}

/**
 * The cycle number a step of `kind` still in progress will carry once it closes (derived cycles): a
 * first-half step after a second half (or before any) starts the next cycle. With cycler cycles, the open one.
 */
export function cycleOfOpenStep(a: CycleAssembly, kind: StepKind, s: CycleSettings): number {
  if (s.cycleSource === 'derived' && kind === s.firstHalf && a.phase !== 'first-half') return a.cycle + 1;
  return a.cycle;
}

/** End of input: the open cycle, marked incomplete. */
export function finishCycles(a: CycleAssembly, s: CycleSettings, out: CycleOutput): void {
  if (a.cycle >= 1 && a.steps.length > 0) closeCycle(a, s, false, out);
}

function startCycle(a: CycleAssembly, n: number, pStart: number | undefined): void {
  a.cycle = n;
  a.steps = [];
  if (a.pInitial === undefined && pStart !== undefined) a.pInitial = pStart;
}

function closeCycle(a: CycleAssembly, s: CycleSettings, complete: boolean, out: CycleOutput): void {
  const steps = a.steps;
  a.steps = [];
  a.phase = 'none';
  if (a.cycle < 1 || steps.length === 0) return;
  const rec = computeCycle(steps, { cell: s.cell, cycle: a.cycle, normalization: s.normalization, pInitial_MPa: a.pInitial, ddpQRef: a.ddpQRef, complete });
  // The reference is the first complete cycle from refCycle on that has a Δ(ΔP_Q) (normally refCycle itself).
  if (a.ddpQRef === undefined && complete && a.cycle >= s.refCycle) {
    a.ddpQRef = ddpQOf(rec);
    if (a.ddpQRef !== undefined) {
      out.cycles.push(rec.ddpQ_MPa_g_per_Ah !== undefined ? { ...rec, drift_MPa_g_per_Ah: 0 } : { ...rec, drift_MPa_cm2_per_mAh: 0 });
      return;
    }
  }
  out.cycles.push(rec);
}
