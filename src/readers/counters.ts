/**
 * Cyclers' capacity counters: cumulative, non-negative, restarted from zero by the cycler at boundaries of
 * its own (a step, a half cycle, a cycle). Read "reset-aware", as `../shared/data/cyclers/oracle.py` reads
 * them: a drop to less than half the previous value is a restart (the new value itself is credited); a
 * smaller drop is a real decrease (EC-Lab's counters during impedance rows) and is credited as negative.
 */
export function counterIncrement(prev: number, value: number): number {
  return prev > 0 && value < 0.5 * prev ? value : value - prev;
}
