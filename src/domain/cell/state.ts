/**
 * A cell core's state as plain data (no class, no shared object): what a checkpoint keeps of a
 * `CellProcessor`, independent of its private fields. A boundary is shared by the step that ends there
 * and the step that starts there, so boundaries are kept once, in a table, and referred to by index.
 * The adapters validate it (zod, src/adapters/state-schema.ts); `PROCESSOR_STATE_VERSION` changes with
 * its shape, and a restore of another version is refused.
 */
import type { CurveState } from '../metrics/step.js';
import type { StepKind } from '../types.js';
import type { CycleAssembly } from './cycles.js';
import type { PendingSamples } from './pending-samples.js';
import type { CyclerIndex } from './segmentation.js';

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
  readonly pending: PendingSamples;
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
