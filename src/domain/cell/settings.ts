/** A cell core's settings (resolved per cell from the config) and their defaults, each with its unit. */
import type { HardShortSettings, PressureDropSettings, VoltageNoiseSettings, VoltageStallSettings } from '../alerts/detectors.js';
import type { Normalization } from '../metrics/cycle.js';
import type { CycleSource } from './cycles.js';

export interface CellProcessorSettings {
  readonly cell: string;
  /** Deadband: |I| at or below this is rest, mA. */
  readonly restCurrent_mA: number;
  /** A run of a new kind shorter than this does not start a step, ms. */
  readonly minStepDuration_ms: number;
  /** Current samples further apart than this are not interpolated (held), ms. */
  readonly currentMaxGap_ms: number;
  /**
   * What a current sample is:
   * - `instantaneous` (a cycler's record, sampled): linear between samples (the trapezoid rule), held across
   *   a gap inside a step; a gap that ends at a cycler step change or at rest carried nothing (the step
   *   ended at its last sample, as the cycler records it).
   * - `on-change` (a publisher that sends the current when it changes): the same, but the value is held
   *   across every gap, up to the sample that changed it.
   * - `interval-average` (the mean over the interval ending at the sample, EC-Lab's `<I>/mA`): flat over
   *   that interval (the right-rectangle rule, what the cycler integrates).
   */
  readonly currentSampling: CurrentSampling;
  /** Pressure samples further apart than this are not interpolated (metric left empty), ms. */
  readonly pressureMaxGap_ms: number;
  /** Which half starts a cycle. */
  readonly firstHalf: 'charge' | 'discharge';
  /** Derive cycles from the step sequence, take the cycler's cycle index from `step` readings, or `auto`: the index when it varies. */
  readonly cycleSource: CycleSource;
  readonly normalization: Normalization;
  /** Reference cycle for drift (the first cycle after formation). */
  readonly refCycle: number;
  /** Capacity grid of the dP/dQ curve, mAh; 0 disables the curve. */
  readonly dpdqGrid_mAh: number;
  /** Most grid points kept per step. */
  readonly maxCurvePoints: number;
  /**
   * Settings of the in-step detectors (pressure drop during plating, voltage drop and noise during
   * charge); absent = off. The processor does not run them: the lab feeds them from its sample events.
   */
  readonly detectors?:
    | {
        readonly pressureDrop: PressureDropSettings;
        readonly hardShort: HardShortSettings;
        readonly voltageNoise: VoltageNoiseSettings;
        readonly voltageStall: VoltageStallSettings;
      }
    | undefined;
}

export type CurrentSampling = 'instantaneous' | 'on-change' | 'interval-average';

export const DEFAULT_MIN_STEP_DURATION_MS = 10_000;
export const DEFAULT_CURRENT_MAX_GAP_MS = 120_000;
export const DEFAULT_PRESSURE_MAX_GAP_MS = 30_000;
export const DEFAULT_REF_CYCLE = 4;
export const DEFAULT_DPDQ_GRID_MAH = 0.05;
export const DEFAULT_MAX_CURVE_POINTS = 400;
