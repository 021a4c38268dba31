/**
 * The in-step detectors of one cell (pressure drop during plating, voltage drop, voltage noise and voltage
 * stall during charge), fed from the sample events of the cell's core: they listen, the core does not call them.
 * State is plain data, snapshotted with the cell.
 */
import type { SampleListener } from '../cell/types.js';
import {
  feedHardShort,
  feedPressureDrop,
  feedVoltageNoise,
  feedVoltageStall,
  newHardShortState,
  newPressureDropState,
  newVoltageNoiseState,
  newVoltageStallState,
  restoreVoltageStallState,
  type HardShortSettings,
  type HardShortState,
  type PressureDropSettings,
  type PressureDropState,
  type VoltageNoiseSettings,
  type VoltageNoiseState,
  type VoltageStallSettings,
  type VoltageStallState,
} from './detectors.js';
import type { Signal } from './lifecycle.js';

export interface SampleDetectorSettings {
  readonly pressureDrop: PressureDropSettings;
  readonly hardShort: HardShortSettings;
  readonly voltageNoise: VoltageNoiseSettings;
  readonly voltageStall: VoltageStallSettings;
  /** Voltage noise learns its baseline only after this cycle (the reference cycle). */
  readonly refCycle: number;
}

export interface SampleDetectorState {
  readonly pressureDrop: PressureDropState;
  readonly hardShort: HardShortState;
  readonly voltageNoise: VoltageNoiseState;
  /** Absent in snapshots from before the stall detector: it starts afresh. */
  voltageStall?: VoltageStallState;
}

export function newSampleDetectorState(): SampleDetectorState {
  return { pressureDrop: newPressureDropState(), hardShort: newHardShortState(), voltageNoise: newVoltageNoiseState(), voltageStall: newVoltageStallState() };
}

/**
 * The listener of one cell: a class rather than two closures over a context (a cell's listener lives as long
 * as the cell: ~0.2 KB a cell less).
 */
class SampleDetectorListener implements SampleListener {
  constructor(
    private readonly s: SampleDetectorState,
    private readonly stall: VoltageStallState,
    private readonly cfg: SampleDetectorSettings,
    private readonly signals: Signal[],
  ) {}

  pressure(t: number, p_MPa: number, charging: boolean): void {
    const sig = feedPressureDrop(this.s.pressureDrop, t, p_MPa, charging, this.cfg.pressureDrop);
    if (sig !== undefined) this.signals.push(sig);
  }

  voltage(t: number, v_V: number, charging: boolean, cycle: number, i_mA: number): void {
    const { s, cfg, signals } = this;
    const hard = feedHardShort(s.hardShort, t, v_V, i_mA, charging, cfg.hardShort);
    if (hard !== undefined) signals.push(hard);
    const noise = feedVoltageNoise(s.voltageNoise, t, v_V, charging, cycle > cfg.refCycle, cfg.voltageNoise);
    if (noise !== undefined) signals.push(noise);
    const stall = feedVoltageStall(this.stall, t, v_V, charging, cycle, cfg.refCycle, cfg.voltageStall);
    if (stall !== undefined) signals.push(stall);
  }
}

/** A listener that runs the detectors on each sample and appends what they measured to `signals`. */
export function sampleDetectorListener(s: SampleDetectorState, cfg: SampleDetectorSettings, signals: Signal[]): SampleListener {
  // Snapshots from before the stall detector learned plateaus lack its newer fields: they start afresh.
  if (s.voltageStall?.plateau_ms === undefined) s.voltageStall = restoreVoltageStallState(s.voltageStall);
  return new SampleDetectorListener(s, s.voltageStall, cfg, signals);
}
