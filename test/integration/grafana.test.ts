/**
 * The Grafana provisioning under config/grafana, verified for real:
 *  - realistic pipeline output (the simulator's NCM|LPSCl|Li cells → `Lab` → `eventLines`, with the alerts the
 *    detectors raise) and a few hand-made alert events (written with line-protocol.ts's `alertLine`, the one place
 *    that spells oep_alert's names) go into a real InfluxDB 1.x started by the test;
 *  - every query of every panel, template variable and annotation is interpolated the way Grafana does it
 *    (test/support/grafana.ts) and sent the way the provisioned data source sends it; the answer must have the
 *    series, tags and columns the panel expects, with data, and the values must be the pipeline's own numbers;
 *  - the transformations, overrides and panel options must name fields the queries really produce;
 *  - the dashboard JSON is checked against Grafana's schema types from `@grafana/schema`, at compile time (JSON
 *    modules, widened) and by compiling each JSON text as a literal (exact: enums, misspelled keys).
 */
import { MappingType, type ValueMapping } from '@grafana/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertLine, eventLines, LEVEL_CODE } from '../../src/adapters/line-protocol.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import type { AlertEvent } from '../../src/domain/alerts/incidents.js';
import type { AlertKind, AlertLevel } from '../../src/domain/alerts/lifecycle.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import type { CycleRecord, Reading, StepRecord } from '../../src/domain/types.js';
import { pressureToMPa } from '../../src/domain/units.js';
import { demoCells } from '../../src/sim/scenarios.js';
import { simulateCells, type SimReading } from '../../src/sim/simulator.js';
import cellViewJson from '../../config/grafana/provisioning/dashboards/oep/oep-cell.json' with { type: 'json' };
import trendsJson from '../../config/grafana/provisioning/dashboards/oep/oep-cycle-trends.json' with { type: 'json' };
import overviewJson from '../../config/grafana/provisioning/dashboards/oep/oep-lab-overview.json' with { type: 'json' };
import {
  datasourceQuery,
  escapeRegex,
  expandServerMacros,
  formatInterval,
  interpolateVariables,
  loadDashboardProviders,
  loadDashboards,
  loadDatasources,
  panelsOf,
  renderQuery,
  roundInterval,
  toAnnotationEvents,
  toFrames,
  variableOptions,
  type DashboardFile,
  type Frame,
  type InfluxSeries,
  type ProvisionedDatasource,
  type QueryContext,
  type TimeRange,
  type VariableValue,
} from '../support/grafana.js';
import { typecheckDashboardJson, type OepDashboard, type Widen } from '../support/grafana-schema.js';
import type { InfluxQLTarget, OepPanel } from '../support/grafana-types.js';
import { startInfluxDB1, type Influx1Handle } from '../support/services.js';
import { incidentEvent } from '../support/alert-event.js';

// Compile time: the JSON modules fit Grafana's dashboard types (widened, as TypeScript types JSON modules).
const STATICALLY_CHECKED = [overviewJson, cellViewJson, trendsJson] satisfies Widen<OepDashboard>[];

// ---------------------------------------------------------------------------------------------------------
// The lab: the demo's first four cells (MgF2 healthy in MPa; LiF penetrating from cycle 2 in kgf; Mg healthy in kgf
// with skewed clocks; LiF healthy, configured like the example config's symmetric Li|Li cell: no active mass, so its
// Δ(ΔP_Q), drift and capacity are areal), 14 cycles (3 formation at 0.1C, then 0.3C): about six days of event time. Sampling is slower
// than the demo's (0.5 Hz pressure, 0.2 Hz current and voltage) to keep the test fast; the metrics do not depend on
// the rate (test/unit/metrics.property.test.ts).

const START = Date.UTC(2026, 0, 5, 8, 0, 0);
const CYCLES = 14;
const SEED = 20240101;
const DB = 'oep';
const SPECS = demoCells(4).map((s) => ({ ...s, pressureRate_Hz: 0.5, currentRate_Hz: 0.2, voltageRate_Hz: 0.2 }));
const CELLS = SPECS.map((s) => s.id);
/** The areal-normalized cell (the others are mass-normalized). */
const AREAL_CELL = 'cell-04';
type Norm = 'mass' | 'areal';
const normOf = (cell: string): Norm => (cell === AREAL_CELL ? 'areal' : 'mass');

interface PipelineOutput {
  readonly steps: StepRecord[];
  readonly cycles: CycleRecord[];
  readonly alerts: AlertEvent[];
  readonly lines: string[];
  readonly last: number;
}

function toReading(r: SimReading, area_mm2: number): Reading {
  const value = r.channel === 'pressure' ? pressureToMPa(r.value, r.unit === 'kgf' ? 'kgf' : 'MPa', area_mm2) : r.value;
  return { cell: r.cell, channel: r.channel, ts: r.ts, value };
}

function runPipeline(): PipelineOutput {
  const config = parseConfig({
    alignment: { maxFutureSkew_ms: 0 },
    defaults: { formationCycles: 3 },
    cells: SPECS.map((s) => ({
      id: s.id,
      ...(s.id === AREAL_CELL ? { electrodeAreaMm2: 113.1 } : { activeMassG: s.activeMass_g }),
      areaMm2: s.area_mm2,
      nominalCurrent_mA: s.nominalCapacity_mAh * 0.1,
    })),
  });
  const lab = new Lab((id) => resolveCell(config, id));
  const area = new Map(SPECS.map((s) => [s.id, s.area_mm2]));
  const events: LabEvent[] = [];
  for (const r of simulateCells(SPECS, { startTs: START, seed: SEED, cycles: CYCLES })) {
    lab.ingest(r.cell, [toReading(r, area.get(r.cell) ?? NaN)], r.ts, events);
  }
  lab.finish(events);
  const steps = events.flatMap((e) => (e.type === 'step' ? [e.record] : []));
  const cycles = events.flatMap((e) => (e.type === 'cycle' ? [e.record] : []));
  const alerts = events.flatMap((e) => (e.type === 'alert' ? [e.alert] : []));
  const lines = eventLines(events, true);
  const last = Math.max(...steps.map((s) => s.tEnd), ...cycles.map((c) => c.tEnd));
  return { steps, cycles, alerts, lines, last };
}

// ---------------------------------------------------------------------------------------------------------
// Alerts. The detectors raise pressure_drop alerts on the penetrating cell (cell-02) in this run; these hand-made state
// changes add the kinds and levels the run does not reach (an open critical, an open warning, a cleared silence) so
// that every alert panel has something to show. They are written with alertLine, like the daemon's own.

