/**
 * The types the oep dashboards must satisfy, built from Grafana's own schema types (`@grafana/schema`, generated from
 * Grafana's CUE schema). Types only: test/support/grafana-schema.ts compiles the dashboards against them.
 *
 * {@link OepDashboard} narrows Grafana's open slots where the schema has a type for them: `options` and
 * `fieldConfig.defaults.custom` of each panel type oep uses (timeseries, stat, state-timeline, table, trend, xychart), and the
 * targets, which the schema leaves as `Record<string, unknown>` because each data source defines its own: here
 * {@link InfluxQLTarget}, the raw-InfluxQL shape of Grafana's InfluxDB data source.
 */
import type { AnnotationQuery, Dashboard, DataQuery, FieldConfig, FieldConfigSource, Panel, RowPanel, TableOptions, VariableModel } from '@grafana/schema';
import type * as StateTimelineCfg from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen';
import type * as StatCfg from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as TableCfg from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as TimeSeriesCfg from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type * as TrendCfg from '@grafana/schema/dist/esm/raw/composable/trend/panelcfg/x/TrendPanelCfg_types.gen';
import type * as XYChartCfg from '@grafana/schema/dist/esm/raw/composable/xychart/panelcfg/x/XYChartPanelCfg_types.gen';

// ---------------------------------------------------------------------------------------------------------
// The dashboard type oep's JSON must satisfy

/** The data source reference every oep panel, target, variable and annotation uses (see the provisioning file). */
export interface OepDatasourceRef {
  type: 'influxdb';
  uid: string;
}

/** A raw InfluxQL query as Grafana's InfluxDB data source stores it in a panel. */
export interface InfluxQLTarget extends DataQuery {
  datasource: OepDatasourceRef;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
  /** Series naming (`$tag_<key>`, `$col`, `$m`); time_series only. */
  alias?: string;
}

/** An InfluxQL annotation query (the shape Grafana's InfluxDB data source migrates annotations to). */
export interface InfluxQLAnnotationTarget extends DataQuery {
  query: string;
  rawQuery: true;
  fromAnnotations: true;
  textEditor?: boolean;
  /** Columns are matched by substring, as Grafana's InfluxDB response parser does. */
  textColumn: string;
  tagsColumn: string;
  timeEndColumn?: string;
  titleColumn?: string;
  limit?: number;
  matchAny?: boolean;
  tags?: string[];
  type?: string;
}

/** `fieldConfig` whose `defaults.custom` is exactly the panel's own field config (Grafana's veneer adds an index signature). */
type StrictFieldConfigSource<TCustom> = Omit<FieldConfigSource, 'defaults'> & {
  defaults: Omit<FieldConfig, 'custom'> & { custom?: TCustom };
};

type OepPanelOf<TType extends string, TOptions, TCustom> = Omit<Panel, 'type' | 'options' | 'fieldConfig' | 'targets' | 'datasource'> & {
  type: TType;
  title: string;
  datasource: OepDatasourceRef;
  options: TOptions;
  fieldConfig: StrictFieldConfigSource<TCustom>;
  targets: InfluxQLTarget[];
};

export type OepPanel =
  | OepPanelOf<'timeseries', TimeSeriesCfg.Options, TimeSeriesCfg.FieldConfig>
  | OepPanelOf<'stat', StatCfg.Options, Record<string, never>>
  | OepPanelOf<'state-timeline', StateTimelineCfg.Options, StateTimelineCfg.FieldConfig>
  | OepPanelOf<'table', TableOptions, TableCfg.FieldConfig>
  | OepPanelOf<'trend', TrendCfg.Options, TrendCfg.FieldConfig>
  | OepPanelOf<'xychart', XYChartCfg.Options, XYChartCfg.FieldConfig>
  | (Omit<RowPanel, 'panels'> & { panels: OepPanel[] });

export type OepAnnotation = Omit<AnnotationQuery, 'target'> & { target?: InfluxQLAnnotationTarget };

export type OepDashboard = Omit<Dashboard, 'panels' | 'annotations' | 'templating' | 'uid' | 'title'> & {
  uid: string;
  title: string;
  panels: OepPanel[];
  annotations: { list: OepAnnotation[] };
  templating: { list: VariableModel[] };
};

// ---------------------------------------------------------------------------------------------------------
// Type transforms

type IsAny<T> = 0 extends 1 & T ? true : false;
/** `number` stays `number`; a numeric enum (which `number` is assignable to) becomes the union of its values. */
type NumberLiteral<T extends number> = T extends unknown ? (`${T}` extends `${infer N extends number}` ? N : never) : never;

/**
 * What a value of type T looks like as JSON text pasted into TypeScript: a string enum becomes the union of its
 * values (`FieldColorModeId` → `"fixed" | "palette-classic" | ...`), a numeric enum the union of its numbers;
 * string and number literal unions stay as they are. Recurses into arrays and objects.
 */
export type Literalize<T> =
  IsAny<T> extends true
    ? T
    : T extends string
      ? `${T}`
      : T extends number
        ? NumberLiteral<T>
        : T extends boolean | null | undefined
          ? T
          : T extends readonly (infer U)[]
            ? Literalize<U>[]
            : T extends object
              ? { [K in keyof T]: Literalize<T[K]> }
              : T;

/**
 * What TypeScript infers for a JSON module: every string literal or string enum is `string`, every number `number`;
 * and objects in one array get each other's missing properties as optional `undefined` (union normalization), which
 * an index signature must then accept.
 */
export type Widen<T> =
  IsAny<T> extends true
    ? T
    : T extends string
      ? string
      : T extends number
        ? number
        : T extends boolean
          ? boolean
          : T extends null | undefined
            ? T
            : T extends readonly (infer U)[]
              ? Widen<U>[]
              : T extends object
                ? { [K in keyof T]: Widen<T[K]> | (string extends K ? undefined : never) }
                : T;
