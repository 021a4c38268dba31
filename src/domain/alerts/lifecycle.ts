/**
 * The alert lifecycle of one cell: for each kind, ok / warning / critical, with hysteresis (an alert
 * raised at `warn` clears only once the value is below `warn × resetFraction`) and flapping suppression
 * (a downgrade must hold for `clearDwell_ms` of time before it is emitted; an upgrade is emitted at once).
 * Only state changes come out (incidents.ts makes incidents of them). The state is plain data, so it is
 * snapshotted with the cell.
 */

export type AlertKind = 'pressure_drop' | 'ddpq_decline' | 'soft_short' | 'voltage_noise' | 'voltage_stall' | 'hard_short' | 'silence';
export type AlertLevel = 'ok' | 'warning' | 'critical';
export const ALERT_KINDS: readonly AlertKind[] = ['pressure_drop', 'ddpq_decline', 'soft_short', 'voltage_noise', 'voltage_stall', 'hard_short', 'silence'];

/** What a detector measured: `value` grows with severity; thresholds in the same unit. */
export interface Signal {
  readonly kind: AlertKind;
  /** Time of the measurement (event time; processing time for silence), epoch ms. */
  readonly t: number;
  readonly value: number;
  readonly warn: number;
  readonly crit: number;
  /** Unit of value and thresholds, for messages (e.g. 'kPa'). */
  readonly unit: string;
  /** What the detector saw, in words. */
  /** What the detector saw, in words; a function when it is costly to build (most signals change nothing). */
  readonly detail: string | (() => string);
  /** Extra numbers worth keeping with the alert (written as fields); a function when costly to build. */
  readonly extra?: Readonly<Record<string, number>> | (() => Readonly<Record<string, number>>);
}

/**
 * A per-sample detector's measurement (voltage noise; hard short and voltage stall have classes of their own
 * that make their words only when asked for): a class, not an object literal. A literal's fields take the representation of its first values; once a later one generalizes
 * them, V8 went on creating every literal from the old (deprecated) map and migrating each on its first
 * read: 7.8 % of `oep process`'s CPU on a 10-column export (perf), for the ~900,000 signals of its charges.
 */
export class Measurement implements Signal {
  constructor(
    readonly kind: AlertKind,
    readonly t: number,
    readonly value: number,
    readonly warn: number,
    readonly crit: number,
    readonly unit: string,
    readonly detail: string | (() => string),
    readonly extra: Readonly<Record<string, number>> | (() => Readonly<Record<string, number>>),
  ) {}
}

/** A change of one kind's level (the lifecycle's output; incidents.ts turns changes into incident events). */
export interface LevelChange {
  readonly cell: string;
  readonly kind: AlertKind;
  readonly level: AlertLevel;
  readonly previous: AlertLevel;
  readonly t: number;
  readonly value: number;
  readonly threshold: number;
  readonly unit: string;
  readonly message: string;
  readonly extra?: Readonly<Record<string, number>>;
}

export interface LifecycleSettings {
  /** Fraction of a trigger level the value must fall below to clear that level (hysteresis). */
  readonly resetFraction: number;
  /** A downgrade must persist this long before it is emitted, ms. */
  readonly clearDwell_ms: number;
}

export const DEFAULT_RESET_FRACTION = 0.5;
export const DEFAULT_CLEAR_DWELL_MS = 120_000;

interface KindState {
  level: AlertLevel;
  since: number;
  /** When the value first allowed a lower level, while that lasts. */
  lowerSince: number | null;
  lowerTo: AlertLevel;
}

export interface AlertBook {
  readonly cell: string;
  readonly kinds: Partial<Record<AlertKind, KindState>>;
  /** Downgrades that did not last the dwell time (flaps held back). */
  flapsSuppressed: number;
  raised: number;
}

export function newAlertBook(cell: string): AlertBook {
  return { cell, kinds: {}, flapsSuppressed: 0, raised: 0 };
}

/** Severity order of the levels; also the level codes written as `oep_alert` fields and health metrics. */
export const LEVEL_RANK: Readonly<Record<AlertLevel, number>> = { ok: 0, warning: 1, critical: 2 };
const RANK = LEVEL_RANK;

/** The level a value calls for, given the current level (hysteresis: clearing needs the reset level). */
function target(current: AlertLevel, s: Signal, reset: number): AlertLevel {
  if (s.value >= s.crit) return 'critical';
  if (current === 'critical' && s.value >= s.crit * reset) return 'critical';
  if (s.value >= s.warn) return 'warning';
  if (current !== 'ok' && s.value >= s.warn * reset) return 'warning';
  return 'ok';
}

/** Applies one measurement; returns the state change it causes, if any. */
export function applySignal(book: AlertBook, s: Signal, settings: LifecycleSettings): LevelChange | undefined {
  const st = (book.kinds[s.kind] ??= { level: 'ok', since: s.t, lowerSince: null, lowerTo: 'ok' });
  const want = target(st.level, s, settings.resetFraction);
  if (RANK[want] > RANK[st.level]) {
    st.lowerSince = null;
    book.raised++;
    return change(book, st, s, want);
  }
  if (RANK[want] === RANK[st.level]) {
    if (st.lowerSince !== null) book.flapsSuppressed++;
    st.lowerSince = null;
    return undefined;
  }
  // A downgrade: only once it has lasted the dwell time.
  if (st.lowerSince === null || RANK[want] > RANK[st.lowerTo]) {
    st.lowerSince ??= s.t;
    st.lowerTo = want;
  }
  if (s.t - st.lowerSince >= settings.clearDwell_ms) {
    const to = st.lowerTo;
    st.lowerSince = null;
    return change(book, st, s, to);
  }
  return undefined;
}

function change(book: AlertBook, st: KindState, s: Signal, to: AlertLevel): LevelChange {
  const previous = st.level;
  st.level = to;
  st.since = s.t;
  const threshold = to === 'critical' ? s.crit : s.warn;
  const detail = typeof s.detail === 'function' ? s.detail() : s.detail;
  const extra = typeof s.extra === 'function' ? s.extra() : s.extra;
  const message =
    to === 'ok'
      ? `${s.kind} cleared: ${detail}`
      : RANK[to] < RANK[previous]
        ? `${s.kind} eased to ${to}: ${detail}`
        : `${s.kind} ${to}: ${detail} (${fmt(s.value)} ${s.unit} ≥ ${fmt(threshold)} ${s.unit})`;
  return { cell: book.cell, kind: s.kind, level: to, previous, t: s.t, value: s.value, threshold, unit: s.unit, message, ...(extra ? { extra } : {}) };
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3));

/** Current level of every kind that has ever been evaluated. */
export function levels(book: AlertBook): Partial<Record<AlertKind, AlertLevel>> {
  const out: Partial<Record<AlertKind, AlertLevel>> = {};
  for (const k of ALERT_KINDS) {
    const st = book.kinds[k];
    if (st !== undefined) out[k] = st.level;
  }
  return out;
}

/** The worst level over all kinds. */
export function worst(book: AlertBook): AlertLevel {
  let w: AlertLevel = 'ok';
  for (const st of Object.values(book.kinds)) if (RANK[st.level] > RANK[w]) w = st.level;
  return w;
}
