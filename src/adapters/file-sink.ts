/**
 * The local sink: per-step and per-cycle CSV files (columns = the `oep_step` / `oep_cycle` field names),
 * a line-protocol file with every point (importable with `influx write`), and late readings kept aside.
 * Appends, so a restarted daemon continues the same files. Used by the daemon (output.dir), the embedded
 * default and `oep process`.
 */
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { LabEvent } from '../domain/lab.js';
import type { CycleRecord, StepRecord } from '../domain/types.js';
import { CYCLE_FIELD_NAMES, cycleFields, eventLines, STEP_FIELD_NAMES, stepFields } from './line-protocol.js';
import { csvField } from './csv.js';
import type { Sink, SinkReport } from './sink.js';

// Columns: the record's time three ways (epoch ms; ISO-8601 UTC, what a spreadsheet opens; hours since the
// cell's first step began), then the wire contract's field names, in the README's order (line-protocol.ts
// spells them once).
const TIME_COLUMNS = ['time_ms', 'time_iso', 'elapsed_h'];
const STEP_COLUMNS = [...TIME_COLUMNS, 'cell', 'kind', ...STEP_FIELD_NAMES];
const CYCLE_COLUMNS = [...TIME_COLUMNS, 'cell', ...CYCLE_FIELD_NAMES];

/** time_ms, time_iso, elapsed_h of a record at `t` whose cell began at `t0`. */
function timeCells(t: number, t0: number): string[] {
  return [String(t), Number.isFinite(t) ? new Date(t).toISOString() : '', String((t - t0) / 3_600_000)];
}

function csvValue(v: number | string | { readonly int: number } | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'object') return String(v.int);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return csvField(v);
}

/** A steps.csv row; `t0` is when the cell's first step began (for `elapsed_h`). */
export function stepCsvRow(s: StepRecord, t0: number): string {
  const f = stepFields(s);
  return [...timeCells(s.tEnd, t0), ...[s.cell, s.kind, ...STEP_FIELD_NAMES.map((k) => f[k])].map(csvValue)].join(',');
}

/** A cycles.csv row; `t0` is when the cell's first step began. */
export function cycleCsvRow(c: CycleRecord, t0: number): string {
  const f = cycleFields(c);
  return [...timeCells(c.tEnd, t0), ...[c.cell, ...CYCLE_FIELD_NAMES.map((k) => f[k])].map(csvValue)].join(',');
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
  /** When each cell's first record began, epoch ms (the zero of `elapsed_h`). */
  private readonly starts = new Map<string, number>();

  constructor(
    readonly dir: string,
    private readonly withCurves = true,
  ) {
    mkdirSync(dir, { recursive: true });
    this.steps = this.open('steps.csv', STEP_CSV_HEADER);
    this.cycles = this.open('cycles.csv', CYCLE_CSV_HEADER);
    this.lp = this.open('points.lp');
    this.late = this.open('late.csv', 'ts_ms,cell,channel,value,behind_watermark_ms');
    this.alerts = this.open('alerts.csv', 'time_ms,cell,kind,level,previous,value,threshold,unit,message');
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
      if (e.type === 'step') st += stepCsvRow(e.record, this.startOf(e.record.cell, e.record.tStart)) + '\n';
      else if (e.type === 'cycle') cy += cycleCsvRow(e.record, this.startOf(e.record.cell, e.record.tStart)) + '\n';
      else if (e.type === 'alert') {
        const a = e.alert;
        al += [a.t, a.cell, a.kind, a.level, a.previous, a.value, a.threshold, a.unit, a.message].map(csvValue).join(',') + '\n';
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

  private startOf(cell: string, t: number): number {
    let t0 = this.starts.get(cell);
    if (t0 === undefined) this.starts.set(cell, (t0 = t));
    return t0;
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
