/**
 * Maintenance silences of a lab's alerts: per cell id (or {@link ALL_CELLS}), the end of the silence (epoch ms,
 * processing time). While silenced, detectors and incidents go on; their events are marked silenced.
 */

/** The silence target that covers every cell. */
export const ALL_CELLS = '*';

export class MaintenanceSilences {
  private readonly until = new Map<string, number>();

  /** Silences `target` until `until_ms`; a past or zero `until_ms` ends the silence. */
  set(target: string, until_ms: number): void {
    if (until_ms > 0) this.until.set(target, until_ms);
    else this.until.delete(target);
  }

  /** Until when (epoch ms) a cell is silenced at processing time `now`, or undefined. */
  of(cell: string, now: number): number | undefined {
    const until = Math.max(this.until.get(cell) ?? -Infinity, this.until.get(ALL_CELLS) ?? -Infinity);
    return until > now ? until : undefined;
  }

  /** Whether a cell is silenced at `now` (cheap when nothing is silenced: the hot path asks per record). */
  covers(cell: string, now: number): boolean {
    return this.until.size > 0 && this.of(cell, now) !== undefined;
  }
}
