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
 * - Δ(ΔP_Q) decline: healthy cells decline too (the paper's most stable cell, MgF₂, loses 2.6 of 15.6 =
 *   17 % in 30 cycles), so a fixed level against the reference cycle would fire on every long healthy
 *   run. The detector compares slopes instead: the slope of Δ(ΔP_Q) over the latest `trendCycles` (8)
 *   complete cycles against the slope of the cell's own history before them (a least-squares line
 *   through every earlier cycle from the reference cycle, at least 8). The value is how much faster
 *   the recent decline is, in % of the reference per cycle. Its noise is the standard error of the
 *   recent slope, from the residual scatter σ of the history line. Warning at max(1 %/cycle, 4 standard
 *   errors), critical at twice that. Penetrating growth makes the swing per unit charge fall faster
 *   than the cell's own history: that is what it flags; a steady healthy decline is not.
 * - soft short: CE below the cell's own baseline (median CE of the 5 cycles after the reference cycle).
 *   Warning at max(2 points, 6 σ of those cycles), critical at max(5 points, 15 σ).
 * - hard short: voltage falling during charge between consecutive samples (≤ 10 s apart). Warning at
 *   50 mV, critical at 200 mV: a CC charge only raises the voltage, and a CV hold keeps it flat
 *   within a few mV of noise.
 * - silence: no pressure or current reading from an active cell. Warning after 120 s, critical after 600 s.
 */
export * from './pressure-drop.js';
export * from './hard-short.js';
export * from './cycle-detectors.js';
export * from './silence.js';
export * from './voltage-noise.js';
export { lineFromSums } from './stats.js';
