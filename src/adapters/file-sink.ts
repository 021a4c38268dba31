/**
 * The local sink: per-step and per-cycle CSV files (columns = the `oep_step` / `oep_cycle` field names),
 * a line-protocol file with every point (importable with `influx write`), and late readings kept aside.
 * Appends, so a restarted daemon continues the same files. Used by the daemon (output.dir), the embedded
 * default and `oep process`.
 */
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { AlertEvent } from '../domain/alerts/incidents.js';
import type { LabEvent } from '../domain/lab.js';
import type { CycleRecord, StepRecord } from '../domain/types.js';
import { CYCLE_FIELD_NAMES, cycleFields, eventLines, STEP_FIELD_NAMES, stepFields } from './line-protocol.js';
import { csvField } from './csv.js';
import type { Sink, SinkReport } from './sink.js';

// Columns: the wire contract's field names, in the README's order (line-protocol.ts spells them once).
const STEP_COLUMNS = ['time_ms', 'cell', 'kind', ...STEP_FIELD_NAMES];
const CYCLE_COLUMNS = ['time_ms', 'cell', ...CYCLE_FIELD_NAMES];

function csvValue(v: number | string | { readonly int: number } | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'object') return String(v.int);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return csvField(v);
}

export function stepCsvRow(s: StepRecord): string {
  const f = stepFields(s);
  return [s.tEnd, s.cell, s.kind, ...STEP_FIELD_NAMES.map((k) => f[k])].map(csvValue).join(',');
}

export function cycleCsvRow(c: CycleRecord): string {
  const f = cycleFields(c);
  return [c.tEnd, c.cell, ...CYCLE_FIELD_NAMES.map((k) => f[k])].map(csvValue).join(',');
}

/** alerts.csv: one row per incident event (open, escalate, resolve); the incident's columns after the former ones. */
export const ALERT_CSV_HEADER =
  'time_ms,cell,kind,level,previous,value,threshold,unit,message,incident,action,cycle,opened_cycle,last_seen_cycle,resolved_cycle,recurrences,peak,silenced';

export function alertCsvRow(a: AlertEvent): string {
  const i = a.incident;
  return [
    a.t,
    a.cell,
    a.kind,
    a.level,
    a.previous,
    a.value,
    a.threshold,
    a.unit,
    a.message,
    i.id,
    a.action,
    a.cycle,
    i.openedCycle,
    i.lastSeenCycle,
    i.resolvedCycle,
    i.recurrences,
    i.peak,
    a.silenced ? 1 : 0,
  ]
    .map(csvValue)
    .join(',');
}

export const STEP_CSV_HEADER = STEP_COLUMNS.join(',');
export const CYCLE_CSV_HEADER = CYCLE_COLUMNS.join(',');

export class FileSink implements Sink {
  readonly name = 'files';
  private readonly steps: WriteStream;
  private readonly cycles: WriteStream;
  private readonly lp: WriteStream;
  private readonly late: WriteStream;
  private readonly alerts: WriteStream;
  private lines = 0;
  /** Line-protocol lines written after a file failed (a full disk, a removed folder): they are lost. */
  private lost = 0;
  private failure: string | undefined;
  private closing: Promise<SinkReport> | undefined;

  constructor(
    readonly dir: string,
    private readonly withCurves = true,
  ) {
    mkdirSync(dir, { recursive: true });
    this.steps = this.open('steps.csv', STEP_CSV_HEADER);
    this.cycles = this.open('cycles.csv', CYCLE_CSV_HEADER);
    this.lp = this.open('points.lp');
    this.late = this.open('late.csv', 'ts_ms,cell,channel,value,behind_watermark_ms');
    this.alerts = this.open('alerts.csv', ALERT_CSV_HEADER);
  }

  private open(name: string, header?: string): WriteStream {
    const path = join(this.dir, name);
    const fresh = !existsSync(path);
    const s = createWriteStream(path, { flags: 'a' });
    // A failed write must not crash the daemon: the sink stops counting lines as written.
    s.on('error', (e) => (this.failure ??= `${name}: ${e.message}`));
    if (fresh && header !== undefined) s.write(header + '\n');
    return s;
  }

  write(events: readonly LabEvent[]): void {
    if (events.length === 0) return;
    let st = '';
    let cy = '';
    let la = '';
    let al = '';
    for (const e of events) {
      if (e.type === 'step') st += stepCsvRow(e.record) + '\n';
      else if (e.type === 'cycle') cy += cycleCsvRow(e.record) + '\n';
      else if (e.type === 'alert') {
        const a = e.alert;
        al += alertCsvRow(a) + '\n';
      } else if (e.type === 'late') la += `${e.reading.ts},${csvField(e.reading.cell)},${e.reading.channel},${e.reading.value},${e.watermark - e.reading.ts}\n`;
      // A cell's failure is logged and counted by the daemon, not a record of the files.
    }
    if (st !== '') this.steps.write(st);
    if (cy !== '') this.cycles.write(cy);
    if (la !== '') this.late.write(la);
    if (al !== '') this.alerts.write(al);
    const lines = eventLines(events, this.withCurves);
    if (this.failure !== undefined) this.lost += lines.length;
    else this.lines += lines.length;
    if (lines.length > 0) this.lp.write(lines.join('\n') + '\n');
  }

  /** Extra lines (e.g. `oep_ingest` counters) for the line-protocol file. */
  writeLines(lines: readonly string[]): void {
    if (lines.length > 0) this.lp.write(lines.join('\n') + '\n');
  }

  /** Line-protocol lines written so far (the event lines; the CSV rows go with them). */
  get linesWritten(): number {
    return this.lines;
  }

  /** Why the files stopped being written, if one failed. */
  get failed(): string | undefined {
    return this.failure;
  }

  private get streams(): WriteStream[] {
    return [this.steps, this.cycles, this.lp, this.late, this.alerts];
  }

  /** Resolves once every file has taken what was written (the operating system has it). */
  async flush(): Promise<void> {
    const draining = this.streams.filter((s) => s.writableNeedDrain);
    await Promise.all(
      draining.map(
        (s) =>
          new Promise<void>((resolve) =>
            s.once('drain', () => {
              resolve();
            }),
          ),
      ),
    );
  }

  close(): Promise<SinkReport> {
    this.closing ??= (async () => {
      await Promise.all(
        this.streams.map(
          (s) =>
            new Promise<void>((resolve) =>
              s.end(() => {
                resolve();
              }),
            ),
        ),
      );
      return { written: this.lines, lost: this.lost };
    })();
    return this.closing;
  }
}
