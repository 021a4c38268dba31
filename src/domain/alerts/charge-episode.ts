/**
 * A charge episode: charging samples with no pause longer than {@link CHARGE_EPISODE_GAP_MS} between them.
 * The pressure-drop, voltage-noise and voltage-stall detectors each judge one episode at a time and start
 * afresh with the next; the fields live in each detector's own state (snapshotted with the cell).
 */

/** A pause in charging longer than this starts a new episode, ms. */
export const CHARGE_EPISODE_GAP_MS = 60_000;

export interface ChargeEpisode {
  /** When the episode in progress began, ms. */
  episodeStart: number;
  /** The latest charging sample, ms. */
  lastCharging: number;
}

/** Notes a charging sample at `t`; true when it begins a new episode (the caller then resets what it measures per episode). */
export function chargeSample(s: ChargeEpisode, t: number): boolean {
  const fresh = t - s.lastCharging > CHARGE_EPISODE_GAP_MS;
  if (fresh) s.episodeStart = t;
  s.lastCharging = t;
  return fresh;
}
