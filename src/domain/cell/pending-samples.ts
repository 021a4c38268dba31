/**
 * Pressure and voltage samples that arrived after the latest current sample: which run they belong to,
 * and the run's charge at their instant, are known only once the current that spans them is. They wait
 * here, in time order, and are attributed to a run (extremes, dP/dQ curve) when a segment covers them.
 */
import { absChargeLinear_mAh, lerp } from '../capacity.js';
import { addPressure, addVoltage, type Run } from './run.js';
import type { CurrentLine, PendingSampleKind, SampleListener } from './types.js';

/** Plain data (a checkpoint's form): three parallel arrays, in time order. */
export interface PendingSamplesState {
  t: number[];
  kind: PendingSampleKind[];
  value: number[];
}

/**
 * The live queue: the first `n` entries of each array (what lies past them is stale). Emptying an array
 * (`length = 0`) frees its backing store, and the next sample allocated one again: three allocations per
 * pressure sample, each kept by a cell until its next message (promoted to the old space with thousands
 * of cells). A count keeps the room.
 */
export interface PendingSamples extends PendingSamplesState {
  n: number;
}

export function newPendingSamples(): PendingSamples {
  return { t: [], kind: [], value: [], n: 0 };
}

export function pushSample(q: PendingSamples, t: number, kind: PendingSampleKind, value: number): void {
  const n = q.n;
  if (n < q.t.length) {
    q.t[n] = t;
    q.kind[n] = kind;
    q.value[n] = value;
  } else {
    q.t.push(t);
    q.kind.push(kind);
    q.value.push(value);
  }
  q.n = n + 1;
}

/** True when a sample at or before `tb` is waiting. */
export function hasSamplesUpTo(q: PendingSamples, tb: number): boolean {
  return q.n > 0 && (q.t[0] ?? Infinity) <= tb;
}

/** The samples waiting, as plain data (copies). */
export function pendingState(q: PendingSamples): PendingSamplesState {
  return { t: q.t.slice(0, q.n), kind: q.kind.slice(0, q.n), value: q.value.slice(0, q.n) };
}

/**
 * Attributes the samples with t ≤ tb to `run`: each pressure sample with the run's charge at its
 * instant (for the curve), each voltage sample to the extremes; voltage samples not yet shown to the
 * detectors go to `listener` with whether the current was above the deadband at their instant and at
 * the line's end (so a relaxation right after a charge is not a voltage drop under charge).
 * @param ta start of the part of `line` that belongs to the run (the run's charge `run.q` is counted up to here)
 * @param line the current around the samples; past `line.t1` (or for a flat line) it is held at `line.i0`
 * @param cycle the cycle in progress (for the voltage listener)
 */
export function attributeSamples(
  q: PendingSamples,
  tb: number,
  run: Run,
  ta: number,
  line: CurrentLine,
  R: number,
  cycle: number,
  listener: SampleListener,
): void {
  const n = q.n;
  if (n === 0) return;
  const { t0, i0, t1, i1 } = line;
  const heldI = Math.abs(i0);
  let k = 0;
  for (; k < n; k++) {
    const t = q.t[k] ?? NaN;
    if (t > tb) break;
    const v = q.value[k] ?? NaN;
    const kind = q.kind[k];
    const inLine = t1 > ta && t <= t1;
    if (kind === 'voltage') {
      const iAt = inLine ? lerp(t0, i0, t1, i1, t) : i0;
      listener.voltage(t, v, iAt > R && i1 > R, cycle, iAt);
    }
    if (kind === 'pressure') {
      let q_mAh = NaN;
      if (run.curve !== null) {
        const dq = inLine ? absChargeLinear_mAh(ta, lerp(t0, i0, t1, i1, ta), t, lerp(t0, i0, t1, i1, t)) : (heldI * (t - ta)) / 3_600_000;
        q_mAh = run.q + Math.max(0, dq);
      }
      addPressure(run, t, v, q_mAh);
    } else addVoltage(run, v);
  }
  if (k > 0 && k < n) {
    q.t.copyWithin(0, k, n);
    q.kind.copyWithin(0, k, n);
    q.value.copyWithin(0, k, n);
  }
  q.n = n - k;
}
