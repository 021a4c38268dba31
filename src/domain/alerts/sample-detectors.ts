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

/** A listener that runs the detectors on each sample and appends what they measured to `signals`. */
export function sampleDetectorListener(s: SampleDetectorState, cfg: SampleDetectorSettings, signals: Signal[]): SampleListener {
  // Snapshots from before the stall detector learned plateaus lack its newer fields: they start afresh.
  if (s.voltageStall?.plateau_ms === undefined) s.voltageStall = restoreVoltageStallState(s.voltageStall);
  const stallState = s.voltageStall;
  return {
    pressure(t, p_MPa, charging) {
      const sig = feedPressureDrop(s.pressureDrop, t, p_MPa, charging, cfg.pressureDrop);
      if (sig !== undefined) signals.push(sig);
    },
    voltage(t, v_V, charging, cycle, i_mA) {
      const hard = feedHardShort(s.hardShort, t, v_V, i_mA, charging, cfg.hardShort);
      if (hard !== undefined) signals.push(hard);
      const noise = feedVoltageNoise(s.voltageNoise, t, v_V, charging, cycle > cfg.refCycle, cfg.voltageNoise);
      if (noise !== undefined) signals.push(noise);
      const stall = feedVoltageStall(stallState, t, v_V, charging, cycle, cfg.refCycle, cfg.voltageStall);
      if (stall !== undefined) signals.push(stall);
    },
  };
}
