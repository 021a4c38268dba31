/**
 * Offline processing (`oep process`): a recorded cycler export (and a load-cell log) through the same
 * `Lab` as the daemon (event-time aligner, cell processor, cycle metrics), into the same file sink
 * (steps.csv, cycles.csv, points.lp, late.csv) and optionally InfluxDB.
 *
 * Files stream in batches of about 1 MB; readings of the two files are merged by event time (ties: step,
 * current, voltage, pressure, the order `oep replay` publishes in), so the lab sees the sequence it would
 * see live. The processing-time clock the aligner needs is the event time of each batch: a channel that
 * stays silent for the idle timeout of event time (a log that ended, a cell without pressure) stops
 * holding the cell back, as it would live, and since the merged input never goes back in time no reading
 * can be late unless a file itself goes back in time. Such readings are counted and kept in late.csv,
 * and the run reports them. At the end `lab.finish()` closes the last step and the incomplete cycle.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FileSink } from '../src/adapters/file-sink.js';
import { InfluxSink, type SinkReport } from '../src/adapters/influx-sink.js';
import { eventLines } from '../src/adapters/line-protocol.js';
import { ConfigError, type OepConfig, type ResolvedCell } from '../src/config/schema.js';
import { Lab, type LabEvent } from '../src/domain/lab.js';
import type { Reading } from '../src/domain/types.js';
import { pressureToMPa } from '../src/domain/units.js';
import type { FormatName, ReaderOptions } from '../src/readers/formats.js';
import { CHANNEL_RANK, RowsToReadings, type ReadingSink } from '../src/readers/readings.js';
import type { PressureLogUnit } from '../src/readers/stream.js';
import { openSource, parsedBatches, type ParsedBatch, type Source } from './files.js';
import { TimeMerge } from './merge.js';

/** Most readings per `lab.ingest` call. */
const INGEST_SLICE = 2048;
/**
 * Longest event-time span of one `lab.ingest` call, as a fraction of the idle timeout: the clock the
 * aligner sees advances in steps this small, so idleness (and the startup hold) is judged as it would be live.
 */
const INGEST_SPAN_OF_IDLE = 0.25;

/** The files `FileSink` writes; `--force` removes exactly these. */
export const OUTPUT_FILES = ['steps.csv', 'cycles.csv', 'points.lp', 'late.csv', 'alerts.csv'];

export interface ProcessOptions {
  readonly cyclerFile: string;
  /** Overrides content detection. */
  readonly format?: FormatName | undefined;
  readonly reader?: Omit<ReaderOptions, 'fileName' | 'pressure'>;
  readonly pressureFile?: string | undefined;
  readonly pressureReader?: ReaderOptions['pressure'];
  readonly cell: string;
  /** The cell's settings (`resolveCell` over the config and the command line). */
  readonly setup: ResolvedCell;
  /** Feed the cycler's step/cycle index as `step` readings (its steps are then authoritative). */
  readonly cyclerSteps: boolean;
  readonly outDir: string;
  /** Remove earlier outputs in `outDir` instead of refusing to mix runs. */
  readonly force?: boolean;
  /** Also write to InfluxDB. */
  readonly influx?: OepConfig['influx'];
  readonly onProgress?: (p: ProcessProgress) => void;
  readonly onEvents?: (events: readonly LabEvent[]) => void;
  readonly signal?: AbortSignal;
}

export interface ProcessProgress {
  readonly bytes: number;
  readonly totalBytes: number;
  readonly rows: number;
}

export interface ProcessReport {
  readonly format: FormatName;
  readonly pressureFormat?: FormatName;
  readonly rows: number;
  readonly pressureRows: number;
  readonly readings: number;
  readonly steps: number;
  readonly cycles: number;
  readonly alerts: number;
  readonly late: number;
  readonly duplicate: number;
  /** Records emitted by `lab.finish()` (the last step, the incomplete cycle): a live run has not seen them yet. */
  readonly finishSteps: number;
  readonly finishCycles: number;
  readonly elapsed_ms: number;
  readonly influx?: SinkReport;
  readonly aborted: boolean;
}

