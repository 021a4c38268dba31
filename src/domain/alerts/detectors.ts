/**
 * The penetration and short detectors, as plain state plus pure functions (so a cell's detectors are
 * snapshotted with it). Each turns what it sees into a Signal: a value that grows with severity and the
 * warning / critical levels for that value. The lifecycle (lifecycle.ts) decides what is raised.
 *
 * Defaults, and why (the README repeats this):
 * - pressure drop during plating: the pressure is averaged over `window_ms` (10 s), the running maximum
 *   of those averages is kept through the charge step (after `settle_ms`), and the drop below it is the
 *   value. Warning at max(4 load-cell counts, 8 σ of the average), where one count is 0.1 kgf on the
 *   pressing area (7.4 kPa in a 13 mm mold) and σ is the sensor noise the detector measures on the cell
 *   itself (from successive differences), divided by √(samples per window). A healthy charge only
 *   rises, so a drop of four counts that outlasts the averaging is not noise. Critical at 3× warning.
 * - Δ(ΔP_Q) decline (ddpq-decline.ts): the method's two criteria against the reference cycle. Level:
 *   the mean of the latest 3 cycles 40 % (warning) / 60 % (critical) below the reference; the paper's
 *   healthy-to-mild cells lose 17-23 % in 30 cycles. Rate: the least-squares slope over the latest 8
 *   cycles minus 1.5 standard errors (from the same cycles' scatter), 1.5 / 3 % of the reference per
 *   cycle; the paper's cells fall 0.56-0.77 %/cycle. The README has the measured margins.
 * - soft short: CE below the cell's own baseline (median CE of the 5 cycles after the reference cycle).
 *   Warning at max(2 points, 6 σ of those cycles), critical at max(5 points, 15 σ).
 * - hard short: voltage falling during charge between consecutive samples (≤ 10 s apart). Warning at
 *   50 mV, critical at 200 mV: a CC charge only raises the voltage, and a CV hold keeps it flat
 *   within a few mV of noise.
 * - voltage stall (voltage-stall.ts): minutes since the voltage under charge last rose 5 mV, below the cell's
 *   top voltage minus 20 mV (the CV hold is flat by design). Warning at 30 min, critical at 90 min.
 * - silence: no pressure or current reading from an active cell. Warning after 120 s, critical after 600 s.
 */
export * from './charge-episode.js';
export * from './pressure-drop.js';
export * from './hard-short.js';
export * from './cycle-detectors.js';
export * from './ddpq-decline.js';
export * from './soft-short.js';
export * from './silence.js';
export * from './voltage-noise.js';
export * from './voltage-stall.js';
export { lineFromSums } from './stats.js';
