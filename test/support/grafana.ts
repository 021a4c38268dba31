/**
 * What Grafana does with the oep dashboards, reproduced for tests that run every query against a real InfluxDB:
 * reading the provisioning files, interpolating template variables and macros, sending the query the way Grafana's
 * InfluxDB data source does, and turning the answer into the data frames (field names) a panel sees.
 *
 * Followed from Grafana's sources (InfluxDB data source, InfluxQL mode, server-side queries, Grafana 11-13):
 *  - Template variables are replaced in the browser (`InfluxDatasource.interpolateQueryExpr`): a numeric value as is;
 *    a multi-value variable regex-escaped, several values as `(a|b)`; a single-value variable regex-escaped only where
 *    it sits inside a `=~ /.../` regex. `$__interval` and `$__interval_ms` are left for the server.
 *    "All" without a custom all-value means every option. `${__from}` / `${__to}` are the range in epoch ms.
 *  - The server (`pkg/tsdb/influxdb/models/query.go`, `Build`) replaces `$timeFilter` by
 *    `time >= <from>ms and time <= <to>ms`, then `$interval`, `$__interval_ms`, `$__interval` (gtime.FormatInterval).
 *  - The interval is the time range over the panel's max data points, rounded like `rangeUtil.roundInterval`.
 *  - Answers become frames (`influxql/buffered/response_parser.go`): `table` → one frame with `Time`, the GROUP BY
 *    tag keys, then one field per column; `time_series` → one frame per series and column, named by the alias
 *    (`$col`, `$m`, `$tag_<key>`) or `measurement.column {tags}`.
 *  - Annotations (`response_parser.ts`, `transformAnnotationResponse`): columns named `measurement.column`, matched to
 *    textColumn / tagsColumn by substring; a row with any null is dropped; tag values are split on commas (strings).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { InfluxQLAnnotationTarget, InfluxQLTarget, OepDashboard, OepPanel } from './grafana-types.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const GRAFANA_DIR = join(ROOT, 'config/grafana');
export const PROVISIONING_DIR = join(GRAFANA_DIR, 'provisioning');

// ---------------------------------------------------------------------------------------------------------
// Provisioning files

export interface ProvisionedDatasource {
  name: string;
  uid: string;
  type: string;
  access: string;
  url: string;
  jsonData: { version?: string; dbName?: string; httpMode?: string; httpHeaderName1?: string };
  secureJsonData?: { httpHeaderValue1?: string };
}

export interface DashboardProvider {
  name: string;
  type: string;
  folder?: string;
  options: { path: string; foldersFromFilesStructure?: boolean };
}

export interface DashboardFile {
  readonly file: string;
  readonly text: string;
  readonly dashboard: OepDashboard;
}

/**
 * Grafana's environment lookup in provisioning files: `${NAME}` first, then `$NAME`; `$$` is a literal `$`.
 * A variable that is not set becomes the empty string, as in Grafana.
 */
export function expandProvisioningEnv(value: string, env: Readonly<Record<string, string | undefined>>): string {
  const DOLLAR = '\u0000';
  return value
    .replaceAll('$$', DOLLAR)
    .replace(/\$\{(\w+)\}/g, (_m, name: string) => env[name] ?? '')
    .replace(/\$(\w+)/g, (_m, name: string) => env[name] ?? '')
    .replaceAll(DOLLAR, '$');
}

function expandDeep(v: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof v === 'string') return expandProvisioningEnv(v, env);
  if (Array.isArray(v)) return v.map((x) => expandDeep(x, env));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expandDeep(x, env)]));
  return v;
}

