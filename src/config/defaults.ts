/**
 * The config's named defaults (each with its unit) and its error, without the schema (no zod): what
 * `oep process` needs at start-up when it is given no config file. schema.ts re-exports all of it.
 */
import { MOLD_13MM_AREA_MM2 } from '../domain/units.js';

export const DEFAULT_MQTT_URL = 'mqtt://127.0.0.1:1883';
export const DEFAULT_TOPIC_PREFIX = 'oep';
export const DEFAULT_CLIENT_ID = 'oep-daemon';
/** Deadband when neither restCurrent_mA nor nominalCurrent_mA is set, mA. */
export const DEFAULT_REST_CURRENT_MA = 0.005;
/** Deadband as a fraction of the nominal current, when nominalCurrent_mA is set. */
export const DEFAULT_REST_FRACTION_OF_NOMINAL = 0.02;
export const DEFAULT_FORMATION_CYCLES = 3;
export const DEFAULT_INFLUX_BATCH_SIZE = 5_000;
export const DEFAULT_INFLUX_FLUSH_INTERVAL_MS = 1_000;
export const DEFAULT_INFLUX_MAX_BUFFER_LINES = 1_000_000;
export const DEFAULT_INFLUX_MAX_RETRIES = 1_000_000;
/** Most bytes of line protocol waiting on disk for InfluxDB (the daemon's outbox); past it the oldest are dropped, counted. */
export const DEFAULT_INFLUX_OUTBOX_MAX_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_STATE_INTERVAL_S = 30;
/**
 * The journal past which a checkpoint is taken early (it then starts empty again), bytes, unless the config
 * sets `state.maxJournalBytes`: 64 MiB or {@link JOURNAL_BYTES_PER_CELL} a cell holding state, the larger, at
 * most {@link MAX_AUTO_JOURNAL_BYTES}.
 */
export const DEFAULT_MAX_JOURNAL_BYTES = 64 * 1024 * 1024;
/**
 * A checkpoint re-encodes every cell that changed, so its cost grows with the cells while the journal's bound
 * held the readings between two of them fixed: at 10,000 cells, a full checkpoint per 64 MiB of journal was
 * the largest part of the daemon's CPU above the bare subscriber's. 16 KiB a cell keeps the replay after a
 * crash within a few seconds of the state's own restore (10,000 cells: 164 MB).
 */
export const JOURNAL_BYTES_PER_CELL = 16 * 1024;
/** The largest journal bound the daemon chooses by itself (1 GiB, as PostgreSQL's max_wal_size). */
export const MAX_AUTO_JOURNAL_BYTES = 1024 * 1024 * 1024;

/** The journal size past which a checkpoint is taken early: `configured`, else by the cells holding state (see above). */
export function journalBound(configured: number | undefined, cells: number): number {
  return configured ?? Math.min(MAX_AUTO_JOURNAL_BYTES, Math.max(DEFAULT_MAX_JOURNAL_BYTES, JOURNAL_BYTES_PER_CELL * cells));
}
/** Least time between the starts of two fdatasyncs of the journal while messages keep coming (a sync starts at once when input goes quiet), ms. */
export const DEFAULT_JOURNAL_COMMIT_MS = 10;
/** Readings stamped more than this ahead of the arrival clock are rejected (a wrong device clock), ms. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 24 * 3_600_000;
export const DEFAULT_ELECTRODE_AREA_MM2 = MOLD_13MM_AREA_MM2;
/** The health/metrics HTTP server listens on localhost only, unless configured otherwise. */
export const DEFAULT_HEALTH_HOST = '127.0.0.1';
export const DEFAULT_HEALTH_PORT = 9464;

/** Most cells the config does not name that hold state at once (see `edge.maxUnknownCells`). */
export const DEFAULT_MAX_UNKNOWN_CELLS = 256;
/** An unknown cell that closed no step is forgotten after this long without a message, s. */
export const DEFAULT_EVICT_IDLE_S = 600;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
