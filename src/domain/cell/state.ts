/**
 * A cell core's state as plain data (no class, no shared object): what a checkpoint keeps of a
 * `CellProcessor`, independent of its private fields. A boundary is shared by the step that ends there
 * and the step that starts there, so boundaries are kept once, in a table, and referred to by index.
 * The adapters validate it (zod, src/adapters/state-schema.ts); `PROCESSOR_STATE_VERSION` changes with
 * its shape, and a restore of another version is refused.
 */
import { CapacityGridResampler, type CurveState } from '../metrics/step.js';
import { DEFAULT_PRESSURE_RING, PressureTrack } from '../pressure-track.js';
import type { StepKind } from '../types.js';
import type { CycleAssembly } from './cycles.js';
import { pendingState, pushSample, type PendingSamples, type PendingSamplesState } from './pending-samples.js';
import type { Run } from './run.js';
import type { CyclerIndex, Runs } from './segmentation.js';
import type { CellProcessorSettings } from './settings.js';
import type { Boundary } from './types.js';

export const PROCESSOR_STATE_VERSION = 1;

export interface BoundaryState {
  readonly t: number;
  readonly p: number | undefined;
  readonly resolved: boolean;
}

export interface RunState {
  readonly kind: StepKind;
  readonly tStart: number;
  readonly tEnd: number;
  readonly q: number;
  readonly qPos: number;
  readonly qNeg: number;
  readonly qSigned: number;
  readonly pMin: number;
  readonly pMax: number;
  readonly vMin: number;
  readonly vMax: number;
  /** Index of its start boundary in {@link ProcessorState.boundaries}. */
  readonly start: number;
  readonly curve: CurveState | null;
  readonly cyclerStep: number | undefined;
  readonly cyclerCycle: number | undefined;
}

export interface ProcessorState {
  readonly version: typeof PROCESSOR_STATE_VERSION;
  readonly boundaries: readonly BoundaryState[];
  /** Typed arrays since state format 4 (number arrays in format 3). */
  readonly track: { readonly ts: ArrayLike<number>; readonly p: ArrayLike<number> };
  readonly step: RunState | null;
  readonly cand: RunState | null;
  readonly prevT: number;
  readonly prevI: number;
  readonly pending: PendingSamplesState;
  /** Indexes into `boundaries`. */
  readonly pendingBoundaries: readonly number[];
  readonly closed: readonly { readonly run: RunState; readonly end: number; readonly nextKind: StepKind | undefined }[];
  readonly eventTs: number;
  readonly stepSeq: number;
  readonly cyclerMode: boolean;
  readonly cycler: CyclerIndex;
  readonly cyclerCut: { readonly t: number; readonly step: number; readonly cycle: number | undefined } | null;
  readonly cycles: CycleAssembly;
  readonly stats: { readonly gaps: number; readonly glitches: number; readonly pressureMissing: number };
}

/** A step that has ended, waiting for the pressures at its boundaries. */
export interface Closed {
  readonly run: Run;
  readonly end: Boundary;
  /** Kind of the step that follows, when the deadband segmenter knows it at the boundary. */
  readonly nextKind: StepKind | undefined;
}

/** The cycler's step change between two current samples, applied when the current reaches it. */
export interface CyclerCut {
  readonly t: number;
  readonly step: number;
  readonly cycle: number | undefined;
}

/** The live state of a cell core (the fields of `CellProcessor`), which {@link stateOf} copies and {@link restoreState} fills. */
export interface CoreFields {
  track: PressureTrack;
  readonly runs: Runs;
  prevT: number;
  prevI: number;
  readonly pending: PendingSamples;
  readonly pendingBoundaries: Boundary[];
  readonly closed: Closed[];
  eventTs: number;
  stepSeq: number;
  cyclerMode: boolean;
  readonly cycler: CyclerIndex;
  cyclerCut: CyclerCut | null;
  readonly cycles: CycleAssembly;
  readonly stats: { gaps: number; glitches: number; pressureMissing: number };
}

