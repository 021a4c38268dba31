/**
 * Boundary pressures: each step boundary waits for the pressure at its instant, interpolated between the
 * samples either side (see PressureTrack). A boundary is resolved when a sample after it has arrived, or
 * when none can come any more (the samples around it are too far apart, or event time has moved past it
 * by the pressure gap limit), in which case its pressure stays unknown rather than invented.
 */
import type { PressureTrack } from '../pressure-track.js';
import type { Boundary } from './types.js';

/**
 * Resolves what it can of `pending` (in place: resolved boundaries leave the list). With `final` (end of
 * input), a boundary after the newest sample takes that sample if it is within the gap limit.
 * Returns how many boundaries were resolved without a pressure.
 */
export function resolveBoundaries(pending: Boundary[], track: PressureTrack, final: boolean): number {
  if (pending.length === 0) return 0;
  let missing = 0;
  let w = 0;
  for (const b of pending) {
    if (!b.resolved) {
      const v = track.valueAt(b.t, final);
      if (v.kind === 'value') {
        b.p = v.p;
        b.resolved = true;
      } else if (v.kind === 'missing') {
        b.resolved = true;
        missing++;
      }
    }
    if (!b.resolved) pending[w++] = b;
  }
  pending.length = w;
  return missing;
}

/**
 * A boundary older than `limit` (event time − the pressure gap limit) with no pressure sample after it
 * will never get one: resolved without a pressure. Returns how many.
 */
export function expireBoundaries(pending: Boundary[], limit: number): number {
  if (pending.length === 0 || (pending[0]?.t ?? Infinity) >= limit) return 0;
  let missing = 0;
  let w = 0;
  for (const b of pending) {
    if (b.t < limit) {
      b.resolved = true;
      missing++;
    } else pending[w++] = b;
  }
  pending.length = w;
  return missing;
}
