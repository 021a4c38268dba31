/**
 * The schema of oep's output: records → InfluxDB line protocol (precision ms). The one place where
 * measurement, tag and field names are spelled; the README documents each of them.
 *
 *   oep_step   tags cell, kind        time = step end
 *   oep_cycle  tags cell              time = cycle end
 *   oep_dpdq   tags cell, kind        time = instant the step's capacity reached the grid point
 *   oep_late   tags cell, channel     time = the reading's own timestamp
 *   oep_ingest tags cell              time = when the counters were read (processing time)
 *   oep_alert  tags cell, kind, level time = the measurement that opened, escalated or resolved an incident
 */
import type { AlertEvent } from '../domain/alerts/incidents.js';
import { LEVEL_RANK, type AlertLevel } from '../domain/alerts/lifecycle.js';
import type { CellCounters, LabEvent } from '../domain/lab.js';
import { gridDerivative_kPa_per_mAh } from '../domain/metrics/step.js';
import type { Gap } from '../domain/gaps.js';
import type { CycleRecord, Reading, StepRecord } from '../domain/types.js';

const NAMED_CONTROL: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Control characters spelled out (`\n`, `\r`, `\t`, `\u0085`…): line protocol has no escape for them, and
 * a raw newline in a tag or a string field ends the line, so whatever follows would be read as lines of
 * its own. The edge refuses cell ids with control characters; this covers every other text (alert
 * messages, units, anything a later field carries).
 */
