/**
 * The value types that travel between the parts of a cell's core (segmentation, charge accounting,
 * boundary pressures, cycle assembly) and out of it to the detectors.
 */
import type { CycleRecord, StepKind, StepRecord } from '../types.js';

/**
 * A step boundary: the instant one step ends and the next begins, and the pressure there once known.
 * One object is the end of a step and the start of the next (shared, so resolving it fills both).
 */
export interface Boundary {
  readonly t: number;
  p: number | undefined;
  /** True once the pressure is known, or known never to come (then `p` stays undefined). */
  resolved: boolean;
}

export function newBoundary(t: number): Boundary {
  return { t, p: undefined, resolved: false };
}

/**
 * The current between two samples, as a straight line from (t0, i0) to (t1, i1), ms and mA. Across a
 * gap longer than the interpolation limit the line is flat at the earlier sample's value (held).
 */
export interface CurrentLine {
  readonly t0: number;
  readonly i0: number;
  readonly t1: number;
  readonly i1: number;
}

/** A piece [ta, tb] of a current line that lies on one side of the deadband, with the current at its ends. */
export interface Segment {
  readonly kind: StepKind;
  readonly ta: number;
  readonly ia: number;
  readonly tb: number;
  readonly ib: number;
  /** The line the segment is cut from (for interpolating the current inside it). */
  readonly line: CurrentLine;
}

/** A pressure or voltage sample waiting for the next current sample to know which run it belongs to. */
export type PendingSampleKind =
  /** pressure, MPa */
  | 'pressure'
  /** voltage, V, not yet shown to the detectors */
  | 'voltage'
  /** voltage, V, already shown to the detectors (it came with a current sample of the same instant) */
  | 'voltage-seen';

/**
 * What the core tells the detectors about each sample, as soon as the aligner releases it. The pressure
 * and voltage detectors listen; the core does not know them.
 */
export interface SampleListener {
  /** A pressure sample, MPa, and whether the cell was charging then (the latest current above the deadband). */
  pressure(t: number, p_MPa: number, charging: boolean): void;
  /** A voltage sample, V, whether the cell was charging then, the cycle in progress and the current then, mA. */
  voltage(t: number, v_V: number, charging: boolean, cycle: number, i_mA: number): void;
}

/** A listener that ignores everything (a cell without alerts). */
export const NO_SAMPLE_LISTENER: SampleListener = {
  pressure: () => undefined,
  voltage: () => undefined,
};

/** Where the records of one call go, and who hears about the samples. */
export interface CellOutput {
  readonly steps: StepRecord[];
  readonly cycles: CycleRecord[];
  /** The detectors' ear (default: nobody). */
  readonly samples: SampleListener;
}

export function newOutput(samples: SampleListener = NO_SAMPLE_LISTENER): CellOutput {
  return { steps: [], cycles: [], samples };
}
