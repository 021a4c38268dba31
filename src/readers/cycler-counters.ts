/**
 * The cycler's own capacity counters beside oep's integral. A recorded export that carries counters gives,
 * per cycler step, what the cycler counted (`CyclerStepOracle.qChargeCycler_mAh`, filled by the reader as it
 * reads); with the cycler's steps authoritative (`--steps cycler`, the default), each step record the lab
 * emits is one of those steps, in the same order. This joins them: the step record gets
 * `qChargeCycler_mAh` / `qDischargeCycler_mAh`, the cycle record their sums (when every step of the cycle
 * had them), and a warning is kept for every step where the two disagree by more than `warnRel`.
 *
 * `capacitySource: cycler` makes the cycler's discharge counter feed Δ(ΔP_Q) (and the specific/areal
 * capacity and drift) instead of oep's integral: they scale as 1/Q_discharge.
 */
import type { LabEvent } from '../domain/lab.js';
import type { CycleRecord, StepRecord } from '../domain/types.js';
import type { CyclerStepOracle } from './types.js';

/**
 * Relative disagreement between a step's integral and the cycler's counter (both directions together, against
 * the step's whole charge) that gets a warning. A fixed bound, not one computed from the step's own sampling:
 * a trapezoid over 30 s samples of a CV step's decaying current is within 2 % (BEEP's PredictionDiagnostics,
 * 1.7 %), but over 120 s samples it is not (maccor_three's CV steps: 13–16 %, 0.7 mAh of 900 mAh cycles,
 * below `COUNTER_WARN_OF_LARGEST`); more means lost rows, a wrong unit or sign.
 */
export const COUNTER_WARN_REL = 0.02;
/** Steps below this much charge (mAh, either measure) are not compared: the relative difference means nothing. */
const COUNTER_WARN_FLOOR_MAH = 1e-9;
/** Differences below this fraction of the largest step so far are not warned about. */
const COUNTER_WARN_OF_LARGEST = 1e-3;
/** Warnings kept (the rest are counted). */
const MAX_WARNINGS = 20;

/** Which capacity feeds Δ(ΔP_Q): oep's integral of the current, or the cycler's own counter. */
export type CapacitySource = 'integral' | 'cycler';

export class CyclerCounterJoin {
  private next = 0;
  private readonly perCycle = new Map<number, { c: number; d: number; complete: boolean }>();
  private refCycler: number | undefined;
  /** The largest step charge seen so far, either measure, mAh. */
  private largestStep = 0;
  readonly warnings: string[] = [];
  warningCount = 0;

  constructor(
    private readonly oracle: readonly CyclerStepOracle[],
    private readonly capacitySource: CapacitySource = 'integral',
    private readonly warnRel = COUNTER_WARN_REL,
  ) {}

  /** The events with the counters joined in (same order; other events untouched). */
  events(events: readonly LabEvent[]): LabEvent[] {
    return events.map((e) =>
      e.type === 'step' ? { type: 'step', record: this.step(e.record) } : e.type === 'cycle' ? { type: 'cycle', record: this.cycle(e.record) } : e,
    );
  }

  private step(r: StepRecord): StepRecord {
    const o = this.match(r);
    const sum = this.perCycle.get(r.cycle) ?? { c: 0, d: 0, complete: true };
    this.perCycle.set(r.cycle, sum);
    if (o?.qChargeCycler_mAh === undefined || o.qDischargeCycler_mAh === undefined) {
      sum.complete = false;
      return r;
    }
    sum.c += o.qChargeCycler_mAh;
    sum.d += o.qDischargeCycler_mAh;
    this.check(r, o.qChargeCycler_mAh, o.qDischargeCycler_mAh);
    return { ...r, qChargeCycler_mAh: o.qChargeCycler_mAh, qDischargeCycler_mAh: o.qDischargeCycler_mAh };
  }

  /** The next oracle step with the record's cycler indices (searching forward: the lab emits them in order). */
  private match(r: StepRecord): CyclerStepOracle | undefined {
    if (r.cyclerStep === undefined) return undefined;
    for (let k = this.next; k < this.oracle.length; k++) {
      const o = this.oracle[k];
      if (o?.stepIndex === r.cyclerStep && o.cycleIndex === (r.cyclerCycle ?? o.cycleIndex)) {
        this.next = k + 1;
        return o;
      }
    }
    return undefined;
  }

