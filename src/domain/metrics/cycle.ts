/**
 * The paper's per-cycle quantities (Lim et al., Adv. Energy Mater. 2024, OEP section) from a cycle's steps.
 *
 *   Δ(ΔP)_n    = P(end of charge_n) − P(end of discharge_n)                     MPa
 *   Δ(ΔP_Q)_n  = Δ(ΔP)_n / (Q_discharge,n[A·h] / m_active[g])                   MPa·g·(A·h)⁻¹
 *   drift_n    = Δ(ΔP_Q)_n − Δ(ΔP_Q)_ref                                         MPa·g·(A·h)⁻¹
 *   ce_n       = Q_discharge,n / Q_charge,n
 *   swing_n    = max P − min P over the cycle                                    MPa
 *   p_irrev_n  = P(end of cycle n) − P(start of cycle n)                         MPa
 * Symmetric cells (no active mass) normalize by areal capacity instead: MPa·cm²·(mA·h)⁻¹.
 */
import type { CycleRecord, StepRecord } from '../types.js';

/** How Δ(ΔP) is normalized by capacity. */
export type Normalization = { readonly kind: 'mass'; readonly activeMass_g: number } | { readonly kind: 'areal'; readonly electrodeArea_cm2: number };

/** Δ(ΔP_Q) = Δ(ΔP) / (Q_dis[A·h] / m[g]), MPa·g·(A·h)⁻¹. */
export function ddpQMass_MPa_g_per_Ah(ddp_MPa: number, qDischarge_mAh: number, activeMass_g: number): number | undefined {
  if (!(qDischarge_mAh > 0) || !(activeMass_g > 0)) return undefined;
  return ddp_MPa / (qDischarge_mAh / 1000 / activeMass_g);
}

/** Δ(ΔP_Q) = Δ(ΔP) / (Q_dis[mA·h] / A[cm²]), MPa·cm²·(mA·h)⁻¹. */
export function ddpQAreal_MPa_cm2_per_mAh(ddp_MPa: number, qDischarge_mAh: number, area_cm2: number): number | undefined {
  if (!(qDischarge_mAh > 0) || !(area_cm2 > 0)) return undefined;
  return ddp_MPa / (qDischarge_mAh / area_cm2);
}

export interface CycleContext {
  readonly cell: string;
  readonly cycle: number;
  readonly normalization: Normalization;
  /** Pressure at the start of cycling for the cell (P_initial), MPa. */
  readonly pInitial_MPa: number | undefined;
  /** Δ(ΔP_Q) of the reference cycle, in the normalization's unit, if known. */
  readonly ddpQRef: number | undefined;
  readonly complete: boolean;
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}
const diff = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a - b);

/** Computes a cycle's metrics from its steps (in time order). Pure. */
export function computeCycle(steps: readonly StepRecord[], ctx: CycleContext): CycleRecord {
  const first = steps[0];
  const last = steps[steps.length - 1];
  if (first === undefined || last === undefined) throw new RangeError('computeCycle: a cycle needs at least one step');
  let qCharge = 0;
  let qDischarge = 0;
  let firstCharge: StepRecord | undefined;
  let lastCharge: StepRecord | undefined;
  let firstDischarge: StepRecord | undefined;
  let lastDischarge: StepRecord | undefined;
  let pMin: number | undefined;
  let pMax: number | undefined;
  for (const s of steps) {
    // The charge that passed in each direction, whatever the step's kind (what a cycler's counters count:
    // an impedance measurement inside a rest moves charge too).
    qCharge += s.qCharge_mAh;
    qDischarge += s.qDischarge_mAh;
    if (s.kind === 'charge') {
      firstCharge ??= s;
      lastCharge = s;
    } else if (s.kind === 'discharge') {
      firstDischarge ??= s;
      lastDischarge = s;
    }
    pMin = minDefined(pMin, s.pMin_MPa);
    pMax = maxDefined(pMax, s.pMax_MPa);
  }
  const ddp = diff(lastCharge?.pEnd_MPa, lastDischarge?.pEnd_MPa);
  const rec: CycleRecord = {
    cell: ctx.cell,
    cycle: ctx.cycle,
    tStart: first.tStart,
    tEnd: last.tEnd,
    duration_s: (last.tEnd - first.tStart) / 1000,
    steps: steps.length,
    qCharge_mAh: qCharge,
    qDischarge_mAh: qDischarge,
    ...defined('ce', qCharge > 0 && qDischarge > 0 ? qDischarge / qCharge : undefined),
    ...defined('pStart_MPa', first.pStart_MPa),
    ...defined('pEnd_MPa', last.pEnd_MPa),
    ...defined('dpCum_MPa', diff(last.pEnd_MPa, ctx.pInitial_MPa)),
    ...defined('dpCharge_MPa', diff(lastCharge?.pEnd_MPa, firstCharge?.pStart_MPa)),
    ...defined('dpDischarge_MPa', diff(lastDischarge?.pEnd_MPa, firstDischarge?.pStart_MPa)),
    ...defined('ddp_MPa', ddp),
    ...defined('swing_MPa', diff(pMax, pMin)),
    ...defined('pIrrev_MPa', diff(last.pEnd_MPa, first.pStart_MPa)),
    complete: ctx.complete,
  };
  const n = ctx.normalization;
  if (n.kind === 'mass') {
    const q = ddp === undefined ? undefined : ddpQMass_MPa_g_per_Ah(ddp, qDischarge, n.activeMass_g);
    return {
      ...rec,
      qDischarge_mAh_g: qDischarge / n.activeMass_g,
      ...defined('ddpQ_MPa_g_per_Ah', q),
      ...defined('drift_MPa_g_per_Ah', diff(q, ctx.ddpQRef)),
    };
  }
  const q = ddp === undefined ? undefined : ddpQAreal_MPa_cm2_per_mAh(ddp, qDischarge, n.electrodeArea_cm2);
  return {
    ...rec,
    qDischarge_mAh_cm2: qDischarge / n.electrodeArea_cm2,
    ...defined('ddpQ_MPa_cm2_per_mAh', q),
    ...defined('drift_MPa_cm2_per_mAh', diff(q, ctx.ddpQRef)),
  };
}

/** `{ [key]: value }`, or nothing when the value is undefined (optional record fields are absent, not undefined). */
function defined<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- a computed key widens to string: the cast restores K
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

/** Δ(ΔP_Q) of a cycle record in its normalization's unit. */
export function ddpQOf(c: CycleRecord): number | undefined {
  return c.ddpQ_MPa_g_per_Ah ?? c.ddpQ_MPa_cm2_per_mAh;
}