function spellControls(v: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  return v.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => NAMED_CONTROL[c] ?? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Any character a tag, a measurement or a string field would escape or spell out (most hold none: returned as they are). */
// eslint-disable-next-line no-control-regex -- control characters are among what is looked for
const NEEDS_ESCAPE = /[,= "\\\u0000-\u001f\u007f-\u009f]/;

/** Tag keys and values: comma, equals sign, space and backslash escaped, control characters spelled out. */
export function escapeTag(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v;
  return spellControls(v.replace(/[,= \\]/g, (c) => '\\' + c));
}
function escapeMeasurement(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v;
  return spellControls(v.replace(/[, \\]/g, (c) => '\\' + c));
}
/** A string field value, quoted: quote and backslash escaped, control characters spelled out. */
export function quoteField(v: string): string {
  return '"' + spellControls(v.replace(/["\\]/g, (c) => '\\' + c)) + '"';
}

type FieldValue = number | { readonly int: number } | string | undefined;

function line(measurement: string, tags: Record<string, string>, fields: Record<string, FieldValue>, ts_ms: number): string | undefined {
  let f = '';
  // for…in, not Object.entries: no [key, value] array per field (a step line has 20 fields, a cycle line 25).
  for (const k in fields) {
    const v = fields[k];
    if (v === undefined) continue;
    let s: string;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) continue;
      s = String(v);
    } else if (typeof v === 'string') s = quoteField(v);
    else s = `${Math.trunc(v.int)}i`;
    f += (f === '' ? '' : ',') + k + '=' + s;
  }
  if (f === '') return undefined;
  let t = escapeMeasurement(measurement);
  for (const k in tags) t += ',' + k + '=' + escapeTag(tags[k] ?? '');
  return `${t} ${f} ${Math.round(ts_ms)}`;
}

const int = (n: number | undefined): { int: number } | undefined => (n === undefined ? undefined : { int: n });

/** oep_step field names, in the order the README lists them (and the CSV columns after time, cell, kind). */
export const STEP_FIELD_NAMES = [
  'cycle',
  'step',
  'start_time_ms',
  'duration_s',
  'q_mAh',
  'q_charge_mAh',
  'q_discharge_mAh',
  'i_mean_mA',
  'p_start_MPa',
  'p_end_MPa',
  'p_min_MPa',
  'p_max_MPa',
  'dp_MPa',
  'dpdq_kPa_per_mAh',
  'v_min_V',
  'v_max_V',
  'cycler_step',
  'cycler_cycle',
  'q_charge_cycler_mAh',
  'q_discharge_cycler_mAh',
] as const;
export type StepFieldName = (typeof STEP_FIELD_NAMES)[number];

/** oep_cycle field names, in the order the README lists them (and the CSV columns after time, cell). */
export const CYCLE_FIELD_NAMES = [
  'cycle',
  'start_time_ms',
  'duration_s',
  'steps',
  'complete',
  'q_charge_mAh',
  'q_discharge_mAh',
  'q_discharge_mAh_g',
  'q_discharge_mAh_cm2',
  'ce',
  'p_start_MPa',
  'p_end_MPa',
  'dp_cum_MPa',
  'dp_charge_MPa',
  'dp_discharge_MPa',
  'ddp_MPa',
  'swing_MPa',
  'ddp_q_MPa_g_per_Ah',
  'drift_MPa_g_per_Ah',
  'ddp_q_MPa_cm2_per_mAh',
  'drift_MPa_cm2_per_mAh',
  'p_irrev_MPa',
  'cycler_cycle',
  'q_charge_cycler_mAh',
  'q_discharge_cycler_mAh',
] as const;
export type CycleFieldName = (typeof CYCLE_FIELD_NAMES)[number];

/** oep_step fields of a step record: every wire name, from the record's typed fields (the compiler checks both sides). */
export function stepFields(s: StepRecord): Record<StepFieldName, FieldValue> {
  return {
    cycle: int(s.cycle),
    step: int(s.step),
    start_time_ms: s.tStart,
    duration_s: s.duration_s,
    q_mAh: s.q_mAh,
    q_charge_mAh: s.qCharge_mAh,
    q_discharge_mAh: s.qDischarge_mAh,
    i_mean_mA: s.iMean_mA,
    p_start_MPa: s.pStart_MPa,
    p_end_MPa: s.pEnd_MPa,
    p_min_MPa: s.pMin_MPa,
    p_max_MPa: s.pMax_MPa,
    dp_MPa: s.dp_MPa,
    dpdq_kPa_per_mAh: s.dpdq_kPa_per_mAh,
    v_min_V: s.vMin_V,
    v_max_V: s.vMax_V,
    cycler_step: int(s.cyclerStep),
    cycler_cycle: int(s.cyclerCycle),
    q_charge_cycler_mAh: s.qChargeCycler_mAh,
    q_discharge_cycler_mAh: s.qDischargeCycler_mAh,
  };
}

/** oep_cycle fields of a cycle record: every wire name, from the record's typed fields. */
export function cycleFields(c: CycleRecord): Record<CycleFieldName, FieldValue> {
  return {
    cycle: int(c.cycle),
    start_time_ms: c.tStart,
    duration_s: c.duration_s,
    steps: int(c.steps),
    complete: int(c.complete ? 1 : 0),
    q_charge_mAh: c.qCharge_mAh,
    q_discharge_mAh: c.qDischarge_mAh,
    q_discharge_mAh_g: c.qDischarge_mAh_g,
    q_discharge_mAh_cm2: c.qDischarge_mAh_cm2,
    ce: c.ce,
    p_start_MPa: c.pStart_MPa,
    p_end_MPa: c.pEnd_MPa,
    dp_cum_MPa: c.dpCum_MPa,
    dp_charge_MPa: c.dpCharge_MPa,
    dp_discharge_MPa: c.dpDischarge_MPa,
    ddp_MPa: c.ddp_MPa,
    swing_MPa: c.swing_MPa,
    ddp_q_MPa_g_per_Ah: c.ddpQ_MPa_g_per_Ah,
    drift_MPa_g_per_Ah: c.drift_MPa_g_per_Ah,
    ddp_q_MPa_cm2_per_mAh: c.ddpQ_MPa_cm2_per_mAh,
    drift_MPa_cm2_per_mAh: c.drift_MPa_cm2_per_mAh,
    p_irrev_MPa: c.pIrrev_MPa,
    cycler_cycle: int(c.cyclerCycle),
    q_charge_cycler_mAh: c.qChargeCycler_mAh,
    q_discharge_cycler_mAh: c.qDischargeCycler_mAh,
  };
}

export function stepLine(s: StepRecord): string | undefined {
  return line('oep_step', { cell: s.cell, kind: s.kind }, stepFields(s), s.tEnd);
}

export function cycleLine(c: CycleRecord): string | undefined {
  return line('oep_cycle', { cell: c.cell }, cycleFields(c), c.tEnd);
}

/** The step's dP/dQ curve, one point per grid point after the first. */
export function curveLines(s: StepRecord): string[] {
  const pts = s.curve;
  if (pts === undefined || pts.length < 2) return [];
  const d = gridDerivative_kPa_per_mAh(pts);
  const out: string[] = [];
  for (const [k, [q, p, t]] of pts.entries()) {
    if (k === 0) continue;
    const l = line(
      'oep_dpdq',
      { cell: s.cell, kind: s.kind },
      { cycle: int(s.cycle), step: int(s.step), q_mAh: q, p_MPa: p, dpdq_kPa_per_mAh: d[k - 1]?.[1] },
      t,
    );
    if (l !== undefined) out.push(l);
  }
  return out;
}

export function lateLine(r: Reading, watermark: number): string | undefined {
  return line('oep_late', { cell: r.cell, channel: r.channel }, { value: r.value, behind_watermark_ms: watermark - r.ts }, r.ts);
}

/** oep_gaps: one point per hole in a channel's readings while current flowed; time = the reading before the hole. */
export function gapLine(g: Gap): string | undefined {
  return line(
    'oep_gaps',
    { cell: g.cell, channel: g.channel },
    { duration_s: (g.to - g.from) / 1000, missing: int(g.missing), interval_ms: g.interval_ms, to_ms: g.to },
    g.from,
  );
}

export function ingestLine(cell: string, c: CellCounters, now: number): string | undefined {
  let rejected = 0;
  for (const v of Object.values(c.rejected)) rejected += v;
  return line(
    'oep_ingest',
    { cell },
    {
      accepted: int(c.accepted),
      rejected: int(rejected),
      late: int(c.late),
      duplicate: int(c.duplicate),
      bare: int(c.bare),
      steps: int(c.steps),
      cycles: int(c.cycles),
    },
    now,
  );
}

/** ok = 0, warning = 1, critical = 2: numeric, for state timelines and thresholds in Grafana (the domain's severity order). */
export const LEVEL_CODE: Readonly<Record<AlertLevel, number>> = LEVEL_RANK;

export function alertLine(a: AlertEvent): string | undefined {
  const extra: Record<string, FieldValue> = {};
  for (const [k, v] of Object.entries(a.extra ?? {})) extra[k] = v;
  return line(
    'oep_alert',
    { cell: a.cell, kind: a.kind, level: a.level },
    {
      level_code: int(LEVEL_CODE[a.level]),
      previous_level_code: int(LEVEL_CODE[a.previous]),
      value: a.value,
      threshold: a.threshold,
      message: a.message,
      incident: a.incident.id,
      action: a.action,
      opened_cycle: int(a.incident.openedCycle),
      last_seen_cycle: int(a.incident.lastSeenCycle),
      recurrences: int(a.incident.recurrences),
      peak: a.incident.peak,
      silenced: int(a.silenced ? 1 : 0),
      ...extra,
    },
    a.t,
  );
}

/** All lines for a batch of lab events. */
export function eventLines(events: readonly LabEvent[], withCurves: boolean): string[] {
  return linesOf(events, withCurves);
}

/** The latest batch's lines: the InfluxDB sink and the files ask for the same batch, one after the other. */
let latest: { readonly events: readonly LabEvent[]; readonly length: number; readonly withCurves: boolean; readonly lines: readonly string[] } | undefined;

/**
 * {@link eventLines} for a sink: the same (read-only) array again when the same batch is asked for twice in a
 * row, so that the InfluxDB sink and the files build a batch's lines once between them.
 */
export function batchLines(events: readonly LabEvent[], withCurves: boolean): readonly string[] {
  if (latest?.events === events && latest.length === events.length && latest.withCurves === withCurves) return latest.lines;
  const lines = linesOf(events, withCurves);
  latest = { events, length: events.length, withCurves, lines };
  return lines;
}

function linesOf(events: readonly LabEvent[], withCurves: boolean): string[] {
  const out: string[] = [];
  for (const e of events) {
    let l: string | undefined;
    if (e.type === 'step') {
      l = stepLine(e.record);
      if (withCurves) out.push(...curveLines(e.record));
    } else if (e.type === 'cycle') l = cycleLine(e.record);
    else if (e.type === 'alert') l = alertLine(e.alert);
    else if (e.type === 'late') l = lateLine(e.reading, e.watermark);
    else if (e.type === 'gap') l = gapLine(e.gap);
    if (l !== undefined) out.push(l);
  }
  return out;
}
