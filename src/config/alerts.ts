/**
 * The `alerts:` section of the config (top level, `defaults.alerts`, `cells[].alerts`): its schema and
 * its resolution into one cell's detector and lifecycle settings. See README "Alerts" for each key.
 */
import { z } from 'zod';
import type { CellProcessorSettings } from '../domain/cell-processor.js';
import * as D from '../domain/alerts/detectors.js';
import { DEFAULT_RESOLVE_AFTER_CYCLES } from '../domain/alerts/incidents.js';
import { DEFAULT_CLEAR_DWELL_MS, DEFAULT_RESET_FRACTION } from '../domain/alerts/lifecycle.js';
import type { CellAlertSetup } from '../domain/lab.js';
import { countPressure_MPa } from '../domain/units.js';

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

type DdpqConfig = NonNullable<CellAlertsConfig['ddpq']>;

/** The Δ(ΔP_Q) settings; the keys from before the two criteria name the rate criterion. */
function ddpqSettings(dq: DdpqConfig): D.DdpqSettings {
  const rateWarn = dq.rateWarn_pct_per_cycle ?? dq.warnMin_pct ?? D.DEFAULT_DDPQ_RATE_WARN_PCT_PER_CYCLE;
  return {
    levelWarn_pct: dq.levelWarn_pct ?? D.DEFAULT_DDPQ_LEVEL_WARN_PCT,
    levelCrit_pct: dq.levelCrit_pct ?? D.DEFAULT_DDPQ_LEVEL_CRIT_PCT,
    levelCycles: dq.levelCycles ?? D.DEFAULT_DDPQ_LEVEL_CYCLES,
    rateWarn_pct_per_cycle: rateWarn,
    rateCrit_pct_per_cycle: dq.rateCrit_pct_per_cycle ?? (dq.critFactor !== undefined ? rateWarn * dq.critFactor : D.DEFAULT_DDPQ_RATE_CRIT_PCT_PER_CYCLE),
    rateCycles: dq.rateCycles ?? dq.trendCycles ?? D.DEFAULT_DDPQ_RATE_CYCLES,
    rateSigmas: dq.rateSigmas ?? dq.warnSigmas ?? D.DEFAULT_DDPQ_RATE_SIGMAS,
  };
}

/** The in-step detectors' settings (they run inside the cell's core, sample by sample). */
function sampleDetectorSettings(g: CellAlertsConfig, l: CellAlertsConfig, areaMm2: number): NonNullable<CellProcessorSettings['detectors']> {
  const pd = { ...g.pressureDrop, ...l.pressureDrop };
  const hs = { ...g.hardShort, ...l.hardShort };
  const vn = { ...g.voltageNoise, ...l.voltageNoise };
  const vs = { ...g.voltageStall, ...l.voltageStall };
  return {
    pressureDrop: {
      window_ms: (pd.window_s ?? D.DEFAULT_DROP_WINDOW_MS / 1000) * 1000,
      settle_ms: (pd.settle_s ?? D.DEFAULT_DROP_SETTLE_MS / 1000) * 1000,
      minCounts: pd.minCounts ?? D.DEFAULT_DROP_MIN_COUNTS,
      noiseSigmas: pd.noiseSigmas ?? D.DEFAULT_DROP_NOISE_SIGMAS,
      critFactor: pd.critFactor ?? D.DEFAULT_DROP_CRIT_FACTOR,
      count_MPa: countPressure_MPa(areaMm2),
    },
    hardShort: {
      warn_mV: hs.warn_mV ?? D.DEFAULT_HARD_SHORT_WARN_MV,
      crit_mV: hs.crit_mV ?? D.DEFAULT_HARD_SHORT_CRIT_MV,
      maxGap_ms: D.DEFAULT_HARD_SHORT_MAX_GAP_MS,
    },
    voltageNoise: {
      settle_ms: (vn.settle_s ?? D.DEFAULT_VNOISE_SETTLE_MS / 1000) * 1000,
      warnRatio: vn.warnRatio ?? D.DEFAULT_VNOISE_WARN_RATIO,
      critRatio: vn.critRatio ?? D.DEFAULT_VNOISE_CRIT_RATIO,
      baselineEpisodes: vn.baselineEpisodes ?? D.DEFAULT_VNOISE_BASELINE_EPISODES,
      everySamples: vn.everySamples ?? D.DEFAULT_VNOISE_EVERY_SAMPLES,
    },
    voltageStall: {
      settle_ms: (vs.settle_s ?? D.DEFAULT_VSTALL_SETTLE_MS / 1000) * 1000,
      rise_mV: vs.rise_mV ?? D.DEFAULT_VSTALL_RISE_MV,
      cvBand_mV: vs.cvBand_mV ?? D.DEFAULT_VSTALL_CV_BAND_MV,
      minSpan_mV: vs.minSpan_mV ?? D.DEFAULT_VSTALL_MIN_SPAN_MV,
      warn_min: vs.warn_min ?? D.DEFAULT_VSTALL_WARN_MIN,
      crit_min: vs.crit_min ?? D.DEFAULT_VSTALL_CRIT_MIN,
    },
  };
}

/** The cell's alert settings: its own `alerts` (`l`) over the top-level `alerts` (`g`); undefined when disabled. */
export function resolveAlerts(
  g: CellAlertsConfig,
  l: CellAlertsConfig,
  areaMm2: number,
): { processor: CellProcessorSettings['detectors']; cell: CellAlertSetup | undefined } {
  if ((l.enabled ?? g.enabled) === false) return { processor: undefined, cell: undefined };
  const ss = { ...g.softShort, ...l.softShort };
  const si = { ...g.silence, ...l.silence };
  return {
    processor: sampleDetectorSettings(g, l, areaMm2),
    cell: {
      lifecycle: {
        resetFraction: l.resetFraction ?? g.resetFraction ?? DEFAULT_RESET_FRACTION,
        clearDwell_ms: (l.clearDwell_s ?? g.clearDwell_s ?? DEFAULT_CLEAR_DWELL_MS / 1000) * 1000,
      },
      incidents: { resolveAfterCycles: l.resolveAfterCycles ?? g.resolveAfterCycles ?? DEFAULT_RESOLVE_AFTER_CYCLES },
      cycle: {
        ddpq: ddpqSettings({ ...g.ddpq, ...l.ddpq }),
        ceWarnMin_pts: ss.warnMin_pts ?? D.DEFAULT_CE_WARN_MIN_PTS,
        ceCritMin_pts: ss.critMin_pts ?? D.DEFAULT_CE_CRIT_MIN_PTS,
        ceWarnSigmas: ss.warnSigmas ?? D.DEFAULT_CE_WARN_SIGMAS,
        ceCritSigmas: ss.critSigmas ?? D.DEFAULT_CE_CRIT_SIGMAS,
        ceBaselineCycles: ss.baselineCycles ?? D.DEFAULT_CE_BASELINE_CYCLES,
      },
      silence: { warn_s: si.warn_s ?? D.DEFAULT_SILENCE_WARN_S, crit_s: si.crit_s ?? D.DEFAULT_SILENCE_CRIT_S },
    },
  };
}
