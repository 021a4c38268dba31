/**
 * The `alerts:` section of the config (top level, `defaults.alerts`, `cells[].alerts`): its schema.
 * Its resolution into one cell's detector and lifecycle settings is alerts-resolve.ts (no zod at run
 * time). See README "Alerts" for each key.
 */
import { z } from 'zod';

const positive = z.number().positive();

/** Per-detector thresholds; every key optional, so a cell can override one number. */
export const detectorFields = {
  enabled: z.boolean().optional(),
  clearDwell_s: z.number().nonnegative().optional(),
  resetFraction: z.number().min(0).max(1).optional(),
  resolveAfterCycles: z.number().int().nonnegative().optional(),
  pressureDrop: z
    .strictObject({
      window_s: positive.optional(),
      settle_s: z.number().nonnegative().optional(),
      minCounts: z.number().nonnegative().optional(),
      noiseSigmas: z.number().nonnegative().optional(),
      critFactor: z.number().min(1).optional(),
    })
    .optional(),
  hardShort: z.strictObject({ warn_mV: positive.optional(), crit_mV: positive.optional() }).optional(),
  voltageNoise: z
    .strictObject({
      settle_s: z.number().nonnegative().optional(),
      warnRatio: z.number().min(1).optional(),
      critRatio: z.number().min(1).optional(),
      baselineEpisodes: z.number().int().positive().optional(),
      everySamples: z.number().int().min(10).optional(),
    })
    .optional(),
  voltageStall: z
    .strictObject({
      settle_s: z.number().nonnegative().optional(),
      rise_mV: positive.optional(),
      cvBand_mV: z.number().nonnegative().optional(),
      minSpan_mV: z.number().nonnegative().optional(),
      warn_min: positive.optional(),
      crit_min: positive.optional(),
    })
    .optional(),
  ddpq: z
    .strictObject({
      levelWarn_pct: positive.optional(),
      levelCrit_pct: positive.optional(),
      levelCycles: z.number().int().positive().optional(),
      rateWarn_pct_per_cycle: positive.optional(),
      rateCrit_pct_per_cycle: positive.optional(),
      rateCycles: z.number().int().min(3).optional(),
      rateSigmas: z.number().nonnegative().optional(),
      // Before the two criteria (still accepted): the rate's warning, its standard errors, critical as a factor, its window.
      warnMin_pct: positive.optional(),
      warnSigmas: z.number().nonnegative().optional(),
      critFactor: z.number().min(1).optional(),
      trendCycles: z.number().int().min(3).optional(),
    })
    .optional(),
  softShort: z
    .strictObject({
      warnMin_pts: positive.optional(),
      critMin_pts: positive.optional(),
      warnSigmas: z.number().nonnegative().optional(),
      critSigmas: z.number().nonnegative().optional(),
      baselineCycles: z.number().int().positive().optional(),
    })
    .optional(),
  silence: z.strictObject({ warn_s: positive.optional(), crit_s: positive.optional() }).optional(),
};
export const cellAlertsSchema = z.strictObject(detectorFields);
export type CellAlertsConfig = z.infer<typeof cellAlertsSchema>;