/** The data sources of `provisioning/datasources/*.yaml`, with the environment applied as Grafana does. */
export function loadDatasources(env: Readonly<Record<string, string | undefined>>): ProvisionedDatasource[] {
  const dir = join(PROVISIONING_DIR, 'datasources');
  const out: ProvisionedDatasource[] = [];
  for (const f of readdirSync(dir)
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()) {
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- YAML is untyped; the apiVersion check and the tests over each data source check the shape
    const doc = parseYaml(readFileSync(join(dir, f), 'utf8')) as { apiVersion?: number; datasources?: unknown[] };
    if (doc.apiVersion !== 1) throw new Error(`${f}: apiVersion must be 1`);
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- expandDeep keeps the shape of the YAML it was given
    for (const ds of doc.datasources ?? []) out.push(expandDeep(ds, env) as ProvisionedDatasource);
  }
  return out;
}

/** The providers of `provisioning/dashboards/*.yaml`. */
export function loadDashboardProviders(): DashboardProvider[] {
  const dir = join(PROVISIONING_DIR, 'dashboards');
  const out: DashboardProvider[] = [];
  for (const f of readdirSync(dir)
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()) {
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- YAML is untyped; the apiVersion check and the provider tests check the shape
    const doc = parseYaml(readFileSync(join(dir, f), 'utf8')) as { apiVersion?: number; providers?: DashboardProvider[] };
    if (doc.apiVersion !== 1) throw new Error(`${f}: apiVersion must be 1`);
    out.push(...(doc.providers ?? []));
  }
  return out;
}

/**
 * The dashboard JSON files a file provider serves: the folder named like the last part of the provider's
 * `options.path`, next to the provider file (config/grafana/provisioning/dashboards/<name>/*.json).
 */
export function loadDashboards(provider: DashboardProvider): DashboardFile[] {
  const dir = join(PROVISIONING_DIR, 'dashboards', basename(provider.options.path));
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => {
      const text = readFileSync(join(dir, n), 'utf8');
      // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- the schema test (grafana-schema.ts) type-checks every dashboard file against OepDashboard
      return { file: n, text, dashboard: JSON.parse(text) as OepDashboard };
    });
}

/** The panels of a dashboard, rows flattened. */
export function panelsOf(d: OepDashboard): Exclude<OepPanel, { type: 'row' }>[] {
  const out: Exclude<OepPanel, { type: 'row' }>[] = [];
  const walk = (ps: readonly OepPanel[]): void => {
    for (const p of ps) {
      if (p.type === 'row') walk(p.panels);
      else out.push(p);
    }
  };
  walk(d.panels);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Interpolation

/** `@grafana/data`'s `escapeRegex`. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/** `@grafana/data`'s `rangeUtil.roundInterval`: a nice interval at or near `ms`. */
export function roundInterval(ms: number): number {
  const steps: readonly (readonly [number, number])[] = [
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1500, 1000],
    [3500, 2000],
    [7500, 5000],
    [12500, 10000],
    [17500, 15000],
    [25000, 20000],
    [45000, 30000],
    [90000, 60000],
    [210000, 120000],
    [450000, 300000],
    [750000, 600000],
    [1050000, 900000],
    [1500000, 1200000],
    [2700000, 1800000],
    [5400000, 3600000],
    [9000000, 7200000],
    [16200000, 10800000],
    [32400000, 21600000],
    [86400000, 43200000],
    [604800000, 86400000],
    [1814400000, 604800000],
    [3628800000, 2592000000],
  ];
  for (const [below, interval] of steps) if (ms < below) return interval;
  return 31536000000;
}

/** The Go SDK's `gtime.FormatInterval`: the largest whole unit. */
export function formatInterval(ms: number): string {
  const units: readonly (readonly [string, number])[] = [
    ['y', 365 * 86_400_000],
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ];
  for (const [u, size] of units) if (ms >= size) return `${Math.floor(ms / size)}${u}`;
  return '1ms';
}

export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/** A template variable's current value as Grafana holds it. */
export interface VariableValue {
  readonly value: string | readonly string[];
  readonly multi: boolean;
}

export interface QueryContext {
  readonly range: TimeRange;
  /** Panel resolution: `$__interval` = roundInterval((to − from) / maxDataPoints). */
  readonly maxDataPoints: number;
  readonly variables: Readonly<Record<string, VariableValue>>;
}