/** Typed readings of one source, in canonical units, into the merge lanes (lane = rank × sources + source). */
class LaneSink implements ReadingSink {
  constructor(
    private readonly merge: TimeMerge<Reading>,
    private readonly cell: string,
    private readonly setup: ResolvedCell,
    private readonly source: number,
    private readonly sources: number,
  ) {}
  /** Newest event time pushed (the source's frontier). */
  newest = -Infinity;
  /** The pressure log's unit, known once its header is read. */
  pressureUnit: PressureLogUnit = 'MPa';
  private lane(rank: number): number {
    return rank * this.sources + this.source;
  }
  step(ts: number, step: number, cycle: number | undefined): void {
    const r: Reading = cycle === undefined ? { cell: this.cell, channel: 'step', ts, value: step } : { cell: this.cell, channel: 'step', ts, value: step, cycleIndex: cycle };
    this.merge.push(this.lane(CHANNEL_RANK.step), r);
    if (ts > this.newest) this.newest = ts;
  }
  current(ts: number, current_mA: number): void {
    // As the wire edge does for a payload in mA: the cell's sign convention applies.
    this.merge.push(this.lane(CHANNEL_RANK.current), { cell: this.cell, channel: 'current', ts, value: this.setup.ingest.currentSign * current_mA });
    if (ts > this.newest) this.newest = ts;
  }
  voltage(ts: number, voltage_V: number): void {
    this.merge.push(this.lane(CHANNEL_RANK.voltage), { cell: this.cell, channel: 'voltage', ts, value: voltage_V });
  }
  pressure(ts: number, value: number): void {
    this.merge.push(this.lane(CHANNEL_RANK.pressure), { cell: this.cell, channel: 'pressure', ts, value: pressureToMPa(value, this.pressureUnit, this.setup.ingest.areaMm2) });
    if (ts > this.newest) this.newest = ts;
  }
}

/** Refuses to mix with an earlier run's files, or removes them (`force`). */
export function prepareOutDir(dir: string, force: boolean): void {
  const existing = OUTPUT_FILES.filter((f) => existsSync(join(dir, f)));
  if (existing.length === 0) return;
  if (!force) throw new ConfigError(`${dir} already holds ${existing.join(', ')} from an earlier run; choose another --out or pass --force to replace them`);
  for (const f of existing) rmSync(join(dir, f));
}