function handMadeAlerts(cycles: readonly CycleRecord[]): AlertEvent[] {
  const end = (cell: string, n: number): number => {
    const c = cycles.find((y) => y.cell === cell && y.cycle === n);
    if (c === undefined) throw new Error(`no cycle ${n} for ${cell}`);
    return c.tEnd;
  };
  const ev = (
    cell: string,
    kind: AlertKind,
    previous: AlertLevel,
    level: AlertLevel,
    t: number,
    value: number,
    threshold: number,
    unit: string,
    message: string,
  ): AlertEvent =>
    incidentEvent({
      cell,
      kind,
      level,
      previous,
      t,
      value,
      threshold,
      unit,
      message,
    });
  return [
    ev('cell-01', 'silence', 'ok', 'warning', end('cell-01', 6) + 60_000, 125, 120, 's', 'silence warning: no pressure reading for 125 s (125 s ≥ 120 s)'),
    ev('cell-01', 'silence', 'warning', 'ok', end('cell-01', 6) + 180_000, 0, 120, 's', 'silence cleared: pressure readings are back'),
    ev('cell-04', 'silence', 'ok', 'warning', end('cell-04', 8) + 60_000, 130, 120, 's', 'silence warning: no current reading for 130 s (130 s ≥ 120 s)'),
    ev('cell-04', 'silence', 'warning', 'ok', end('cell-04', 8) + 240_000, 0, 120, 's', 'silence cleared: current readings are back'),
    ev(
      'cell-02',
      'ddpq_decline',
      'ok',
      'warning',
      end('cell-02', 10) + 1000,
      8.1,
      6,
      '%',
      'ddpq_decline warning: Δ(ΔP_Q) 8.1 % below the reference cycle (8.1 % ≥ 6 %)',
    ),
    ev(
      'cell-02',
      'ddpq_decline',
      'warning',
      'critical',
      end('cell-02', 13) + 1000,
      14.2,
      12,
      '%',
      'ddpq_decline critical: Δ(ΔP_Q) 14.2 % below the reference cycle (14.2 % ≥ 12 %)',
    ),
    ev(
      'cell-03',
      'soft_short',
      'ok',
      'warning',
      end('cell-03', 12) + 1000,
      0.6,
      0.5,
      '%',
      'soft_short warning: CE off, "charge capacity growing" (0.6 % ≥ 0.5 %)',
    ),
  ];
}

/** An alert as it reads back from InfluxDB (line-protocol.ts writes whole milliseconds). */
interface AlertPoint {
  readonly cell: string;
  readonly kind: string;
  readonly level: AlertLevel;
  readonly message: string;
  readonly value: number;
  readonly threshold: number;
  readonly ts: number;
}

const asPoint = (a: AlertEvent): AlertPoint => ({
  cell: a.cell,
  kind: a.kind,
  level: a.level,
  message: a.message,
  value: a.value,
  threshold: a.threshold,
  ts: Math.round(a.t),
});

/** Per cell, the latest level of each kind at `upTo`, and the latest event. */
function alertState(points: readonly AlertPoint[], cell: string, upTo: number): { byKind: Map<string, AlertLevel>; latest: AlertPoint | undefined } {
  const mine = points.filter((a) => a.cell === cell && a.ts <= upTo).sort((a, b) => a.ts - b.ts);
  return { byKind: new Map(mine.map((a) => [a.kind, a.level])), latest: mine.at(-1) };
}

// ---------------------------------------------------------------------------------------------------------
// What each panel's queries must answer. Keyed `<dashboard uid>/<panel id>/<refId>`; every target of every panel must
// have an entry (and every entry a target), so a new panel cannot go untested.
//   columns: the non-time columns InfluxDB answers (exact set), each with at least one non-null value
//   tags: the GROUP BY tag keys of the series (exact set)
//   cells: 'selected' = the answer covers exactly the selected cells; 'subset' = only selected cells (e.g. alerts)
//   norm: the query's values exist for cells of this normalization only: 'selected' then means the selected cells
//     of that normalization, and with none selected the answer must be empty
// A column of one normalization's fields (by its name, see columnNorm) must have data when a selected cell has that
// normalization, and none otherwise.

interface Expectation {
  readonly columns: readonly string[];
  readonly tags: readonly string[];
  readonly cells: 'selected' | 'subset' | 'n/a';
  readonly norm?: Norm;
}

/** The normalization a column's values belong to, from oep's field names (undefined: every cell has it). */
function columnNorm(e: Expectation, column: string): Norm | undefined {
  if (e.norm !== undefined && column !== 'cycle') return e.norm;
  if (/(_g_per_Ah|_mAh_g)$/.test(column)) return 'mass';
  if (/(_cm2_per_mAh|_mAh_cm2)$/.test(column)) return 'areal';
  return undefined;
}

