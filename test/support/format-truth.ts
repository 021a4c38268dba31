/**
 * The cell behind the synthetic sample exports in test/fixtures/formats/ (written by
 * make-format-fixtures.ts), in closed form: the tests compare what oep computes from the files with these
 * numbers, never with numbers oep computed itself.
 */
import { MOLD_13MM_AREA_MM2 } from '../../src/domain/units.js';

export type SegmentKind = 'rest' | 'cc' | 'cv' | 'discharge';

export interface Segment {
  readonly kind: SegmentKind;
  /** Start and length, s from the profile start. */
  readonly t0_s: number;
  readonly dur_s: number;
  /** EC-Lab half cycle and cycle number (0-based). */
  readonly half: number;
  readonly cycle: number;
  /** Rests: what came before. */
  readonly afterKind: 'none' | 'charge' | 'discharge';
  /** EC-Lab's `Q charge/discharge` at the segment start (signed, restarts every half cycle), mAh. */
  readonly qHalf0_mAh: number;
  /** Arbin's per-cycle counters at the segment start, mAh. */
  readonly cycleCharge0_mAh: number;
  readonly cycleDischarge0_mAh: number;
  /** Signed current u s into the segment, mA. */
  current(u: number): number;
  voltage(u: number): number;
  /** ∫|I| from the segment start to u, mAh. */
  charge(u: number): number;
}

const CC_S = 10_440;
const CV_TAU_S = 1_200;
const CV_S = CV_TAU_S * Math.log(10); // down to a tenth of the CC current
const REST_S = 600;
const DIS_S = 11_160;
const CYCLE_S = CC_S + CV_S + REST_S + DIS_S + REST_S;

export const FORMAT_TRUTH = {
  current_mA: 0.65,
  plainCurrent_mA: 0.5,
  cycles: 3,
  k_MPa_per_mAh: 1.0,
  areaMm2: MOLD_13MM_AREA_MM2,
  activeMass_g: 0.0179,
  cycle_s: CYCLE_S,
  /** EC-Lab full export: acquisition start (UTC) and `time/s` at the profile start (a linked technique ran before). */
  eclabAcquisition: '03/14/2024 09:41:07.512',
  eclabAcquisitionTs: Date.UTC(2024, 2, 14, 9, 41, 7, 512),
  eclabTimeOffset_s: 3600.0123,
  /** The file stops 5000 s into the 4th charge (a run still going). */
  eclabEnd_s: REST_S + 3 * CYCLE_S + 5_000,
  /** Load-cell logger: started (true time) 10:21:00 UTC, its clock 300 s behind the cycler's. */
  loadCellTrueStartTs: Date.UTC(2024, 2, 14, 10, 21, 0),
  loadCellClockBehind_s: 300,
  loadCellStartText: '14.03.2024 10:16:00',
  plainTimeOffset_s: 12.5,
  arbinStartTs: Date.UTC(2024, 3, 2, 8, 0, 0),
  arbinTimeOffset_s: 30,
  genericStartTs: Date.UTC(2024, 2, 14, 9, 0, 0),
} as const;

/** Epoch ms of the EC-Lab full export's profile start (its first data row). */
export const ECLAB_PROFILE_START_TS = FORMAT_TRUTH.eclabAcquisitionTs + 3_600_012.3; // eclabTimeOffset_s in ms, as the reader computes it

/** Per cycle at current I: charge (CC + CV) and discharge capacity, mAh. */
export function cycleTruth(current_mA: number): { qCharge_mAh: number; qDischarge_mAh: number; qCc_mAh: number; qCv_mAh: number } {
  const qCc_mAh = (current_mA * CC_S) / 3600;
  const qCv_mAh = (current_mA * CV_TAU_S * (1 - Math.exp(-CV_S / CV_TAU_S))) / 3600;
  return { qCharge_mAh: qCc_mAh + qCv_mAh, qDischarge_mAh: (current_mA * DIS_S) / 3600, qCc_mAh, qCv_mAh };
}

/** Initial rest, then `cycles` × (CC charge, CV hold, rest, CC discharge, rest). */
export function profile(cycles: number, current_mA: number): Segment[] {
  const segs: Segment[] = [];
  const { qCc_mAh, qCharge_mAh, qDischarge_mAh } = cycleTruth(current_mA);
  let t = 0;
  const add = (s: Omit<Segment, 't0_s'>): void => {
    segs.push({ ...s, t0_s: t });
    t += s.dur_s;
  };
  const rest = (half: number, cycle: number, afterKind: Segment['afterKind'], q: number, v0: number, v1: number, cc: number, cd: number): void => {
    add({
      kind: 'rest',
      dur_s: REST_S,
      half,
      cycle,
      afterKind,
      qHalf0_mAh: q,
      cycleCharge0_mAh: cc,
      cycleDischarge0_mAh: cd,
      current: () => 0,
      voltage: (u) => v0 + (v1 - v0) * (1 - Math.exp(-u / 120)),
      charge: () => 0,
    });
  };
  rest(0, 0, 'none', 0, 3.45, 3.45, 0, 0);
  for (let c = 0; c < cycles; c++) {
    add({
      kind: 'cc',
      dur_s: CC_S,
      half: 2 * c,
      cycle: c,
      afterKind: 'none',
      qHalf0_mAh: 0,
      cycleCharge0_mAh: 0,
      cycleDischarge0_mAh: 0,
      current: () => current_mA,
      voltage: (u) => 3.65 + 0.65 * Math.pow(u / CC_S, 0.8),
      charge: (u) => (current_mA * u) / 3600,
    });
    add({
      kind: 'cv',
      dur_s: CV_S,
      half: 2 * c,
      cycle: c,
      afterKind: 'none',
      qHalf0_mAh: qCc_mAh,
      cycleCharge0_mAh: qCc_mAh,
      cycleDischarge0_mAh: 0,
      current: (u) => current_mA * Math.exp(-u / CV_TAU_S),
      voltage: () => 4.3,
      charge: (u) => (current_mA * CV_TAU_S * (1 - Math.exp(-u / CV_TAU_S))) / 3600,
    });
    rest(2 * c, c, 'charge', qCharge_mAh, 4.3, 4.2, qCharge_mAh, 0);
    add({
      kind: 'discharge',
      dur_s: DIS_S,
      half: 2 * c + 1,
      cycle: c,
      afterKind: 'none',
      qHalf0_mAh: 0,
      cycleCharge0_mAh: qCharge_mAh,
      cycleDischarge0_mAh: 0,
      current: () => -current_mA,
      voltage: (u) => 4.15 - 1.15 * Math.pow(u / DIS_S, 2.5),
      charge: (u) => (current_mA * u) / 3600,
    });
    rest(2 * c + 1, c, 'discharge', -qDischarge_mAh, 3.0, 3.4, qCharge_mAh, qDischarge_mAh);
  }
  return segs;
}

/** Signed charge stored (∫I dt) from the profile start to t, mAh. */
export function storedAt(segs: readonly Segment[], t_s: number): number {
  let q = 0;
  for (const s of segs) {
    if (t_s <= s.t0_s) break;
    const u = Math.min(t_s - s.t0_s, s.dur_s);
    q += s.kind === 'discharge' ? -s.charge(u) : s.charge(u);
  }
  return q;
}