export async function processFiles(o: ProcessOptions): Promise<ProcessReport> {
  const t0 = performance.now();
  prepareOutDir(o.outDir, o.force ?? false);
  const cycler = await openSource(o.cyclerFile, { ...(o.reader ?? {}), oracle: false }, o.format);
  if (cycler.reader.kind !== 'cycler') throw new ConfigError(`${cycler.fileName} is a pressure log, not a cycler export (give the cycler file first and the log with --pressure)`);
  let pressure: Source | undefined;
  if (o.pressureFile !== undefined) {
    pressure = await openSource(o.pressureFile, { pressure: o.pressureReader ?? {} }, 'pressure');
  }
  const sources: Source[] = pressure === undefined ? [cycler] : [cycler, pressure];
  const totalBytes = sources.reduce((s, x) => s + x.size, 0);

  // The lab, with the cell's settings; lateness ≥ 1 ms so that equal timestamps in a file are never late.
  const setup = o.setup;
  const lab = new Lab(() => ({ ...setup, aligner: { ...setup.aligner, lateness_ms: Math.max(1, setup.aligner.lateness_ms) } }));
  const span = setup.aligner.idleTimeout_ms * INGEST_SPAN_OF_IDLE;
  const files = new FileSink(o.outDir, o.influx?.writeCurves ?? true);
  const influx = o.influx !== undefined ? new InfluxSink({ ...o.influx, onError: () => undefined }) : undefined;
  let steps = 0;
  let cycles = 0;
  let alerts = 0;
  const write = (events: readonly LabEvent[]): void => {
    if (events.length === 0) return;
    for (const e of events) {
      if (e.type === 'step') steps++;
      else if (e.type === 'cycle') cycles++;
      else if ((e.type as string) === 'alert') alerts++;
    }
    files.write(events);
    influx?.write(eventLines(events, o.influx?.writeCurves ?? true));
    o.onEvents?.(events);
  };

  const merge = new TimeMerge<Reading>(4 * sources.length);
  const sinks = sources.map((_, i) => new LaneSink(merge, o.cell, setup, i, sources.length));
  const convert = new RowsToReadings(o.cyclerSteps);
  const iters = sources.map((s) => parsedBatches(s, o.signal));
  const ended = sources.map(() => false);
  const bytes = sources.map((s) => s.bom);
  let rows = 0;
  let pressureRows = 0;
  let readings = 0;
  let chunk: Reading[] = [];
  let events: LabEvent[] = [];
  let lastProgress = 0;

  const feed = (horizon: number): void => {
    if (chunk.length > 0) chunk = [];
    merge.drain(horizon, chunk);
    if (chunk.length === 0) return;
    readings += chunk.length;
    events = [];
    // Processing time = event time (see the file comment), in slices of at most `span` ms of event time.
    for (let i = 0; i < chunk.length; ) {
      const t0 = chunk[i]!.ts;
      let j = i + 1;
      while (j < chunk.length && j - i < INGEST_SLICE && chunk[j]!.ts - t0 <= span) j++;
      const part = i === 0 && j === chunk.length ? chunk : chunk.slice(i, j);
      lab.ingest(o.cell, part, part[part.length - 1]!.ts, events);
      i = j;
    }
    write(events);
  };

  try {
    while (!ended.every((e) => e)) {
      // Pull from the source that is furthest behind in event time.
      let k = -1;
      for (let i = 0; i < sources.length; i++) if (!ended[i] && (k < 0 || sinks[i]!.newest < sinks[k]!.newest)) k = i;
      const next = await iters[k]!.next();
      if (next.done === true) {
        ended[k] = true;
      } else {
        const b: ParsedBatch = next.value;
        bytes[k] = b.offset;
        if (b.kind === 'cycler') {
          rows += b.rows.length;
          convert.cycler(b.rows, sinks[k]!);
        } else {
          // The unit is known once the header is read, which may be in this very batch.
          if (pressure?.reader.kind === 'pressure') sinks[k]!.pressureUnit = pressure.reader.parser.unit ?? 'MPa';
          pressureRows += b.rows.length;
          RowsToReadings.pressure(b.rows, sinks[k]!);
        }
      }
      let horizon = Infinity;
      for (let i = 0; i < sources.length; i++) if (!ended[i] && sinks[i]!.newest < horizon) horizon = sinks[i]!.newest;
      feed(horizon);
      if (o.onProgress !== undefined) {
        const now = performance.now();
        if (now - lastProgress > 200) {
          lastProgress = now;
          o.onProgress({ bytes: bytes.reduce((s, x) => s + x, 0), totalBytes, rows: rows + pressureRows });
        }
      }
      if (o.signal?.aborted) break;
    }
    feed(Infinity);
    events = [];
    lab.finish(events);
    write(events);
    const finishSteps = events.filter((e) => e.type === 'step').length;
    const finishCycles = events.filter((e) => e.type === 'cycle').length;
    o.onProgress?.({ bytes: totalBytes, totalBytes, rows: rows + pressureRows });
    const counters = lab.cell(o.cell).counters;
    const influxReport = influx !== undefined ? await influx.close() : undefined;
    return {
      format: cycler.format,
      ...(pressure !== undefined ? { pressureFormat: pressure.format } : {}),
      rows,
      pressureRows,
      readings,
      steps,
      cycles,
      alerts,
      late: counters.late,
      duplicate: counters.duplicate,
      finishSteps,
      finishCycles,
      elapsed_ms: performance.now() - t0,
      ...(influxReport !== undefined ? { influx: influxReport } : {}),
      aborted: o.signal?.aborted ?? false,
    };
  } finally {
    await files.close();
    if (influx !== undefined) await influx.close(0);
  }
}
