/**
 * Cycle assembly: a reducer over step records. Cycle n starts with the first step of the configured first
 * half (full cells: charge) that follows a step of the other half; rests belong to the cycle they sit in;
 * steps before the first cycle carry cycle 0. With `cycleSource: 'cycler'` the cycler's cycle index
 * decides instead (a new cycle wherever it changes, numbered from 1 here; the record carries the cycler's
 * index as `cyclerCycle`). `auto` (the default) takes the cycler's index when it varies and derives cycles
 * otherwise: steps are held until the index changes (→ cycler), or two derived cycles have gone by under
 * one index, or the steps carry no index, or the data end (→ derived); then the held steps are assembled
 * by the rule chosen. The reference Δ(ΔP_Q) for drift is the first complete cycle from `refCycle` on that
 * has one.
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
  /** Derive cycles from the step sequence, take the cycler's cycle index from `step` readings, or `auto` (see above). */
  readonly cycleSource: CycleSource;
  readonly normalization: Normalization;
  /** Reference cycle for drift (the first cycle after formation). */
  readonly refCycle: number;
}

export type CycleSource = 'derived' | 'cycler' | 'auto';

/** Steps `auto` holds at most before it decides (derived); a bound on memory for a live stream. */
export const MAX_HELD_STEPS = 1000;

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
  /** `auto`: the rule decided on, undefined while steps are held. */
  decided: 'derived' | 'cycler' | undefined;
  /** `auto`: the steps held until the rule is decided, with the kind of the step that followed each. */
  held: { draft: StepDraft; nextKind: StepKind | undefined }[];
  /** `auto`, while undecided: derived cycles that started among the held steps. */
  heldCycleStarts: number;
  heldPhase: CyclePhase;
}

export function newCycleAssembly(): CycleAssembly {
  return {
    cycle: 0,
    phase: 'none',
    steps: [],
    pInitial: undefined,
    ddpQRef: undefined,
    lastCyclerCycle: undefined,
    decided: undefined,
    held: [],
    heldCycleStarts: 0,
    heldPhase: 'none',
  };
}

/** The rule in force: the configured one, or what `auto` decided (undefined: still holding). */
export function cycleRule(a: CycleAssembly, s: CycleSettings): 'derived' | 'cycler' | undefined {
  return s.cycleSource === 'auto' ? a.decided : s.cycleSource;
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
  if (s.cycleSource !== 'auto' || a.decided !== undefined) {
    assembleBy(cycleRule(a, s) ?? 'derived', a, draft, nextKind, s, out);
    return;
  }
  const firstHeld = a.held[0]?.draft;
  if (draft.cyclerCycle === undefined) decide(a, 'derived', s, out);
  else if (firstHeld !== undefined && firstHeld.cyclerCycle !== draft.cyclerCycle) decide(a, 'cycler', s, out);
  else {
    a.held.push({ draft, nextKind });
    // Derived cycles under one index: two of them, and the index does not count cycles.
    if (draft.kind === s.firstHalf) {
      if (a.heldPhase !== 'first-half') a.heldCycleStarts++;
      a.heldPhase = 'first-half';
    } else if (draft.kind !== 'rest' && a.heldPhase === 'first-half') a.heldPhase = 'second-half';
    if (a.heldCycleStarts > 2 || a.held.length >= MAX_HELD_STEPS) decide(a, 'derived', s, out);
    return;
  }
  assembleBy(cycleRule(a, s) ?? 'derived', a, draft, nextKind, s, out);
}

/** `auto` decides: the held steps go through the rule chosen. */
function decide(a: CycleAssembly, rule: 'derived' | 'cycler', s: CycleSettings, out: CycleOutput): void {
  a.decided = rule;
  const held = a.held;
  a.held = [];
  for (const h of held) assembleBy(rule, a, h.draft, h.nextKind, s, out);
}

function assembleBy(rule: 'derived' | 'cycler', a: CycleAssembly, draft: StepDraft, nextKind: StepKind | undefined, s: CycleSettings, out: CycleOutput): void {
  const first = s.firstHalf;
  const cyclerCycle = draft.cyclerCycle;
  if (rule === 'cycler' && cyclerCycle !== undefined) {
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
  if (rule === 'derived' && a.phase === 'second-half' && nextKind === first) closeCycle(a, s, true, out);
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
  const rule = cycleRule(a, s);
  if (rule === 'cycler') return a.cycle;
  const starts = kind === s.firstHalf;
  // `auto` still holding its steps: they count as derived cycles until it decides.
  if (rule === undefined) return a.cycle + a.heldCycleStarts + (starts && a.heldPhase !== 'first-half' ? 1 : 0);
  return a.cycle + (starts && a.phase !== 'first-half' ? 1 : 0);
}

/** End of input: the open cycle, marked incomplete. */
export function finishCycles(a: CycleAssembly, s: CycleSettings, out: CycleOutput): void {
  if (s.cycleSource === 'auto' && a.decided === undefined) decide(a, 'derived', s, out);
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
  const computed = computeCycle(steps, {
    cell: s.cell,
    cycle: a.cycle,
    normalization: s.normalization,
    pInitial_MPa: a.pInitial,
    ddpQRef: a.ddpQRef,
    complete,
  });
  // Cycles by the cycler's index say so: the record carries that index.
  const cyclerCycle = cycleRule(a, s) === 'cycler' ? steps[0]?.cyclerCycle : undefined;
  const rec = cyclerCycle !== undefined ? { ...computed, cyclerCycle } : computed;
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