const EXPECT: Readonly<Record<string, Expectation>> = {
  'oep-lab-overview/1/A': {
    columns: [
      'cycle',
      'ddp_q_MPa_g_per_Ah',
      'drift_MPa_g_per_Ah',
      'ddp_q_MPa_cm2_per_mAh',
      'drift_MPa_cm2_per_mAh',
      'ce',
      'q_discharge_mAh_g',
      'q_discharge_mAh_cm2',
    ],
    tags: ['cell'],
    cells: 'selected',
  },
  'oep-lab-overview/1/B': { columns: ['last_alert', 'last_level', 'last_kind'], tags: ['cell'], cells: 'subset' },
  'oep-lab-overview/1/C': { columns: ['alert_state'], tags: ['cell'], cells: 'subset' },
  'oep-lab-overview/1/D': { columns: ['kinds_alerting'], tags: ['cell'], cells: 'subset' },
  'oep-lab-overview/2/A': { columns: ['last'], tags: ['cell'], cells: 'selected', norm: 'mass' },
  'oep-lab-overview/2/B': { columns: ['last'], tags: ['cell'], cells: 'selected', norm: 'areal' },
  'oep-lab-overview/3/A': { columns: ['last'], tags: ['cell'], cells: 'selected', norm: 'mass' },
  'oep-lab-overview/3/B': { columns: ['last'], tags: ['cell'], cells: 'selected', norm: 'areal' },
  'oep-lab-overview/4/A': { columns: ['last'], tags: ['cell'], cells: 'selected' },
  'oep-lab-overview/5/A': { columns: ['mean'], tags: ['cell'], cells: 'selected', norm: 'mass' },
  'oep-lab-overview/5/B': { columns: ['mean'], tags: ['cell'], cells: 'selected', norm: 'areal' },
  'oep-lab-overview/6/A': { columns: ['message', 'value', 'threshold', 'level', 'kind', 'cell'], tags: [], cells: 'subset' },
  'oep-lab-overview/7/A': { columns: ['max'], tags: ['cell'], cells: 'subset' },
  'oep-lab-overview/8/A': { columns: ['level_code'], tags: ['cell', 'kind'], cells: 'subset' },
  'oep-cell/1/A': { columns: ['cycle', 'ce', 'swing', 'p_irrev'], tags: [], cells: 'n/a' },
  'oep-cell/1/B': { columns: ['ddp_q', 'drift', 'q_dis'], tags: [], cells: 'n/a', norm: 'mass' },
  'oep-cell/1/C': { columns: ['ddp_q_areal', 'drift_areal', 'q_dis_areal'], tags: [], cells: 'n/a', norm: 'areal' },
  'oep-cell/7/A': { columns: ['last'], tags: ['kind'], cells: 'n/a' },
  'oep-cell/2/A': { columns: ['P at step end', 'P max in step', 'P min in step'], tags: [], cells: 'n/a' },
  'oep-cell/2/B': { columns: ['P on the dP/dQ grid'], tags: [], cells: 'n/a' },
  'oep-cell/2/C': { columns: ['I mean in step'], tags: [], cells: 'n/a' },
  'oep-cell/3/A': { columns: ['dp_MPa'], tags: ['kind'], cells: 'n/a' },
  'oep-cell/4/A': { columns: ['q_mAh', 'p_MPa'], tags: ['kind'], cells: 'n/a' },
  'oep-cell/5/A': { columns: ['q_mAh', 'dpdq_kPa_per_mAh'], tags: ['kind'], cells: 'n/a' },
  'oep-cell/6/A': {
    columns: ['cycle', 'step', 'kind', 'duration_s', 'q_mAh', 'p_start_MPa', 'p_end_MPa', 'dp_MPa', 'dpdq_kPa_per_mAh'],
    tags: [],
    cells: 'n/a',
  },
  'oep-cycle-trends/1/A': { columns: ['cycle', 'ddp_q_MPa_g_per_Ah'], tags: ['cell'], cells: 'selected' },
  'oep-cycle-trends/1/B': { columns: ['cycle', 'ddp_q_MPa_cm2_per_mAh'], tags: ['cell'], cells: 'selected' },
  'oep-cycle-trends/2/A': { columns: ['cycle', 'ce'], tags: ['cell'], cells: 'selected' },
  'oep-cycle-trends/3/A': { columns: ['cycle', 'drift_MPa_g_per_Ah'], tags: ['cell'], cells: 'selected' },
  'oep-cycle-trends/3/B': { columns: ['cycle', 'drift_MPa_cm2_per_mAh'], tags: ['cell'], cells: 'selected' },
  'oep-cycle-trends/4/A': { columns: ['cycle', 'q_discharge_mAh_g'], tags: ['cell'], cells: 'selected' },
  'oep-cycle-trends/4/B': { columns: ['cycle', 'q_discharge_mAh_cm2'], tags: ['cell'], cells: 'selected' },
  'oep-cycle-trends/5/A': { columns: ['cycle', 'ddp_MPa', 'swing_MPa'], tags: ['cell'], cells: 'selected' },
  'oep-cycle-trends/6/A': { columns: ['mean'], tags: ['cell'], cells: 'selected' },
};

// ---------------------------------------------------------------------------------------------------------
// Harness state

let influx: Influx1Handle | undefined;
let ds: ProvisionedDatasource;
let out: PipelineOutput;
let handMade: AlertEvent[];
let alerts: AlertPoint[];
let range: TimeRange;
let dashboards: DashboardFile[];

function db(): Influx1Handle {
  if (influx === undefined) throw new Error('InfluxDB did not start');
  return influx;
}

function dashboard(uid: string): OepDashboard {
  const d = dashboards.find((x) => x.dashboard.uid === uid);
  if (d === undefined) throw new Error(`no dashboard ${uid}`);
  return d.dashboard;
}

type DataPanel = Exclude<OepPanel, { type: 'row' }>;

function panel(uid: string, id: number): DataPanel {
  const p = panelsOf(dashboard(uid)).find((x) => x.id === id);
  if (p === undefined) throw new Error(`no panel ${id} in ${uid}`);
  return p;
}

function target(p: DataPanel, refId: string): InfluxQLTarget {
  const t = p.targets.find((x) => x.refId === refId);
  if (t === undefined) throw new Error(`no target ${refId} in panel ${String(p.id)}`);
  return t;
}

/**
 * Selections to run each dashboard with: every option of multi-value variables (Grafana's "All"), then one
 * mass-normalized cell, then the areal-normalized one.
 */
type Scenario = 'all' | 'one' | 'areal';
const ONE_CELL = 'cell-02';
const SCENARIO_CELL = { one: ONE_CELL, areal: AREAL_CELL } as const;

/** Resolves the dashboard's variables in order, running each variable's own query like Grafana does. */
async function resolveVariables(d: OepDashboard, scenario: Scenario, maxDataPoints: number): Promise<{ ctx: QueryContext; options: Record<string, string[]> }> {
  const variables: Record<string, VariableValue> = {};
  const options: Record<string, string[]> = {};
  for (const v of d.templating.list) {
    if (v.type !== 'query' || typeof v.query !== 'string') throw new Error(`variable ${v.name}: only InfluxQL query variables are expected`);
    const ctx: QueryContext = { range, maxDataPoints, variables: { ...variables } };
    const series = await datasourceQuery(ds, renderQuery(v.query, ctx));
    const opts = variableOptions(v.query, series, typeof v.sort === 'number' ? v.sort : 0);
    options[v.name] = opts;
    const multi = v.multi === true;
    let value: string | string[];
    if (multi) value = scenario === 'all' ? opts : opts.filter((o) => o === SCENARIO_CELL[scenario]);
    else value = v.name === 'cell' && scenario !== 'all' ? SCENARIO_CELL[scenario] : (opts[0] ?? '');
    variables[v.name] = { value, multi };
  }
  return { ctx: { range, maxDataPoints, variables }, options };
}

function selectedCells(ctx: QueryContext): string[] {
  const v = ctx.variables.cell;
  if (v === undefined) return [];
  return typeof v.value === 'string' ? [v.value] : [...v.value];
}

function cellsIn(series: readonly InfluxSeries[]): Set<string> {
  const cells = new Set<string>();
  for (const s of series) {
    const tag = s.tags?.cell;
    if (tag !== undefined) cells.add(tag);
    const i = s.columns.indexOf('cell');
    if (i >= 0) for (const row of s.values) if (typeof row[i] === 'string') cells.add(row[i]);
  }
  return cells;
}

async function runTarget(t: InfluxQLTarget, ctx: QueryContext): Promise<{ q: string; series: InfluxSeries[] }> {
  const q = renderQuery(t.query, ctx);
  return { q, series: await datasourceQuery(ds, q) };
}

function column(series: readonly InfluxSeries[], name: string): unknown[] {
  return series.flatMap((s) => {
    const i = s.columns.indexOf(name);
    if (i < 0) throw new Error(`no column ${name} in ${s.columns.join(', ')}`);
    return s.values.map((row) => row[i]);
  });
}

/** Rows of one series as objects keyed by column (plus its tags). */
function rows(series: readonly InfluxSeries[]): Record<string, unknown>[] {
  return series.flatMap((s) => s.values.map((row) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, row[i]])) })));
}