export function intervalMs(ctx: QueryContext): number {
  return roundInterval((ctx.range.to - ctx.range.from) / ctx.maxDataPoints);
}

// `$name`, `[[name]]`, `${name}` / `${name:format}` (Grafana's variableRegex).
const VARIABLE_RE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;
const REGEX_IN_QUERY = /(\s*(=|!)~\s*)\/((?![*+?])(?:[^\r\n[/\\]|\\.|\[(?:[^\r\n\]\\]|\\.)*\])+)\/((?:g(?:im?|mi?)?|i(?:gm?|mg?)?|m(?:gi?|ig?)?)?)/gm;

function interpolateQueryExpr(value: string | readonly string[], variable: { name: string; multi: boolean }, query: string): string {
  if (typeof value === 'string' && !Number.isNaN(parseFloat(value))) return value;
  if (variable.multi) {
    if (typeof value === 'string') return escapeRegex(value);
    return `(${value.map(escapeRegex).join('|')})`;
  }
  const usedInRegex = (query.match(REGEX_IN_QUERY) ?? []).some((m) => new RegExp(`\\/(?:\\^)?(.*)(\\$${variable.name})(.*)(?:\\$)?\\/`, 'm').test(m));
  if (!usedInRegex) return typeof value === 'string' ? value : value.join(',');
  return typeof value === 'string' ? escapeRegex(value) : `(${value.map(escapeRegex).join('|')})`;
}

/** The browser's part: template variables and `${__from}` / `${__to}`; unknown names are left as they are. */
export function interpolateVariables(query: string, ctx: QueryContext): string {
  return query.replace(VARIABLE_RE, (match: string, ...groups: (string | undefined)[]) => {
    const name = groups[0] ?? groups[1] ?? groups[3] ?? '';
    if (name === '__from') return String(ctx.range.from);
    if (name === '__to') return String(ctx.range.to);
    const v = ctx.variables[name];
    if (v === undefined) return match;
    return interpolateQueryExpr(v.value, { name, multi: v.multi }, query);
  });
}

/** The server's part (`models.Query.Build` for a raw query). */
export function expandServerMacros(query: string, ctx: QueryContext): string {
  const ms = intervalMs(ctx);
  const text = formatInterval(ms);
  return query
    .replaceAll('$timeFilter', `time >= ${ctx.range.from}ms and time <= ${ctx.range.to}ms`)
    .replaceAll('$interval', text)
    .replaceAll('$__interval_ms', String(ms))
    .replaceAll('$__interval', text);
}

