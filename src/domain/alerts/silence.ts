/**
 * Silence: no pressure or current reading from an active cell (processing time). Defaults: see detectors.ts.
 */
import type { Signal } from './lifecycle.js';

export interface SilenceSettings {
  readonly warn_s: number;
  readonly crit_s: number;
}

export const SILENCE_DEFAULTS: SilenceSettings = { warn_s: 120, crit_s: 600 };

export function silenceSignal(now: number, silentFor_s: number, channel: string, cfg: SilenceSettings): Signal {
  return {
    kind: 'silence',
    t: now,
    value: silentFor_s,
    warn: cfg.warn_s,
    crit: cfg.crit_s,
    unit: 's',
    detail: silentFor_s > 0 ? `no ${channel} reading for ${silentFor_s.toFixed(0)} s from an active cell` : 'readings flowing',
    extra: { silent_s: silentFor_s },
  };
}