  private check(r: StepRecord, c: number, d: number): void {
    // Both directions at once, against the step's whole charge: a few µAh the other way in a 3 mAh step is no news.
    const diff = Math.abs(r.qCharge_mAh - c) + Math.abs(r.qDischarge_mAh - d);
    this.largestStep = Math.max(this.largestStep, r.qCharge_mAh + r.qDischarge_mAh, c + d);
    // A rest's few nAh against the cell's mAh steps are no news either.
    if (diff < COUNTER_WARN_OF_LARGEST * this.largestStep) return;
    const worst = disagreement(r.qCharge_mAh + r.qDischarge_mAh, c + d, diff);
    if (worst <= this.warnRel) return;
    this.warningCount++;
    if (this.warnings.length < MAX_WARNINGS) {
      this.warnings.push(
        `step ${r.step} (cycler cycle ${String(r.cyclerCycle ?? '-')}, step ${String(r.cyclerStep ?? '-')}): oep ${r.qCharge_mAh.toPrecision(6)} / ${r.qDischarge_mAh.toPrecision(6)} mAh, ` +
          `the cycler's counter ${c.toPrecision(6)} / ${d.toPrecision(6)} mAh (charge / discharge; ${(worst * 100).toFixed(1)} % apart)`,
      );
    }
  }

  private cycle(rec: CycleRecord): CycleRecord {
    const sum = this.perCycle.get(rec.cycle);
    this.perCycle.delete(rec.cycle);
    if (sum?.complete !== true) return rec;
    const out: CycleRecord = { ...rec, qChargeCycler_mAh: sum.c, qDischargeCycler_mAh: sum.d };
    return this.capacitySource === 'cycler' ? this.byCounter(out, sum.c, sum.d) : out;
  }

  /** Δ(ΔP_Q), the normalized capacity, CE and drift from the cycler's counters. */
  private byCounter(rec: CycleRecord, c: number, d: number): CycleRecord {
    const k = d > 0 && rec.qDischarge_mAh > 0 ? rec.qDischarge_mAh / d : undefined;
    const scale = (v: number | undefined): number | undefined => (v === undefined || k === undefined ? undefined : v * k);
    const ddpQ = scale(rec.ddpQ_MPa_g_per_Ah ?? rec.ddpQ_MPa_cm2_per_mAh);
    const isRef = (rec.drift_MPa_g_per_Ah ?? rec.drift_MPa_cm2_per_mAh) === 0;
    if (isRef && ddpQ !== undefined) this.refCycler = ddpQ;
    const drift =
      ddpQ !== undefined && this.refCycler !== undefined && (rec.drift_MPa_g_per_Ah ?? rec.drift_MPa_cm2_per_mAh) !== undefined
        ? ddpQ - this.refCycler
        : undefined;
    const mass = rec.ddpQ_MPa_g_per_Ah !== undefined || rec.qDischarge_mAh_g !== undefined;
    const q = (v: number | undefined): number | undefined => (v === undefined || !(rec.qDischarge_mAh > 0) ? undefined : (v * d) / rec.qDischarge_mAh);
    const { ce: _ce, ...rest } = rec;
    return strip({
      ...rest,
      ...(c > 0 && d > 0 ? { ce: d / c } : {}),
      qDischarge_mAh_g: q(rec.qDischarge_mAh_g),
      qDischarge_mAh_cm2: q(rec.qDischarge_mAh_cm2),
      ...(mass ? { ddpQ_MPa_g_per_Ah: ddpQ, drift_MPa_g_per_Ah: drift } : { ddpQ_MPa_cm2_per_mAh: ddpQ, drift_MPa_cm2_per_mAh: drift }),
    });
  }
}

/** `diff` relative to the larger of the two totals, 0 when both are negligible. */
function disagreement(a: number, b: number, diff: number): number {
  const m = Math.max(Math.abs(a), Math.abs(b));
  return m < COUNTER_WARN_FLOOR_MAH ? 0 : diff / m;
}

/** The record without its undefined fields (records never carry an undefined field). */
function strip(r: { [K in keyof CycleRecord]: CycleRecord[K] | undefined }): CycleRecord {
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- the required fields come from a CycleRecord; only optional ones can be undefined
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as CycleRecord;
}
