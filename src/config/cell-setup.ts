/**
 * One cell's settings resolved from its config entry over the defaults (`resolveCell`), without the
 * schema (no zod at run time: the config's types only): `oep process` without a config file builds its
 * cell from the command line alone (src/commands/cell-options.ts) and never loads zod.
 */
import type { AlignerSettings } from '../domain/align.js';
import type { CellProcessorSettings } from '../domain/cell-processor.js';
import {
  DEFAULT_CURRENT_MAX_GAP_MS,
  DEFAULT_DPDQ_GRID_MAH,
  DEFAULT_MAX_CURVE_POINTS,
  DEFAULT_MIN_STEP_DURATION_MS,
  DEFAULT_PRESSURE_MAX_GAP_MS,
} from '../domain/cell-processor.js';
import type { CellAlertSetup } from '../domain/lab.js';
import { MOLD_13MM_AREA_MM2 } from '../domain/units.js';
import type { CellIngestSettings } from '../ingest/canonical.js';
import { resolveAlerts } from './alerts-resolve.js';
import { DEFAULT_FORMATION_CYCLES, DEFAULT_REST_CURRENT_MA, DEFAULT_REST_FRACTION_OF_NOMINAL } from './defaults.js';
import type { CellConfig, OepConfig } from './schema.js';

/** Everything the pipeline needs to know about one cell, resolved from its entry over the defaults. */
export interface ResolvedCell {
  readonly id: string;
  /** Which capacity feeds Δ(ΔP_Q) in recorded files that carry the cycler's counters (default: oep's integral). */
  readonly capacitySource: 'integral' | 'cycler';
  readonly ingest: CellIngestSettings;
  readonly aligner: AlignerSettings;
  readonly processor: CellProcessorSettings;
  readonly alerts: CellAlertSetup | undefined;
}

type CellEntry = OepConfig['cells'][number];
/**
 * A config's cell entries by id, the first of each id (what a scan in order finds), built once per `cells`
 * array: a lab of 10,000 named cells scanned the list for each cell it met (3.2 s of a 10,000-cell bench
 * run). Built again if the array's length changed (a test that adds entries after a lookup).
 */
const entriesById = new WeakMap<readonly CellEntry[], { readonly length: number; readonly byId: Map<string, CellEntry> }>();

function cellEntry(config: CellSources, id: string): CellEntry | undefined {
  let index = entriesById.get(config.cells);
  if (index?.length !== config.cells.length) {
    const byId = new Map<string, CellEntry>();
    for (const c of config.cells) if (!byId.has(c.id)) byId.set(c.id, c);
    entriesById.set(config.cells, (index = { length: config.cells.length, byId }));
  }
  return index.byId.get(id);
}

/** The parts of a config one cell's settings come from (a whole `OepConfig`, or what `oep process` builds from its command line). */
export type CellSources = Pick<OepConfig, 'cells' | 'defaults' | 'alignment' | 'alerts'>;

export function resolveCell(config: CellSources, id: string): ResolvedCell {
  const entry = cellEntry(config, id);
  const c: CellConfig = { ...config.defaults, ...(entry ?? {}) };
  const areaMm2 = c.areaMm2 ?? MOLD_13MM_AREA_MM2;
  const electrodeArea_cm2 = (c.electrodeAreaMm2 ?? areaMm2) / 100;
  const normalization =
    (c.normalization ?? (c.activeMassG !== undefined ? 'mass' : 'areal')) === 'mass' && c.activeMassG !== undefined
      ? ({ kind: 'mass', activeMass_g: c.activeMassG } as const)
      : ({ kind: 'areal', electrodeArea_cm2 } as const);
  const restCurrent_mA =
    c.restCurrent_mA ?? (c.nominalCurrent_mA !== undefined ? c.nominalCurrent_mA * DEFAULT_REST_FRACTION_OF_NOMINAL : DEFAULT_REST_CURRENT_MA);
  const formation = c.formationCycles ?? DEFAULT_FORMATION_CYCLES;
  const a = config.alignment;
  const alerts = resolveAlerts(config.alerts, { ...(config.defaults.alerts ?? {}), ...(entry?.alerts ?? {}) }, areaMm2);
  return Object.freeze({
    id,
    capacitySource: c.capacitySource ?? 'integral',
    ingest: Object.freeze({
      areaMm2,
      currentSign: c.currentSign === 'discharge-positive' ? -1 : 1,
      defaultPressureUnit: c.pressureUnit ?? 'MPa',
      defaultCurrentUnit: c.currentUnit ?? 'mA',
      defaultVoltageUnit: c.voltageUnit ?? 'V',
    }),
    aligner: Object.freeze({
      lateness_ms: a.lateness_ms,
      idleTimeout_ms: a.idleTimeout_ms,
      dedupDepth: a.dedupDepth,
      maxBuffered: a.maxBuffered,
    }),
    processor: Object.freeze({
      cell: id,
      restCurrent_mA,
      minStepDuration_ms: (c.minStepDuration_s ?? DEFAULT_MIN_STEP_DURATION_MS / 1000) * 1000,
      currentMaxGap_ms: (c.currentMaxGap_s ?? DEFAULT_CURRENT_MAX_GAP_MS / 1000) * 1000,
      currentSampling: c.currentSampling ?? 'on-change',
      pressureMaxGap_ms: (c.pressureMaxGap_s ?? DEFAULT_PRESSURE_MAX_GAP_MS / 1000) * 1000,
      firstHalf: c.firstHalf ?? 'charge',
      cycleSource: c.cycleSource ?? 'auto',
      normalization,
      refCycle: c.refCycle ?? formation + 1,
      dpdqGrid_mAh: c.dpdqGrid_mAh ?? DEFAULT_DPDQ_GRID_MAH,
      maxCurvePoints: DEFAULT_MAX_CURVE_POINTS,
      detectors: alerts.processor,
    }),
    alerts: alerts.cell,
  });
}
