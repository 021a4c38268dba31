/**
 * The local sink: per-step and per-cycle CSV files (columns = the `oep_step` / `oep_cycle` field names),
 * a line-protocol file with every point (importable with `influx write`), and late readings kept aside.
 * Appends synchronously (the sizes are exact), so a restarted daemon continues the same files, cut back to
 * the sizes of its last checkpoint (the journal's replay writes what came after again: no row twice). Used
 * by the daemon (output.dir), the embedded default and `oep process`.
 */
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AlertEvent } from '../domain/alerts/incidents.js';
import type { LabEvent } from '../domain/lab.js';
import type { CycleRecord, StepRecord } from '../domain/types.js';
import { CYCLE_FIELD_NAMES, cycleFields, batchLines, STEP_FIELD_NAMES, stepFields } from './line-protocol.js';
import { csvField, parseCsvRecords } from './csv.js';
import type { Sink, SinkReport } from './sink.js';
import { syncFile } from './durable.js';

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

/** Each output file's size in bytes, by file name (what a checkpoint keeps, to cut the files back to on resume). */
export type FileOffsets = Readonly<Record<string, number>>;

const FILES = {
  steps: { name: 'steps.csv', header: STEP_CSV_HEADER },
  cycles: { name: 'cycles.csv', header: CYCLE_CSV_HEADER },
  lp: { name: 'points.lp', header: undefined },
  late: { name: 'late.csv', header: 'ts_ms,cell,channel,value,behind_watermark_ms' },
  alerts: { name: 'alerts.csv', header: ALERT_CSV_HEADER },
} as const;
type FileKey = keyof typeof FILES;

/** Text held for the files before it is written: past this many bytes it is written at once, ~chars. */
const HOLD_CHARS = 256 * 1024;

/** One appended file: its descriptor, its size (what was written to it) and the text waiting to be. */
interface OutFile {
  readonly name: string;
  fd: number | undefined;
  size: number;
  held: string[];
}

export class FileSink implements Sink {
  readonly name = 'files';
  private readonly files: Record<FileKey, OutFile>;
  private lines = 0;
  /** Line-protocol lines written after a file failed (a full disk, a removed folder): they are lost. */
  private lost = 0;
  private failure: string | undefined;
  /** When each cell's first record began, epoch ms (the zero of `elapsed_h`). */
  private readonly starts = new Map<string, number>();
  /**
   * The batches of one turn of the event loop are written together (one write per file, not one per
   * batch: a write per batch was 4 % of the daemon's CPU with 1,000 cells), from `setImmediate`, or at
   * once past {@link HOLD_CHARS}; {@link sync}, {@link offsets} and {@link close} write what is held first.
   * A crash loses at most that turn's rows, which the journal's replay writes again (the files are cut
   * back to the checkpoint's sizes).
   */
  private writeSoon: NodeJS.Immediate | undefined;
  private heldChars = 0;
  /** Line-protocol lines held (counted written, or lost, once written). */
  private heldLines = 0;

  /**
   * @param resumeAt the sizes a checkpoint recorded: each file is cut back to it, so the records the
   * journal's replay writes again are not in the files twice.
   */
  constructor(
    readonly dir: string,
    private readonly withCurves = true,
    resumeAt?: FileOffsets,
  ) {
    mkdirSync(dir, { recursive: true });
    const open = (k: FileKey): OutFile => this.open(FILES[k].name, FILES[k].header, resumeAt?.[FILES[k].name]);
    this.files = { steps: open('steps'), cycles: open('cycles'), lp: open('lp'), late: open('late'), alerts: open('alerts') };
    this.recoverStarts();
  }

  /**
   * A restarted daemon continues the files: each cell's `elapsed_h` keeps its zero, the start of the cell's
   * first step already in steps.csv (else a restart, or a crash and the journal's replay, would restart it).
   */
  private recoverStarts(): void {
    if (this.files.steps.size === 0) return;
    const [header, ...rows] = parseCsvRecords(readFileSync(join(this.dir, FILES.steps.name), 'utf8'));
    const cell = header?.indexOf('cell') ?? -1;
    const start = header?.indexOf('start_time_ms') ?? -1;
    if (cell < 0 || start < 0) return;
    for (const r of rows) {
      const id = r[cell];
      const t = Number(r[start]);
      if (id !== undefined && id !== '' && Number.isFinite(t) && !this.starts.has(id)) this.starts.set(id, t);
    }
  }

