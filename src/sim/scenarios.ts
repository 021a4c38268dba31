/**
 * Ready-made simulated labs, after the paper's three interlayers (Lim et al. 2024, Figure 5):
 * LiF-coated Li (Δ(ΔP_Q) ≈ 23.8 MPa·g/(A·h)), Mg-coated Li (22.4) and MgF2-coated Li (15.6).
 */

import { defaultSimCellSpec, type SimCellOverrides, type SimCellSpec } from './cell-spec.js';
import { Prng, hashString32 } from './prng.js';

/** Δ(ΔP_Q) of the LiF-coated Li cell at the first 0.3C cycle, MPa·g/(A·h) (paper). */
export const PAPER_DDPQ_LIF_MPA_G_PER_AH = 23.8;
/** Δ(ΔP_Q) of the Mg-coated Li cell at the first 0.3C cycle, MPa·g/(A·h) (paper). */
export const PAPER_DDPQ_MG_MPA_G_PER_AH = 22.4;
/** Δ(ΔP_Q) of the MgF2-coated Li cell at the first 0.3C cycle, MPa·g/(A·h) (paper). */
export const PAPER_DDPQ_MGF2_MPA_G_PER_AH = 15.6;

/**
 * Cycle from which the demo's penetrating cell grows Li into the electrolyte: the second formation cycle,
 * so that `oep demo` opens its first incident within a minute (at 3600×, a formation cycle takes ~30 s).
 */
export const DEMO_PENETRATION_ONSET_CYCLE = 2;

/**
 * Extra Δ(ΔP_Q) decline per cycle of the demo's penetrating cell, MPa·g/(A·h): with the healthy drift this
 * loses ≈ −6.2 between the reference cycle (4) and cycle 30 (paper: −4.2 LiF, −5.2 Mg after 30 cycles).
 */
export const DEMO_PENETRATION_DECLINE_MPA_G_PER_AH_PER_CYCLE = -0.15;

/** Cycle from which the demo's penetrating cell develops a soft short (paper: ISC at ≈ the 30th cycle). */
export const DEMO_SOFT_SHORT_ONSET_CYCLE = 28;

/** Cycle in which the fifth demo cell (Mg, penetrating) hard-shorts. */
export const DEMO_HARD_SHORT_CYCLE = 20;

/** The lab's templates, in order; cells beyond the fifth repeat them with small variations. */
const TEMPLATES: readonly SimCellOverrides[] = [
  // Healthy MgF2 cell: the low Δ(ΔP_Q), publishes MPa.
  { label: 'MgF2', ddpQ_MPa_g_per_Ah: PAPER_DDPQ_MGF2_MPA_G_PER_AH, pressureUnit: 'MPa' },
  // LiF cell that penetrates from cycle 2 (declining swing, drops during plating), soft short from 28; publishes kgf.
  {
    label: 'LiF',
    ddpQ_MPa_g_per_Ah: PAPER_DDPQ_LIF_MPA_G_PER_AH,
    pressureUnit: 'kgf',
    penetration: {
      onsetCycle: DEMO_PENETRATION_ONSET_CYCLE,
      ddpQDecline_MPa_g_per_Ah_per_cycle: DEMO_PENETRATION_DECLINE_MPA_G_PER_AH_PER_CYCLE,
    },
    softShort: { onsetCycle: DEMO_SOFT_SHORT_ONSET_CYCLE },
  },
  // Healthy Mg cell with skewed device clocks; publishes kgf.
  {
    label: 'Mg',
    ddpQ_MPa_g_per_Ah: PAPER_DDPQ_MG_MPA_G_PER_AH,
    pressureUnit: 'kgf',
    pressureClockOffset_ms: -120,
    cyclerClockOffset_ms: 250,
  },
  // Healthy LiF cell (a good one), slower load cell; publishes MPa.
  { label: 'LiF', ddpQ_MPa_g_per_Ah: PAPER_DDPQ_LIF_MPA_G_PER_AH, pressureUnit: 'MPa', pressureRate_Hz: 5 },
  // Mg cell that penetrates from cycle 10 and hard-shorts in cycle 20 (the cycler then aborts); publishes MPa.
  {
    label: 'Mg',
    ddpQ_MPa_g_per_Ah: PAPER_DDPQ_MG_MPA_G_PER_AH,
    pressureUnit: 'MPa',
    penetration: { onsetCycle: 10 },
    hardShort: { cycle: DEMO_HARD_SHORT_CYCLE },
  },
];

/** Index (0-based) of the penetrating template, used alone in a lab of one. */
const PENETRATING_TEMPLATE = 1;

/**
 * A simulated lab of `n` cells (default 4), ids `cell-01`, `cell-02`, ...:
 * 1. MgF2, healthy, Δ(ΔP_Q) 15.6, pressure in MPa;
 * 2. LiF, penetrating from cycle {@link DEMO_PENETRATION_ONSET_CYCLE} (swing per charge declines faster,
 *    pressure drops during plating), soft short from cycle {@link DEMO_SOFT_SHORT_ONSET_CYCLE}, pressure in kgf;
 * 3. Mg, healthy, Δ(ΔP_Q) 22.4, pressure in kgf, skewed device clocks (−120 ms load cell, +250 ms cycler);
 * 4. LiF, healthy, Δ(ΔP_Q) 23.8, pressure in MPa at 5 Hz;
 * 5. Mg, penetrating from cycle 10, hard short in cycle {@link DEMO_HARD_SHORT_CYCLE};
 * then the templates repeat with deterministic ±3 % variations of active mass and ±0.5 MPa of base pressure.
 * A lab of one is the penetrating LiF cell alone, so every lab has a penetrating cell.
 * @param n number of cells, integer ≥ 1.
 */
export function demoCells(n = 4): SimCellSpec[] {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`demoCells: n must be an integer ≥ 1 (got ${String(n)})`);
  const cells: SimCellSpec[] = [];
  const width = Math.max(2, String(n).length);
  for (let i = 0; i < n; i++) {
    const id = `cell-${String(i + 1).padStart(width, '0')}`;
    const t = n === 1 ? PENETRATING_TEMPLATE : i % TEMPLATES.length;
    const template = TEMPLATES[t] ?? {}; // t < TEMPLATES.length
    if (i < TEMPLATES.length) {
      cells.push(defaultSimCellSpec(id, template));
      continue;
    }
    const rng = new Prng(hashString32(id));
    const base = defaultSimCellSpec(id, template);
    cells.push(
      defaultSimCellSpec(id, {
        ...template,
        activeMass_g: base.activeMass_g * (1 + rng.range(-0.03, 0.03)),
        basePressure_MPa: base.basePressure_MPa + rng.range(-0.5, 0.5),
      }),
    );
  }
  return cells;
}