/** The InfluxQL that reaches InfluxDB for a raw query in a panel, variable or annotation. */
export function renderQuery(query: string, ctx: QueryContext): string {
  const q = expandServerMacros(interpolateVariables(query, ctx), ctx);
  const left = /\$\{?\w+/.exec(q);
  if (left !== null) throw new Error(`query still has ${left[0]} after interpolation: ${q}`);
  return q;
}

// ---------------------------------------------------------------------------------------------------------
// Talking to InfluxDB like the data source does

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/**
 * GET `<url>/query?db=<dbName>&q=<query>&epoch=ms` with the provisioned custom header, as Grafana's server does
 * for `httpMode: GET`. Returns the series of the (single) statement; throws on any error.
 */
export async function datasourceQuery(ds: ProvisionedDatasource, q: string): Promise<InfluxSeries[]> {
  if (ds.jsonData.httpMode !== 'GET') throw new Error(`this harness sends GET; the data source says ${String(ds.jsonData.httpMode)}`);
  const params = new URLSearchParams({ db: ds.jsonData.dbName ?? '', q, epoch: 'ms' });
  const headers: Record<string, string> = {};
  const headerName = ds.jsonData.httpHeaderName1;
  if (headerName !== undefined) headers[headerName] = ds.secureJsonData?.httpHeaderValue1 ?? '';
  const res = await fetch(`${ds.url.replace(/\/$/, '')}/query?${params.toString()}`, { headers, signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  let json: { error?: string; results?: { error?: string; series?: InfluxSeries[] }[] };
  try {
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- InfluxDB 1.x /query answer; the error checks below reject anything else
    json = JSON.parse(body) as typeof json;
  } catch {
    throw new Error(`InfluxDB answered ${res.status} with non-JSON to ${q}: ${body}`);
  }
  const err = json.error ?? json.results?.find((r) => r.error !== undefined)?.error;
  if (!res.ok || err !== undefined) throw new Error(`InfluxDB query failed (${res.status}): ${err ?? body}\n  query: ${q}`);
  if (json.results?.length !== 1) throw new Error(`expected one statement result, got ${json.results?.length ?? 0}: ${q}`);
  return json.results[0]?.series ?? [];
}

// ---------------------------------------------------------------------------------------------------------
// Frames

export interface Field {
  /** The field name (table) or the frame's display name (time series value field). */
  readonly name: string;
  readonly type: 'time' | 'number' | 'string' | 'boolean' | 'null';
  readonly values: readonly unknown[];
  readonly labels?: Readonly<Record<string, string>>;
}

export interface Frame {
  readonly refId: string;
  readonly name: string;
  readonly fields: readonly Field[];
}

function fieldType(values: readonly unknown[]): Field['type'] {
  const v = values.find((x) => x !== null && x !== undefined);
  if (v === undefined) return 'null';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  throw new Error(`unexpected InfluxDB value ${JSON.stringify(v)}`);
}

/** `util.FormatFrameName` for the patterns oep uses (`$col`, `$m`, `$measurement`, `$tag_<key>`). */
export function frameName(series: InfluxSeries, column: string, alias: string | undefined): string {
  if (alias === undefined || alias === '') {
    const tags = Object.entries(series.tags ?? {});
    return tags.length === 0 ? `${series.name}.${column}` : `${series.name}.${column} { ${tags.map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
  }
  return alias.replace(/\$(\w+)|\[\[(\w+)\]\]/g, (m, a?: string, b?: string) => {
    const key = a ?? b ?? '';
    if (key === 'col') return column;
    if (key === 'm' || key === 'measurement') return series.name;
    if (key.startsWith('tag_')) return series.tags?.[key.slice(4)] ?? m;
    return m;
  });
}

/** The frames Grafana builds from the series of one target. */
export function toFrames(target: InfluxQLTarget, series: readonly InfluxSeries[]): Frame[] {
  const [first] = series;
  if (first === undefined) return [];
  if (target.resultFormat === 'table') {
    const fields: Field[] = [];
    const col = (i: number): unknown[] => series.flatMap((s) => s.values.map((row) => row[i] ?? null));
    let start = 0;
    if (first.columns[0] === 'time') {
      fields.push({ name: 'Time', type: 'time', values: col(0) });
      start = 1;
    }
    for (const key of Object.keys(first.tags ?? {})) {
      fields.push({ name: key, type: 'string', values: series.flatMap((s) => s.values.map(() => s.tags?.[key] ?? null)) });
    }
    for (const [i, name] of first.columns.entries()) {
      if (i < start) continue;
      const values = col(i);
      fields.push({ name, type: fieldType(values), values });
    }
    return [{ refId: target.refId, name: first.name, fields }];
  }
  const frames: Frame[] = [];
  for (const s of series) {
    const t = s.columns.indexOf('time');
    s.columns.forEach((column, i) => {
      if (i === t) return;
      const values = s.values.map((row) => row[i] ?? null);
      const name = frameName(s, column, target.alias);
      const time: Field = { name: 'Time', type: 'time', values: s.values.map((row) => row[t]) };
      frames.push({ refId: target.refId, name, fields: [time, { name, type: fieldType(values), values, labels: s.tags ?? {} }] });
    });
  }
  return frames;
}

// ---------------------------------------------------------------------------------------------------------
// Annotations

export interface AnnotationEvent {
  readonly time: number;
  readonly text: unknown;
  readonly tags: string[];
}

export interface AnnotationResult {
  readonly events: AnnotationEvent[];
  /** Rows Grafana would drop because a column is null. */
  readonly dropped: number;
}

/**
 * Grafana's InfluxQL annotation parsing: columns are `measurement.column`; `textColumn` and each of `tagsColumn`
 * match by substring; rows with a null anywhere are dropped. Throws where Grafana would produce a broken event
 * (no text column, a tag column that is not text).
 */
export function toAnnotationEvents(target: InfluxQLAnnotationTarget, series: readonly InfluxSeries[]): AnnotationResult {
  const events: AnnotationEvent[] = [];
  let dropped = 0;
  const tagKeys = target.tagsColumn
    .replace(' ', '')
    .split(',')
    .filter((t) => t !== '');
  for (const s of series) {
    if (s.tags !== undefined && Object.keys(s.tags).length > 0) throw new Error('annotation queries must not GROUP BY (Grafana turns tags into extra columns)');
    let timeCol = -1;
    let textCol = -1;
    const tagCols: number[] = [];
    s.columns.forEach((c, i) => {
      const name = c === 'time' ? 'Time' : `${s.name}.${c}`;
      if (name.toLowerCase() === 'time') timeCol = i;
      else if (tagKeys.some((t) => name.includes(t))) tagCols.push(i);
      else if (target.textColumn !== '' && name.includes(target.textColumn)) textCol = i;
    });
    if (timeCol < 0) throw new Error('annotation query without a time column');
    if (textCol < 0) throw new Error(`no column matches textColumn ${JSON.stringify(target.textColumn)} in ${s.columns.join(', ')}`);
    if (tagCols.length !== tagKeys.length)
      throw new Error(`tagsColumn ${JSON.stringify(target.tagsColumn)} matched ${tagCols.length} columns of ${s.columns.join(', ')}`);
    for (const row of s.values) {
      if (row.some((v) => v === null)) {
        dropped++;
        continue;
      }
      const tags = tagCols.flatMap((i) => {
        const v = row[i];
        if (typeof v !== 'string') throw new Error(`annotation tag column ${s.columns[i]} holds ${typeof v}, Grafana splits strings`);
        return v.split(',');
      });
      events.push({ time: Number(row[timeCol]), text: row[textCol], tags });
    }
  }
  return { events, dropped };
}

// ---------------------------------------------------------------------------------------------------------
// Template variables

/**
 * The options of a query variable from its answer, like the data source's `toMetricFindValue`: SHOW TAG VALUES
 * gives the values, a SELECT its first non-time column; de-duplicated, then sorted as `sort` says
 * (0 none, 1/2 alphabetical asc/desc, 3/4 numerical asc/desc, 5/6 case-insensitive, 7/8 natural).
 */
export function variableOptions(query: string, series: readonly InfluxSeries[], sort: number): string[] {
  const values: string[] = [];
  for (const s of series) {
    const showTagValues = /show\s+tag\s+values/i.test(query);
    const i = showTagValues ? s.columns.indexOf('value') : s.columns.findIndex((c) => c !== 'time');
    if (i < 0) throw new Error(`variable query answered without a usable column: ${s.columns.join(', ')}`);
    for (const row of s.values) {
      const v = row[i];
      if (typeof v === 'string' || typeof v === 'number') values.push(String(v));
    }
  }
  const unique = [...new Set(values)];
  const num = (a: string, b: string): number => parseFloat(a) - parseFloat(b);
  const alpha = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const ci = (a: string, b: string): number => alpha(a.toLowerCase(), b.toLowerCase());
  const natural = (a: string, b: string): number => a.localeCompare(b, undefined, { numeric: true });
  const byMode: Record<number, ((a: string, b: string) => number) | undefined> = {
    1: alpha,
    2: (a, b) => alpha(b, a),
    3: num,
    4: (a, b) => num(b, a),
    5: ci,
    6: (a, b) => ci(b, a),
    7: natural,
    8: (a, b) => natural(b, a),
  };
  const cmp = byMode[sort];
  return cmp === undefined ? unique : unique.sort(cmp);
}