/** A record's time as written: line-protocol.ts rounds to the millisecond. */
const ms = (t: number): number => Math.round(t);

function inRange(ts: number): boolean {
  return ts >= range.from && ts <= range.to;
}

// ---------------------------------------------------------------------------------------------------------
// Checks of transformations, options and overrides against the frames a panel really gets

interface FieldSet {
  names: string[];
  types: Map<string, Frame['fields'][number]['type']>;
}

function fieldSets(frames: readonly Frame[]): FieldSet[] {
  return frames.map((f) => ({ names: f.fields.map((x) => x.name), types: new Map(f.fields.map((x) => [x.name, x.type])) }));
}

/**
 * Follows the panel's transformations symbolically (field names only) and reports every dangling reference. `absent`:
 * the columns of targets that rightly answered nothing (the other normalization's fields): an override may name them.
 */
function referenceProblems(p: DataPanel, frames: readonly Frame[], absent: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  let sets = fieldSets(frames);
  for (const tr of p.transformations ?? []) {
    const o = tr.options as Record<string, unknown>;
    if (tr.id === 'organize') {
      const exclude = (o.excludeByName ?? {}) as Record<string, boolean>;
      const rename = (o.renameByName ?? {}) as Record<string, string>;
      const index = (o.indexByName ?? {}) as Record<string, number>;
      const all = new Set(sets.flatMap((s) => s.names));
      for (const k of [...Object.keys(exclude), ...Object.keys(rename), ...Object.keys(index)]) {
        if (!all.has(k)) problems.push(`organize names ${k}, fields are ${[...all].join(', ')}`);
      }
      sets = sets.map((s) => {
        const names = s.names.filter((n) => exclude[n] !== true);
        return { names: names.map((n) => rename[n] ?? n), types: new Map(names.map((n) => [rename[n] ?? n, s.types.get(n) ?? 'null'])) };
      });
    } else if (tr.id === 'joinByField') {
      const by = String(o.byField);
      for (const s of sets) if (!s.names.includes(by)) problems.push(`joinByField ${by} missing from a frame with ${s.names.join(', ')}`);
      const names = [by, ...sets.flatMap((s) => s.names.filter((n) => n !== by))];
      const dup = names.filter((n, i) => names.indexOf(n) !== i);
      if (dup.length > 0) problems.push(`joinByField would rename duplicate fields ${dup.join(', ')}`);
      sets = [{ names, types: new Map(sets.flatMap((s) => [...s.types])) }];
    } else if (tr.id === 'partitionByValues') {
      const fields = o.fields as string[];
      for (const s of sets) for (const f of fields) if (!s.names.includes(f)) problems.push(`partitionByValues ${f} missing from ${s.names.join(', ')}`);
      if (o.keepFields !== true) sets = sets.map((s) => ({ names: s.names.filter((n) => !fields.includes(n)), types: s.types }));
    } else {
      problems.push(`transformation ${tr.id} is not followed by this test; teach referenceProblems about it`);
    }
  }
  const finalNames = new Set(sets.flatMap((s) => s.names));
  const numeric = (name: string): boolean => sets.every((s) => s.types.get(name) === 'number');
  if (p.type === 'trend') {
    const x = p.options.xField ?? '';
    if (!sets.every((s) => s.names.includes(x)) || !numeric(x)) problems.push(`trend xField ${x} is not a numeric field of every frame`);
  }
  if (p.type === 'xychart') {
    for (const series of p.options.series) {
      for (const m of [series.x?.matcher, series.y?.matcher]) {
        if (m?.id !== 'byName') {
          problems.push(`xychart matcher ${String(m?.id)} is not byName`);
          continue;
        }
        const name = String(m.options);
        if (!sets.every((s) => s.names.includes(name)) || !numeric(name)) problems.push(`xychart field ${name} is not a numeric field of every frame`);
      }
    }
  }
  if (p.type === 'table') {
    for (const s of p.options.sortBy ?? []) if (!finalNames.has(s.displayName)) problems.push(`table sortBy ${s.displayName} is not a field`);
  }
  const refIds = new Set(p.targets.map((t) => t.refId));
  for (const ov of p.fieldConfig.overrides) {
    const m = ov.matcher;
    if (m.id === 'byName' && !finalNames.has(String(m.options)) && !absent.has(String(m.options)))
      problems.push(`override byName ${String(m.options)}: fields are ${[...finalNames].join(', ')}`);
    else if (m.id === 'byFrameRefID' && !refIds.has(String(m.options))) problems.push(`override byFrameRefID ${String(m.options)} is not a target`);
    else if (m.id !== 'byName' && m.id !== 'byFrameRefID') problems.push(`override matcher ${m.id} is not followed by this test`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Names: every quoted identifier in a query must be a measurement, a field or tag of it, or an alias of the query.

let knownKeys: Map<string, Set<string>>;

async function loadKnownKeys(): Promise<Map<string, Set<string>>> {
  const keys = new Map<string, Set<string>>();
  for (const stmt of ['SHOW FIELD KEYS', 'SHOW TAG KEYS']) {
    const answer = (await db().query(DB, stmt)) as { results: { series?: InfluxSeries[] }[] };
    for (const s of answer.results[0]?.series ?? []) {
      const set = keys.get(s.name) ?? new Set<string>();
      for (const row of s.values) set.add(String(row[0]));
      keys.set(s.name, set);
    }
  }
  return keys;
}

function nameProblems(query: string): string[] {
  const problems: string[] = [];
  const measurements = [...query.matchAll(/FROM\s+"([^"]+)"/g)].map((m) => m[1] ?? '');
  if (measurements.length === 0 && !/FROM\s+\(/.test(query)) problems.push(`no FROM "measurement" in ${query}`);
  const aliases = new Set([...query.matchAll(/AS\s+"([^"]+)"/g)].map((m) => m[1] ?? ''));
  const allowed = new Set<string>([...measurements, ...aliases]);
  for (const m of measurements) {
    const keys = knownKeys.get(m);
    if (keys === undefined) problems.push(`measurement ${m} is not in the database`);
    else for (const k of keys) allowed.add(k);
  }
  for (const [, ident] of query.matchAll(/"([^"]+)"/g)) {
    if (ident !== undefined && !allowed.has(ident))
      problems.push(`"${ident}" is neither a measurement, a field or tag of ${measurements.join(', ')}, nor an alias`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  influx = await startInfluxDB1();
  out = runPipeline();
  handMade = handMadeAlerts(out.cycles);
  alerts = [...out.alerts, ...handMade].map(asPoint);
  await db().query('', `CREATE DATABASE ${DB}`);
  const all = [...out.lines, ...handMade.flatMap((a) => alertLine(a) ?? [])];
  for (let i = 0; i < all.length; i += 5000) await db().write(DB, all.slice(i, i + 5000));
  // The data source exactly as provisioned, with the environment Grafana would be started with. InfluxDB 1.x with
  // auth disabled ignores the `Authorization: Token ...` header that 2.x and 3.x need.
  const provisioned = loadDatasources({ OEP_INFLUX_URL: db().url, OEP_INFLUX_DB: DB, OEP_INFLUX_TOKEN: 'oep-reader:not-checked-by-1.x' });
  const influxDs = provisioned.find((d) => d.type === 'influxdb');
  if (influxDs === undefined) throw new Error('no InfluxDB data source provisioned');
  ds = influxDs;
  range = { from: START - 3_600_000, to: Math.ceil(out.last) + 3_600_000 };
  const providers = loadDashboardProviders();
  dashboards = providers.flatMap(loadDashboards);
  knownKeys = await loadKnownKeys();
}, 60_000);

afterAll(async () => {
  await influx?.stop();
});

describe('Grafana provisioning: files', () => {
  it('provisions one InfluxQL data source whose uid every dashboard uses', () => {
    const provisioned = loadDatasources({ OEP_INFLUX_URL: 'http://influx:8086', OEP_INFLUX_DB: 'lab', OEP_INFLUX_TOKEN: 'tok' });
    expect(provisioned).toHaveLength(1);
    const [d] = provisioned;
    expect(d).toMatchObject({
      type: 'influxdb',
      access: 'proxy',
      url: 'http://influx:8086',
      jsonData: { version: 'InfluxQL', dbName: 'lab', httpMode: 'GET', httpHeaderName1: 'Authorization' },
      secureJsonData: { httpHeaderValue1: 'Token tok' },
    });
    const uid = d?.uid ?? '';
    expect(uid).not.toBe('');
    for (const { file, dashboard: dash } of dashboards) {
      const refs = [
        ...panelsOf(dash).flatMap((p) => [p.datasource, ...p.targets.map((t) => t.datasource)]),
        ...dash.templating.list.map((v) => v.datasource),
        ...dash.annotations.list.filter((a) => a.builtIn !== 1).map((a) => a.datasource),
      ];
      for (const r of refs) expect(r, file).toEqual({ type: 'influxdb', uid });
    }
  });

  it('has a file provider whose folder holds the three dashboards, with unique uids, a cell variable and InfluxQL only', () => {
    const providers = loadDashboardProviders();
    expect(providers).toHaveLength(1);
    expect(providers[0]).toMatchObject({ type: 'file', options: { path: '/etc/grafana/provisioning/dashboards/oep' } });
    expect(dashboards.map((d) => d.dashboard.uid).sort()).toEqual(['oep-cell', 'oep-cycle-trends', 'oep-lab-overview']);
    expect(STATICALLY_CHECKED.map((d) => d.uid).sort()).toEqual(['oep-cell', 'oep-cycle-trends', 'oep-lab-overview']);
    for (const { dashboard: d } of dashboards) {
      const cell = d.templating.list.find((v) => v.name === 'cell');
      expect(cell, d.uid).toMatchObject({ type: 'query', query: 'SHOW TAG VALUES FROM "oep_cycle" WITH KEY = "cell"' });
      for (const p of panelsOf(d)) {
        for (const t of p.targets) {
          expect(t.rawQuery, `${d.uid}/${String(p.id)}`).toBe(true);
          // Every query on a per-cell measurement filters by the variable in its multi-value regex form.
          expect(t.query, `${d.uid}/${String(p.id)}/${t.refId}`).toContain('"cell" =~ /^$cell$/');
          expect(EXPECT[`${d.uid}/${String(p.id)}/${t.refId}`], `${d.uid}/${String(p.id)}/${t.refId} has no expectation`).toBeDefined();
        }
      }
    }
    const targets = dashboards.flatMap(({ dashboard: d }) => panelsOf(d).flatMap((p) => p.targets.map((t) => `${d.uid}/${String(p.id)}/${t.refId}`)));
    expect(targets.sort()).toEqual(Object.keys(EXPECT).sort());
  });

  it('satisfies Grafana schema types exactly (@grafana/schema), and the check catches a bad enum and a misspelled key', () => {
    // A check that cannot fail is worse than none: the same compiler run must reject a broken copy.
    const broken = dashboards[0]!.text.replace('"palette-classic"', '"palette-clasic"').replace('"gridPos":', '"gridPoss": {}, "gridPos":');
    const results = typecheckDashboardJson([...dashboards.map((d) => ({ name: d.file, text: d.text })), { name: 'broken copy', text: broken }]);
    const bad = results.pop();
    for (const r of results) expect(r.errors, r.name).toEqual([]);
    expect(bad?.errors.join('\n')).toMatch(/palette-clasic/);
    expect(bad?.errors.join('\n')).toMatch(/gridPoss/);
  });

  it('maps alert levels and level codes exactly as line-protocol.ts writes them', () => {
    const levels = Object.keys(LEVEL_CODE);
    let codeMaps = 0;
    let levelMaps = 0;
    for (const { dashboard: d } of dashboards) {
      const queries = [
        ...panelsOf(d).flatMap((p) => p.targets.map((t) => t.query)),
        ...d.annotations.list.flatMap((a) => (a.target === undefined ? [] : [a.target.query])),
      ];
      // Level literals in queries ("level" = 'critical') are levels oep writes.
      for (const q of queries) for (const [, lit] of q.matchAll(/"level"\s*!?=\s*'([^']*)'/g)) expect(levels, q).toContain(lit);
      // Value mappings: numeric keys are level_code values, word keys are level tags; both must cover every level.
      const mappings = panelsOf(d).flatMap((p) => [
        ...(p.fieldConfig.defaults.mappings ?? []),
        ...p.fieldConfig.overrides.flatMap((o) => o.properties.filter((x) => x.id === 'mappings').flatMap((x) => x.value as ValueMapping[])),
      ]);
      for (const m of mappings) {
        if (m.type !== MappingType.ValueToText) continue;
        const texts = Object.fromEntries(Object.entries(m.options).map(([k, r]) => [k, r.text]));
        if (Object.keys(texts).every((k) => /^\d+$/.test(k))) {
          codeMaps++;
          expect(texts, d.uid).toEqual(Object.fromEntries(Object.entries(LEVEL_CODE).map(([level, code]) => [String(code), level])));
        } else {
          levelMaps++;
          expect(texts, d.uid).toEqual(Object.fromEntries(levels.map((l) => [l, l])));
        }
      }
    }
    expect(codeMaps).toBeGreaterThan(0);
    expect(levelMaps).toBeGreaterThan(0);
  });
});

describe('Grafana macros, as Grafana expands them', () => {
  const ctx: QueryContext = {
    range: { from: 1_700_000_000_000, to: 1_700_086_400_000 },
    maxDataPoints: 1000,
    variables: { cell: { value: ['cell-01', 'a.b/c'], multi: true }, one: { value: 'x.y', multi: false }, cycle: { value: '12', multi: false } },
  };

  it('$timeFilter, $__interval, $__interval_ms, ${__from}/${__to}', () => {
    expect(roundInterval(86_400_000 / 1000)).toBe(60_000);
    expect(formatInterval(60_000)).toBe('1m');
    expect(formatInterval(7_200_000)).toBe('2h');
    expect(expandServerMacros('WHERE $timeFilter GROUP BY time($__interval) LIMIT $__interval_ms', ctx)).toBe(
      'WHERE time >= 1700000000000ms and time <= 1700086400000ms GROUP BY time(1m) LIMIT 60000',
    );
    expect(interpolateVariables('time <= ${__to}ms AND time >= ${__from}ms', ctx)).toBe('time <= 1700086400000ms AND time >= 1700000000000ms');
  });

  it('$cell: multi-value → escaped alternation; single value escaped only inside a regex; numbers as they are', () => {
    expect(escapeRegex('a.b/c')).toBe('a\\.b\\/c');
    expect(interpolateVariables('"cell" =~ /^$cell$/', ctx)).toBe('"cell" =~ /^(cell-01|a\\.b\\/c)$/');
    expect(interpolateVariables('"cell" =~ /^$one$/', ctx)).toBe('"cell" =~ /^x\\.y$/');
    expect(interpolateVariables(`"cell" = '$one'`, ctx)).toBe(`"cell" = 'x.y'`);
    expect(interpolateVariables('"cycle" = $cycle', ctx)).toBe('"cycle" = 12');
  });
});

describe('Grafana dashboards against InfluxDB 1.x with pipeline output', () => {
  it('the pipeline produced a lab worth looking at', () => {
    expect(new Set(out.cycles.map((c) => c.cell))).toEqual(new Set(CELLS));
    for (const cell of CELLS) {
      const drift = (c: CycleRecord): number | undefined => (normOf(cell) === 'mass' ? c.drift_MPa_g_per_Ah : c.drift_MPa_cm2_per_mAh);
      expect(out.cycles.filter((c) => c.cell === cell && drift(c) !== undefined).length, cell).toBeGreaterThanOrEqual(8);
    }
    // Each cell has the fields of its own normalization only.
    expect(out.cycles.filter((c) => (normOf(c.cell) === 'mass' ? c.ddpQ_MPa_cm2_per_mAh : c.ddpQ_MPa_g_per_Ah) !== undefined)).toEqual([]);
    expect(out.lines.some((l) => l.startsWith('oep_dpdq,'))).toBe(true);
  });

  for (const scenario of ['all', 'one', 'areal'] as const) {
    const what = {
      all: 'All cells, fine $__interval',
      one: `${ONE_CELL} only (mass), coarse $__interval`,
      areal: `${AREAL_CELL} only (areal), coarse $__interval`,
    };
    it(`every variable, panel query and annotation answers what the panel needs (${what[scenario]})`, async () => {
      const maxDataPoints = scenario === 'all' ? 1000 : 100;
      for (const { dashboard: d } of dashboards) {
        const { ctx, options } = await resolveVariables(d, scenario, maxDataPoints);
        expect(options.cell, d.uid).toEqual(CELLS);
        if (options.cycle !== undefined) {
          const cell = selectedCells(ctx)[0];
          const stepCycles = [...new Set(out.steps.filter((s) => s.cell === cell && inRange(s.tEnd)).map((s) => String(s.cycle)))];
          expect(options.cycle, `${d.uid} cycle variable`).toEqual(stepCycles.sort((a, b) => Number(b) - Number(a)));
        }
        const cells = selectedCells(ctx);
        const norms = new Set(cells.map(normOf));
        const multi = d.templating.list.find((v) => v.name === 'cell')?.multi === true;
        expect(cells.length, d.uid).toBe(scenario === 'all' && multi ? CELLS.length : 1);

        for (const p of panelsOf(d)) {
          const frames: Frame[] = [];
          const absent = new Set<string>();
          let complete = true;
          for (const t of p.targets) {
            const key = `${d.uid}/${String(p.id)}/${t.refId}`;
            const e = EXPECT[key];
            if (e === undefined) throw new Error(`no expectation for ${key}`);
            const { q, series } = await runTarget(t, ctx);
            expect(nameProblems(t.query), key).toEqual([]);
            // With one cell selected, an alert-state query may rightly answer nothing (no warning kind on that cell).
            if (series.length === 0 && e.cells === 'subset' && scenario !== 'all') {
              complete = false;
              continue;
            }
            // A query of one normalization's values answers nothing when no selected cell has that normalization.
            if (e.norm !== undefined && !norms.has(e.norm)) {
              expect(series, `${key} answered for cells of the other normalization: ${q}`).toEqual([]);
              for (const c of e.columns) absent.add(c);
              continue;
            }
            expect(series.length, `${key} answered no series: ${q}`).toBeGreaterThan(0);
            for (const s of series) {
              expect(s.columns.filter((c) => c !== 'time').sort(), `${key} columns`).toEqual([...e.columns].sort());
              expect(Object.keys(s.tags ?? {}).sort(), `${key} tags`).toEqual([...e.tags].sort());
            }
            for (const c of e.columns) {
              const norm = columnNorm(e, c);
              const expected = norm === undefined || norms.has(norm);
              expect(
                column(series, c).some((v) => v !== null),
                `${key}: column ${c} ${expected ? 'is all null' : 'has values for cells of the other normalization'}`,
              ).toBe(expected);
            }
            const seen = cellsIn(series);
            const want = e.norm === undefined ? cells : cells.filter((c) => normOf(c) === e.norm);
            if (e.cells === 'selected') expect([...seen].sort(), `${key} cells`).toEqual([...want].sort());
            if (e.cells === 'subset') for (const c of seen) expect(cells, `${key} cells`).toContain(c);
            frames.push(...toFrames(t, series));
          }
          // Field references are checked where every target answered (Grafana tolerates a missing frame, this check would not).
          if (complete) expect(referenceProblems(p, frames, absent), `${d.uid}/${String(p.id)} ${p.title}`).toEqual([]);
        }

        for (const a of d.annotations.list) {
          if (a.builtIn === 1 || a.target === undefined) continue;
          const q = renderQuery(a.target.query, ctx);
          expect(nameProblems(a.target.query), a.name).toEqual([]);
          const { events, dropped } = toAnnotationEvents(a.target, await datasourceQuery(ds, q));
          expect(dropped, `${d.uid} annotation ${a.name}: rows with nulls are dropped by Grafana`).toBe(0);
          if (a.name.startsWith('Step boundaries')) {
            const steps = out.steps.filter((s) => cells.includes(s.cell) && inRange(s.tEnd));
            expect(
              events.map((ev) => ev.time).sort((x, y) => x - y),
              a.name,
            ).toEqual(steps.map((s) => ms(s.tEnd)).sort((x, y) => x - y));
            expect(new Set(events.map((ev) => ev.text))).toEqual(new Set(steps.map((s) => s.kind)));
          } else {
            const level = /: (\w+)$/.exec(a.name)?.[1] ?? '';
            const want = alerts.filter((x) => x.level === level && cells.includes(x.cell) && inRange(x.ts));
            expect(events.map((ev) => ev.time).sort(), `${d.uid} annotation ${a.name}`).toEqual(want.map((x) => x.ts).sort());
            for (const ev of events) {
              const src = want.find((x) => x.ts === ev.time);
              expect(ev.text).toBe(src?.message);
              expect(ev.tags.sort()).toEqual([src?.cell, src?.kind].sort());
            }
            // All cells selected: every level has events to show (the single-cell view may rightly show none).
            if (scenario === 'all' && multi) expect(events.length, a.name).toBeGreaterThan(0);
          }
        }
      }
    });
  }

  it('lab overview: the latest cycle of each cell, its alert state, the alert log', async () => {
    const { ctx } = await resolveVariables(dashboard('oep-lab-overview'), 'all', 1000);
    const table = panel('oep-lab-overview', 1);
    const latest = rows((await runTarget(target(table, 'A'), ctx)).series);
    for (const cell of CELLS) {
      const last = out.cycles
        .filter((c) => c.cell === cell && inRange(c.tEnd))
        .sort((a, b) => a.tEnd - b.tEnd)
        .at(-1);
      const row = latest.find((r) => r.cell === cell);
      expect(row, cell).toMatchObject({
        time: last === undefined ? undefined : ms(last.tEnd),
        cycle: last?.cycle,
        ddp_q_MPa_g_per_Ah: last?.ddpQ_MPa_g_per_Ah ?? null,
        drift_MPa_g_per_Ah: last?.drift_MPa_g_per_Ah ?? null,
        ddp_q_MPa_cm2_per_mAh: last?.ddpQ_MPa_cm2_per_mAh ?? null,
        drift_MPa_cm2_per_mAh: last?.drift_MPa_cm2_per_mAh ?? null,
        ce: last?.ce ?? null,
        q_discharge_mAh_g: last?.qDischarge_mAh_g ?? null,
        q_discharge_mAh_cm2: last?.qDischarge_mAh_cm2 ?? null,
      });
    }
    // Alert state at the end of the range: per cell the worst current level over the kinds (each at its latest
    // level_code), how many kinds are not ok, and the latest event.
    const lastEvent = rows((await runTarget(target(table, 'B'), ctx)).series);
    const state = rows((await runTarget(target(table, 'C'), ctx)).series);
    const alerting = rows((await runTarget(target(table, 'D'), ctx)).series);
    const stateStat = rows((await runTarget(target(panel('oep-lab-overview', 7), 'A'), ctx)).series);
    const worst: Record<string, number> = {};
    for (const cell of CELLS) {
      const { byKind, latest } = alertState(alerts, cell, range.to);
      const codes = [...byKind.values()].map((l) => LEVEL_CODE[l]);
      expect(
        lastEvent.find((r) => r.cell === cell),
        cell,
      ).toEqual(latest === undefined ? undefined : { cell, time: latest.ts, last_alert: latest.message, last_level: latest.level, last_kind: latest.kind });
      const want = codes.length === 0 ? undefined : Math.max(...codes);
      if (want !== undefined) worst[cell] = want;
      expect(state.find((r) => r.cell === cell)?.alert_state, `${cell} alert state`).toBe(want);
      expect(stateStat.find((r) => r.cell === cell)?.max, `${cell} alert state stat`).toBe(want);
      expect(alerting.find((r) => r.cell === cell)?.kinds_alerting ?? 0, `${cell} kinds alerting`).toBe(codes.filter((c) => c > 0).length);
    }
    // The hand-made events leave cell-02 critical (ddpq_decline) and cell-03 warning (soft_short) at the end.
    expect(worst).toMatchObject({ 'cell-02': LEVEL_CODE.critical, 'cell-03': LEVEL_CODE.warning });

    // The timeline: every state change of every (cell, kind) in the range, as its level code.
    const timeline = await runTarget(target(panel('oep-lab-overview', 8), 'A'), ctx);
    for (const s of timeline.series) {
      const want = alerts.filter((a) => a.cell === s.tags?.cell && a.kind === s.tags.kind && inRange(a.ts)).sort((a, b) => a.ts - b.ts);
      expect(
        rows([s]).map((r) => [r.time, r.level_code]),
        `${s.tags?.cell} ${s.tags?.kind}`,
      ).toEqual(want.map((a) => [a.ts, LEVEL_CODE[a.level]]));
    }
    expect(timeline.series.length).toBe(new Set(alerts.map((a) => `${a.cell}/${a.kind}`)).size);

    for (const [id, field, key] of [
      [2, 'ddpQ_MPa_g_per_Ah', 'ddp_q'],
      [3, 'drift_MPa_g_per_Ah', 'drift'],
      [4, 'ce', 'ce'],
    ] as const) {
      const got = rows((await runTarget(target(panel('oep-lab-overview', id), 'A'), ctx)).series);
      for (const cell of CELLS) {
        const values = out.cycles.filter((c) => c.cell === cell && inRange(c.tEnd) && c[field] !== undefined).sort((a, b) => a.tEnd - b.tEnd);
        expect(got.find((r) => r.cell === cell)?.last, `${key} ${cell}`).toBe(values.at(-1)?.[field]);
      }
    }

    const log = rows((await runTarget(target(panel('oep-lab-overview', 6), 'A'), ctx)).series);
    expect(log.map((r) => r.time)).toEqual(alerts.map((a) => a.ts).sort((a, b) => b - a));
    const key = (r: { cell?: unknown; kind?: unknown; ts?: unknown; time?: unknown }): string =>
      `${String(r.cell)}/${String(r.kind)}/${String(r.ts ?? r.time)}`;
    const byKey = new Map(alerts.map((a) => [key(a), a]));
    for (const r of log) {
      const a = byKey.get(key(r));
      expect(r, key(r)).toEqual({ time: a?.ts, message: a?.message, value: a?.value, threshold: a?.threshold, level: a?.level, kind: a?.kind, cell: a?.cell });
    }
  });

  it('cell view: steps, pressure and current around them, and pressure against capacity for the newest cycle', async () => {
    const d = dashboard('oep-cell');
    const { ctx } = await resolveVariables(d, 'one', 1000);
    const cycle = Number(ctx.variables.cycle?.value);
    const steps = out.steps.filter((s) => s.cell === ONE_CELL && inRange(s.tEnd));
    expect(cycle).toBe(Math.max(...steps.map((s) => s.cycle)));

    const kinds = rows((await runTarget(target(panel('oep-cell', 7), 'A'), ctx)).series);
    const { byKind } = alertState(alerts, ONE_CELL, range.to);
    expect(Object.fromEntries(kinds.map((r) => [r.kind, r.last]))).toEqual(Object.fromEntries([...byKind].map(([k, l]) => [k, LEVEL_CODE[l]])));

    const around = rows((await runTarget(target(panel('oep-cell', 2), 'A'), ctx)).series);
    expect(around.map((r) => r.time)).toEqual(steps.map((s) => ms(s.tEnd)).sort((a, b) => a - b));
    for (const s of steps) {
      expect(around.find((r) => r.time === ms(s.tEnd))).toMatchObject({
        'P at step end': s.pEnd_MPa ?? null,
        'P max in step': s.pMax_MPa ?? null,
        'P min in step': s.pMin_MPa ?? null,
      });
    }
    const current = rows((await runTarget(target(panel('oep-cell', 2), 'C'), ctx)).series);
    expect(current.map((r) => r['I mean in step'])).toEqual([...steps].sort((a, b) => a.tEnd - b.tEnd).map((s) => s.iMean_mA));

    const curveSteps = steps.filter((s) => s.cycle === cycle && (s.curve?.length ?? 0) >= 2);
    expect(new Set(curveSteps.map((s) => s.kind))).toEqual(new Set(['charge', 'discharge']));
    const pq = await runTarget(target(panel('oep-cell', 4), 'A'), ctx);
    for (const kind of ['charge', 'discharge'] as const) {
      const want = curveSteps.filter((s) => s.kind === kind).flatMap((s) => (s.curve ?? []).slice(1).map(([q, p]) => [q, p]));
      const got = rows(pq.series.filter((s) => s.tags?.kind === kind)).map((r) => [r.q_mAh, r.p_MPa]);
      expect(got, kind).toEqual(want);
    }
    // Grafana partitions the table by kind: one (q, P) series per half-cycle.
    const frames = toFrames(target(panel('oep-cell', 4), 'A'), pq.series);
    expect(frames).toHaveLength(1);
    const kindField = frames[0]?.fields.find((f) => f.name === 'kind');
    expect(new Set(kindField?.values)).toEqual(new Set(['charge', 'discharge']));
  });

  it('cycle trends: one point per cycle per cell, the pipeline numbers, and $timeFilter really bounds them', async () => {
    const d = dashboard('oep-cycle-trends');
    const { ctx } = await resolveVariables(d, 'all', 1000);
    for (const [id, field, col] of [
      [1, 'ddpQ_MPa_g_per_Ah', 'ddp_q_MPa_g_per_Ah'],
      [2, 'ce', 'ce'],
      [3, 'drift_MPa_g_per_Ah', 'drift_MPa_g_per_Ah'],
      [4, 'qDischarge_mAh_g', 'q_discharge_mAh_g'],
      [5, 'swing_MPa', 'swing_MPa'],
    ] as const) {
      const got = rows((await runTarget(target(panel('oep-cycle-trends', id), 'A'), ctx)).series);
      for (const cell of CELLS) {
        const want = out.cycles.filter((c) => c.cell === cell).sort((a, b) => a.tEnd - b.tEnd);
        const mine = got.filter((r) => r.cell === cell);
        expect(
          mine.map((r) => r.cycle),
          `${col} ${cell}`,
        ).toEqual(want.map((c) => c.cycle));
        expect(
          mine.map((r) => r[col]),
          `${col} ${cell}`,
        ).toEqual(want.map((c) => c[field] ?? null));
      }
    }
    // A range that starts after cycle 10 of the slowest cell: only the cycles that end inside it come back.
    const from = Math.ceil(Math.max(...CELLS.map((cell) => out.cycles.find((c) => c.cell === cell && c.cycle === 10)?.tEnd ?? NaN))) + 1;
    const narrow: QueryContext = { ...ctx, range: { from, to: range.to } };
    const got = rows((await runTarget(target(panel('oep-cycle-trends', 1), 'A'), narrow)).series);
    expect(got.length).toBe(out.cycles.filter((c) => ms(c.tEnd) >= from && ms(c.tEnd) <= range.to).length);
    expect(Math.min(...got.map((r) => Number(r.cycle)))).toBeGreaterThan(10);
  });
  it('areal cell: its Δ(ΔP_Q), drift and capacity in the areal panels, per cycle and latest, and nothing in the mass ones', async () => {
    const mine = out.cycles.filter((c) => c.cell === AREAL_CELL).sort((a, b) => a.tEnd - b.tEnd);
    const last = <K extends keyof CycleRecord>(k: K): CycleRecord[K] | undefined => mine.filter((c) => c[k] !== undefined).at(-1)?.[k];
    expect(mine.filter((c) => c.ddpQ_MPa_cm2_per_mAh !== undefined).length).toBeGreaterThanOrEqual(10);
    const { ctx } = await resolveVariables(dashboard('oep-cycle-trends'), 'areal', 1000);
    for (const [id, field, col] of [
      [1, 'ddpQ_MPa_cm2_per_mAh', 'ddp_q_MPa_cm2_per_mAh'],
      [3, 'drift_MPa_cm2_per_mAh', 'drift_MPa_cm2_per_mAh'],
      [4, 'qDischarge_mAh_cm2', 'q_discharge_mAh_cm2'],
    ] as const) {
      const got = rows((await runTarget(target(panel('oep-cycle-trends', id), 'B'), ctx)).series);
      expect(
        got.map((r) => [r.cycle, r[col]]),
        col,
      ).toEqual(mine.map((c) => [c.cycle, c[field] ?? null]));
    }
    const overview = await resolveVariables(dashboard('oep-lab-overview'), 'areal', 1000);
    for (const [id, field] of [
      [2, 'ddpQ_MPa_cm2_per_mAh'],
      [3, 'drift_MPa_cm2_per_mAh'],
    ] as const) {
      expect(rows((await runTarget(target(panel('oep-lab-overview', id), 'B'), overview.ctx)).series)).toMatchObject([{ cell: AREAL_CELL, last: last(field) }]);
      expect((await runTarget(target(panel('oep-lab-overview', id), 'A'), overview.ctx)).series).toEqual([]);
    }
    const cell = await resolveVariables(dashboard('oep-cell'), 'areal', 1000);
    expect(rows((await runTarget(target(panel('oep-cell', 1), 'C'), cell.ctx)).series)).toMatchObject([
      { ddp_q_areal: last('ddpQ_MPa_cm2_per_mAh'), drift_areal: last('drift_MPa_cm2_per_mAh'), q_dis_areal: last('qDischarge_mAh_cm2') },
    ]);
    expect((await runTarget(target(panel('oep-cell', 1), 'B'), cell.ctx)).series).toEqual([]);
  });
});
