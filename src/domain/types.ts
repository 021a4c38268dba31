/**
 * The typed values that travel inward once the edge (MQTT, files) has parsed them.
 * Every quantity is in its canonical unit: time in epoch milliseconds, pressure in MPa,
 * current in mA (positive = charge, after the cell's sign convention), voltage in V.
 */

/** The channels a cell publishes on: `oep/<cell>/<channel>`. */
export type Channel = 'pressure' | 'current' | 'voltage' | 'step';

export const CHANNELS: readonly Channel[] = ['pressure', 'current', 'voltage', 'step'];

/** One reading in canonical units. */
export interface Reading {
  readonly cell: string;
  readonly channel: Channel;
  /** Event time: the reading's own timestamp, epoch ms. */
  readonly ts: number;
  /** MPa for pressure, mA for current, V for voltage, the cycler's step index for step. */
  readonly value: number;
  /** Only on `step` readings: the cycler's own cycle index, when it publishes one. */
  readonly cycleIndex?: number;
}

/** What an instant of current is, after the per-cell deadband. */
export type StepKind = 'charge' | 'discharge' | 'rest';

/** Per-step metrics (measurement `oep_step`). Pressure fields are absent when no pressure covered the instant. */
export interface StepRecord {
  readonly cell: string;
  /** Cycle the step belongs to; 0 for steps before the first cycle starts. */
  readonly cycle: number;
  /** Sequence number of the step within the cell, from 1. */
  readonly step: number;
  readonly kind: StepKind;
  readonly tStart: number;
  readonly tEnd: number;
  readonly duration_s: number;
  /** ∫|I| dt over the step (trapezoid on the piecewise-linear current), mAh. */
  readonly q_mAh: number;
  /** Charge passed in the charge and discharge directions inside the step, mAh (a glitch can add the other sign). */
  readonly qCharge_mAh: number;
  readonly qDischarge_mAh: number;
  /** Time-weighted mean current, mA (signed). */
  readonly iMean_mA: number;
  readonly pStart_MPa?: number;
  readonly pEnd_MPa?: number;
  readonly pMin_MPa?: number;
  readonly pMax_MPa?: number;
  /** pEnd − pStart. */
  readonly dp_MPa?: number;
  /** Mean differential pressiometry dP/dQ over the step, kPa/mAh. */
  readonly dpdq_kPa_per_mAh?: number;
  /** Cycler's step index, when the cycler published one. */
  readonly cyclerStep?: number;
  /** Minimum/maximum voltage inside the step, V, when voltage is published. */
  readonly vMin_V?: number;
  readonly vMax_V?: number;
  /** Pressure on a fixed capacity grid: [q_mAh, p_MPa, t_ms] (the dP/dQ curve; t = when the step reached q). */
  readonly curve?: readonly (readonly [number, number, number])[];
  /** Cycler's cycle index, when the cycler published one. */
  readonly cyclerCycle?: number;
  /** The cycler's own capacity counters over the step, mAh (recorded files that carry them; beside oep's integral). */
  readonly qChargeCycler_mAh?: number;
  readonly qDischargeCycler_mAh?: number;
}

/** Per-cycle metrics (measurement `oep_cycle`); point time = tEnd. */
export interface CycleRecord {
  readonly cell: string;
  readonly cycle: number;
  readonly tStart: number;
  readonly tEnd: number;
  readonly duration_s: number;
  readonly steps: number;
  readonly qCharge_mAh: number;
  readonly qDischarge_mAh: number;
  /** The cycler's own capacity counters summed over the cycle's steps, mAh (when every step has them). */
  readonly qChargeCycler_mAh?: number;
  readonly qDischargeCycler_mAh?: number;
  /** Specific discharge capacity, mAh/g (mass normalization). */
  readonly qDischarge_mAh_g?: number;
  /** Areal discharge capacity, mAh/cm². */
  readonly qDischarge_mAh_cm2?: number;
  readonly ce?: number;
  readonly pStart_MPa?: number;
  readonly pEnd_MPa?: number;
  /** ΔP at the cycle end relative to the cell's P_initial. */
  readonly dpCum_MPa?: number;
  readonly dpCharge_MPa?: number;
  readonly dpDischarge_MPa?: number;
  /** Δ(ΔP) = P(end of charge) − P(end of discharge). */
  readonly ddp_MPa?: number;
  /** max P − min P over the cycle. */
  readonly swing_MPa?: number;
  /** Δ(ΔP_Q) in MPa·g·(A·h)⁻¹ (mass normalization). */
  readonly ddpQ_MPa_g_per_Ah?: number;
  /** drift = Δ(ΔP_Q) − Δ(ΔP_Q)_ref (mass normalization). */
  readonly drift_MPa_g_per_Ah?: number;
  /** Δ(ΔP_Q) in MPa·cm²·(mA·h)⁻¹ (areal normalization, symmetric cells). */
  readonly ddpQ_MPa_cm2_per_mAh?: number;
  readonly drift_MPa_cm2_per_mAh?: number;
  /** P(end of cycle) − P(start of cycle): the irreversible ratchet. */
  readonly pIrrev_MPa?: number;
  /** False only for a cycle cut short by the end of a file (offline processing). */
  readonly complete: boolean;
  /** The cycler's cycle index, when cycles follow it (`cycleSource` cycler, or auto on an index that varies); absent: derived cycles. */
  readonly cyclerCycle?: number;
}
