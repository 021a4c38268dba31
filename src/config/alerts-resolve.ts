/**
 * The `alerts:` section resolved into one cell's detector and lifecycle settings (alerts.ts holds its
 * schema; this part needs no zod at run time). See README "Alerts" for each key.
 */
import type { CellProcessorSettings } from '../domain/cell-processor.js';
import * as D from '../domain/alerts/detectors.js';
import { DEFAULT_RESOLVE_AFTER_CYCLES } from '../domain/alerts/incidents.js';
import { DEFAULT_CLEAR_DWELL_MS, DEFAULT_RESET_FRACTION } from '../domain/alerts/lifecycle.js';
import type { CellAlertSetup } from '../domain/lab.js';
import { countPressure_MPa } from '../domain/units.js';
import type { CellAlertsConfig } from './alerts.js';

type DdpqConfig = NonNullable<CellAlertsConfig['ddpq']>;

/**
 * `given` over `defaults`, key by key: a key absent from `given` (or undefined there) keeps its default; keys `defaults` lacks are ignored.
 * A loop, not `Object.fromEntries(Object.entries(…).map(…))`: a cell's settings are resolved when the lab first meets
 * or restores it, and the pair arrays of the latter were most of that time at 10,000 cells.
 */
function withDefaults<T extends Readonly<Record<keyof T, number>>>(defaults: T, given: { readonly [K in keyof T]?: number | undefined }): T {
  const out: Partial<Record<keyof T, number>> = {};
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- Object.keys gives `defaults`' own keys, each of T
  for (const k of Object.keys(defaults) as (keyof T)[]) out[k] = given[k] ?? defaults[k];
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- the same keys as `defaults`, each a number
  return out as T;
}

/** A duration the config gives in seconds, in ms. */
function ms(s: number | undefined): number | undefined {
  return s === undefined ? undefined : s * 1000;
}

/** The Δ(ΔP_Q) settings; the keys from before the two criteria name the rate criterion. */
function ddpqSettings(dq: DdpqConfig): D.DdpqSettings {
  const rateWarn = dq.rateWarn_pct_per_cycle ?? dq.warnMin_pct ?? D.DDPQ_DEFAULTS.rateWarn_pct_per_cycle;
  return withDefaults(D.DDPQ_DEFAULTS, {
    ...dq,
    rateWarn_pct_per_cycle: rateWarn,
    rateCrit_pct_per_cycle: dq.rateCrit_pct_per_cycle ?? (dq.critFactor !== undefined ? rateWarn * dq.critFactor : undefined),
    rateCycles: dq.rateCycles ?? dq.trendCycles,
    rateSigmas: dq.rateSigmas ?? dq.warnSigmas,
  });
}

/** The in-step detectors' settings (they run inside the cell's core, sample by sample). */
function sampleDetectorSettings(g: CellAlertsConfig, l: CellAlertsConfig, areaMm2: number): NonNullable<CellProcessorSettings['detectors']> {
  const pd = { ...g.pressureDrop, ...l.pressureDrop };
  const vn = { ...g.voltageNoise, ...l.voltageNoise };
  const vs = { ...g.voltageStall, ...l.voltageStall };
  return {
    pressureDrop: {
      ...withDefaults(D.PRESSURE_DROP_DEFAULTS, { ...pd, window_ms: ms(pd.window_s), settle_ms: ms(pd.settle_s) }),
      count_MPa: countPressure_MPa(areaMm2),
    },
    hardShort: withDefaults(D.HARD_SHORT_DEFAULTS, { ...g.hardShort, ...l.hardShort }),
    voltageNoise: withDefaults(D.VOLTAGE_NOISE_DEFAULTS, { ...vn, settle_ms: ms(vn.settle_s) }),
    voltageStall: withDefaults(D.VOLTAGE_STALL_DEFAULTS, { ...vs, settle_ms: ms(vs.settle_s) }),
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
        ...withDefaults(D.SOFT_SHORT_DEFAULTS, {
          ceWarnMin_pts: ss.warnMin_pts,
          ceCritMin_pts: ss.critMin_pts,
          ceWarnSigmas: ss.warnSigmas,
          ceCritSigmas: ss.critSigmas,
          ceBaselineCycles: ss.baselineCycles,
        }),
      },
      silence: withDefaults(D.SILENCE_DEFAULTS, { ...g.silence, ...l.silence }),
    },
  };
}
