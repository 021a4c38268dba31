/**
 * The per-cycle detectors, fed one cycle record at a time: Δ(ΔP_Q) decline (penetration signature 2,
 * ddpq-decline.ts) and soft short from the coulombic efficiency (signature 3, soft-short.ts).
 */
import { feedDdpq, newDdpqState, type DdpqSettings, type DdpqState } from './ddpq-decline.js';
import type { Signal } from './lifecycle.js';
import { feedSoftShort, type SoftShortSettings } from './soft-short.js';

export interface CycleDetectorSettings extends SoftShortSettings {
  readonly ddpq: DdpqSettings;
}

export interface CycleDetectorState {
  ceBaseline: number[];
  qChargeBaseline: number[];
  /** Absent in snapshots from before the two-criteria detector: it starts afresh (the reference comes back from the next cycle's drift). */
  ddpq?: DdpqState;
}

export function newCycleDetectorState(): CycleDetectorState {
  return { ceBaseline: [], qChargeBaseline: [], ddpq: newDdpqState() };
}

export interface CycleFacts {
  readonly cycle: number;
  readonly t: number;
  readonly complete: boolean;
  readonly refCycle: number;
  readonly ce: number | undefined;
  readonly qCharge_mAh: number;
  readonly ddpQ: number | undefined;
  readonly drift: number | undefined;
}

/** Δ(ΔP_Q) decline and soft short, from one cycle's record. */
export function feedCycle(s: CycleDetectorState, c: CycleFacts, cfg: CycleDetectorSettings): Signal[] {
  const out: Signal[] = [];
  if (!c.complete) return out;
  if (c.drift !== undefined && c.ddpQ !== undefined && c.cycle >= c.refCycle) {
    const sig = feedDdpq((s.ddpq ??= newDdpqState()), c.cycle, c.t, c.ddpQ, c.drift, cfg.ddpq);
    if (sig !== undefined) out.push(sig);
  }
  if (c.ce !== undefined && c.cycle > c.refCycle) {
    const sig = feedSoftShort(s, c.cycle, c.t, c.ce, c.qCharge_mAh, cfg);
    if (sig !== undefined) out.push(sig);
  }
  return out;
}