/** A core's state as plain data: copies, never the live objects; each shared boundary once, in the table. */
export function stateOf(core: CoreFields): ProcessorState {
  const index = new Map<Boundary, number>();
  const boundaries: BoundaryState[] = [];
  const ref = (b: Boundary): number => {
    let i = index.get(b);
    if (i === undefined) {
      index.set(b, (i = boundaries.length));
      boundaries.push({ t: b.t, p: b.p, resolved: b.resolved });
    }
    return i;
  };
  const run = (r: Run): RunState => ({ ...r, start: ref(r.start), curve: r.curve?.toState() ?? null });
  return {
    version: PROCESSOR_STATE_VERSION,
    step: core.runs.step === null ? null : run(core.runs.step),
    cand: core.runs.cand === null ? null : run(core.runs.cand),
    closed: core.closed.map((c) => ({ run: run(c.run), end: ref(c.end), nextKind: c.nextKind })),
    pendingBoundaries: core.pendingBoundaries.map(ref),
    boundaries,
    track: core.track.toArrays(),
    prevT: core.prevT,
    prevI: core.prevI,
    pending: pendingState(core.pending),
    eventTs: core.eventTs,
    stepSeq: core.stepSeq,
    cyclerMode: core.cyclerMode,
    cycler: { ...core.cycler },
    cyclerCut: core.cyclerCut === null ? null : { ...core.cyclerCut },
    cycles: { ...core.cycles, steps: [...core.cycles.steps] },
    stats: { ...core.stats },
  };
}

/** Fills a new core (fresh from its constructor) from its plain-data state, with the current settings. */
export function restoreState(p: CoreFields, settings: CellProcessorSettings, s: ProcessorState): void {
  const boundaries: Boundary[] = s.boundaries.map((b) => ({ t: b.t, p: b.p, resolved: b.resolved }));
  const boundary = (i: number): Boundary => {
    const b = boundaries[i];
    if (b === undefined) throw new Error(`cell core state: boundary ${i} of ${boundaries.length}`);
    return b;
  };
  const run = (r: RunState): Run => ({
    ...r,
    start: boundary(r.start),
    curve: r.curve === null ? null : CapacityGridResampler.fromState(settings.dpdqGrid_mAh, settings.maxCurvePoints, r.curve),
  });
  p.runs.step = s.step === null ? null : run(s.step);
  p.runs.cand = s.cand === null ? null : run(s.cand);
  for (const c of s.closed) p.closed.push({ run: run(c.run), end: boundary(c.end), nextKind: c.nextKind });
  for (const i of s.pendingBoundaries) p.pendingBoundaries.push(boundary(i));
  p.track = PressureTrack.fromJSON(settings.pressureMaxGap_ms, DEFAULT_PRESSURE_RING, s.track);
  p.prevT = s.prevT;
  p.prevI = s.prevI;
  for (let k = 0; k < s.pending.t.length; k++) pushSample(p.pending, s.pending.t[k] ?? NaN, s.pending.kind[k] ?? 'pressure', s.pending.value[k] ?? NaN);
  p.eventTs = s.eventTs;
  p.stepSeq = s.stepSeq;
  p.cyclerMode = s.cyclerMode;
  Object.assign(p.cycler, s.cycler);
  p.cyclerCut = s.cyclerCut === null ? null : { ...s.cyclerCut };
  Object.assign(p.cycles, { ...s.cycles, steps: [...s.cycles.steps] });
  Object.assign(p.stats, s.stats);
}

/**
 * Gives a structured-clone copy of a processor (checkpoint format 2, from v8.deserialize) its classes back,
 * with the current settings; `proto` is the processor's prototype (passed in: this file is below the class).
 */
export function reviveClone<P extends CoreFields>(o: object, proto: P, settings: CellProcessorSettings): P {
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- setPrototypeOf returns any
  const p = Object.setPrototypeOf(o, proto) as P;
  PressureTrack.revive(p.track);
  const runs = [p.runs.step, p.runs.cand, ...p.closed.map((c) => c.run)];
  for (const r of runs) if (r?.curve) Object.setPrototypeOf(r.curve, CapacityGridResampler.prototype);
  Object.defineProperty(p, 'settings', { value: settings });
  // Format 2 predates `cycleSource: auto`: its cells go on counting cycles as they did (derived unless told `cycler`).
  if (!Object.hasOwn(p.cycles, 'held')) Object.assign(p.cycles, { decided: 'derived', held: [], heldCycleStarts: 0, heldPhase: 'none' });
  // A clone from before the pending samples kept a count: every entry is a sample.
  if (!Object.hasOwn(p.pending, 'n')) Object.assign(p.pending, { n: p.pending.t.length });
  return p;
}
