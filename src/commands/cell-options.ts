/**
 * `oep process`'s per-cell options (`--active-mass-g`, …) and the cell they make without a config file,
 * checked without the config's schema: zod takes ~0.15 s of CPU to load, a tenth of processing a
 * 10-column export of a million rows. Each option's check is the schema's constraint for its key
 * (src/config/schema.ts, `cellFields`); a value it does not pass (or a cell id the schema would refuse)
 * goes through the schema instead (cell-config.ts), so every message is the schema's. A test checks the
 * cell made here against the schema's for the same options.
 */
import { resolveCell, type CellSources, type ResolvedCell } from '../config/cell-setup.js';
import { DEFAULT_MAX_FUTURE_SKEW_MS } from '../config/defaults.js';
import { DEFAULT_DEDUP_DEPTH, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_LATENESS_MS, DEFAULT_MAX_BUFFERED } from '../domain/align.js';

const positive = (n: number): boolean => Number.isFinite(n) && n > 0;
const nonnegative = (n: number): boolean => Number.isFinite(n) && n >= 0;
const count = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
const ordinal = (n: number): boolean => Number.isSafeInteger(n) && n > 0;
const oneOf =
  (...allowed: string[]) =>
  (s: string): boolean =>
    allowed.includes(s);

/** Per-cell settings from the command line: the config key, the value's type, and the schema's constraint on it. */
export const CELL_OPTIONS = {
  'area-mm2': ['areaMm2', 'number', positive],
  'active-mass-g': ['activeMassG', 'number', positive],
  'electrode-area-mm2': ['electrodeAreaMm2', 'number', positive],
  normalization: ['normalization', 'string', oneOf('mass', 'areal')],
  'current-sign': ['currentSign', 'string', oneOf('charge-positive', 'discharge-positive')],
  'nominal-current-ma': ['nominalCurrent_mA', 'number', positive],
  'rest-current-ma': ['restCurrent_mA', 'number', nonnegative],
  'min-step-s': ['minStepDuration_s', 'number', nonnegative],
  'current-max-gap-s': ['currentMaxGap_s', 'number', positive],
  'pressure-max-gap-s': ['pressureMaxGap_s', 'number', positive],
  'first-half': ['firstHalf', 'string', oneOf('charge', 'discharge')],
  'cycle-source': ['cycleSource', 'string', oneOf('auto', 'derived', 'cycler')],
  'formation-cycles': ['formationCycles', 'number', count],
  'ref-cycle': ['refCycle', 'number', ordinal],
  'dpdq-grid-mah': ['dpdqGrid_mAh', 'number', nonnegative],
} as const;

export type CellOption = keyof typeof CELL_OPTIONS;
export type CellOptionValues = Partial<Record<CellOption, string | undefined>>;

/** The command line's settings as config values (numbers converted), by config key, in CELL_OPTIONS's order. */
export function cellOverrides(values: CellOptionValues): Record<string, unknown> {
  const over: Record<string, unknown> = {};
  for (const [opt, [key, type]] of Object.entries(CELL_OPTIONS)) {
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- Object.entries widens the keys of CELL_OPTIONS to string
    const v = values[opt as CellOption];
    if (v === undefined) continue;
    over[key] = type === 'number' ? Number(v) : v;
  }
  return over;
}

/** A cell id the schema takes: 1-128 characters, none of / + # or a control character (as at the edge). */
// eslint-disable-next-line no-control-regex -- control characters are refused, as the schema does
const CELL_ID = /^[^/+#\u0000-\u001f\u007f-\u009f]+$/;

/** The config's alignment section with nothing set (the schema's defaults). */
const DEFAULT_ALIGNMENT: CellSources['alignment'] = {
  lateness_ms: DEFAULT_LATENESS_MS,
  idleTimeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
  dedupDepth: DEFAULT_DEDUP_DEPTH,
  maxBuffered: DEFAULT_MAX_BUFFERED,
  maxFutureSkew_ms: DEFAULT_MAX_FUTURE_SKEW_MS,
};

/**
 * The cell `cell` with the command line's settings over no config file, as `resolveCell` makes it from the
 * schema's parse of the same; undefined when a value (or the id) does not pass its check: the caller then
 * goes through the schema, which says what is wrong.
 */
export function quickCellSetup(cell: string, values: CellOptionValues): ResolvedCell | undefined {
  if (cell.length === 0 || cell.length > 128 || !CELL_ID.test(cell)) return undefined;
  for (const [opt, [, type, check]] of Object.entries(CELL_OPTIONS)) {
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- Object.entries widens the keys of CELL_OPTIONS to string
    const v = values[opt as CellOption];
    if (v === undefined) continue;
    const ok = type === 'number' ? check(Number(v)) : check(v);
    if (!ok) return undefined;
  }
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- every value passed its key's constraint in the schema just above (test/unit/process.test.ts compares with the schema's cell)
  const entry = { id: cell, ...cellOverrides(values) } as CellSources['cells'][number];
  return resolveCell({ cells: [entry], defaults: {}, alignment: DEFAULT_ALIGNMENT, alerts: {} }, cell);
}