  private open(name: string, header: string | undefined, resumeAt: number | undefined): OutFile {
    const path = join(this.dir, name);
    const fd = openSync(path, 'a');
    let size = fstatSync(fd).size;
    if (resumeAt !== undefined && size > resumeAt) {
      ftruncateSync(fd, resumeAt);
      size = resumeAt;
    }
    const f: OutFile = { name, fd, size, held: [] };
    if (size === 0 && header !== undefined) this.writeText(f, header + '\n');
    return f;
  }

  /** Holds `text` for the file, written with the rest of this turn's (see {@link writeSoon}). */
  private append(f: OutFile, text: string): void {
    if (f.fd === undefined || text === '') return;
    f.held.push(text);
    this.heldChars += text.length;
    if (this.heldChars > HOLD_CHARS) this.writeHeld();
    else
      this.writeSoon ??= setImmediate(() => {
        this.writeSoon = undefined;
        this.writeHeld();
      });
  }

  /** Writes what every file holds; the held lines count as written, or as lost after a failed write. */
  private writeHeld(): void {
    if (this.writeSoon !== undefined) clearImmediate(this.writeSoon);
    this.writeSoon = undefined;
    for (const f of Object.values(this.files)) {
      if (f.held.length === 0) continue;
      const text = f.held.length === 1 ? (f.held[0] ?? '') : f.held.join('');
      f.held = [];
      this.writeText(f, text);
    }
    this.heldChars = 0;
    if (this.failure !== undefined) this.lost += this.heldLines;
    else this.lines += this.heldLines;
    this.heldLines = 0;
  }

  /** Appends synchronously; a failed write (a full disk, a removed folder) never crashes the daemon: the sink stops counting lines as written. */
  private writeText(f: OutFile, text: string): void {
    if (f.fd === undefined || text === '') return;
    try {
      const b = Buffer.from(text);
      let done = 0;
      while (done < b.length) done += writeSync(f.fd, b, done, b.length - done);
      f.size += b.length;
    } catch (e) {
      this.failure ??= `${f.name}: ${e instanceof Error ? e.message : String(e)}`;
    }
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
        al += alertCsvRow(a) + '\n';
      } else if (e.type === 'late') la += `${e.reading.ts},${csvField(e.reading.cell)},${e.reading.channel},${e.reading.value},${e.watermark - e.reading.ts}\n`;
      // A cell's failure is logged and counted by the daemon, not a record of the files.
    }
    const f = this.files;
    this.append(f.steps, st);
    this.append(f.cycles, cy);
    this.append(f.late, la);
    this.append(f.alerts, al);
    const lines = batchLines(events, this.withCurves);
    if (lines.length > 0) this.append(f.lp, lines.join('\n') + '\n');
    if (this.failure !== undefined) this.lost += lines.length;
    else this.heldLines += lines.length;
  }

  private startOf(cell: string, t: number): number {
    let t0 = this.starts.get(cell);
    if (t0 === undefined) this.starts.set(cell, (t0 = t));
    return t0;
  }

  /** Extra lines (e.g. `oep_ingest` counters) for the line-protocol file. */
  writeLines(lines: readonly string[]): void {
    if (lines.length > 0) this.append(this.files.lp, lines.join('\n') + '\n');
  }

  /** Line-protocol lines written so far (the event lines; the CSV rows go with them), held ones included. */
  get linesWritten(): number {
    return this.lines + this.heldLines;
  }

  /** Why the files stopped being written, if one failed. */
  get failed(): string | undefined {
    return this.failure;
  }

  /** Every file's size now, by name (for a checkpoint: call {@link sync} first). */
  get offsets(): FileOffsets {
    this.writeHeld();
    return Object.fromEntries(Object.values(this.files).map((f) => [f.name, f.size]));
  }

  /** Makes everything written so far durable: resolves once an fdatasync of every file, run off the event loop, is done. */
  sync(): Promise<void> {
    this.writeHeld();
    const open = Object.values(this.files).filter((f) => f.fd !== undefined);
    return Promise.all(open.map((f) => syncFile(join(this.dir, f.name)))).then(() => undefined);
  }

  /** Writes what is held (the writes are synchronous: then the operating system has everything). */
  flush(): Promise<void> {
    this.writeHeld();
    return Promise.resolve();
  }

  close(): Promise<SinkReport> {
    this.writeHeld();
    for (const f of Object.values(this.files)) {
      if (f.fd === undefined) continue;
      try {
        closeSync(f.fd);
      } catch (e) {
        this.failure ??= `${f.name}: ${e instanceof Error ? e.message : String(e)}`;
      }
      f.fd = undefined;
    }
    return Promise.resolve({ written: this.lines, lost: this.lost });
  }
}
