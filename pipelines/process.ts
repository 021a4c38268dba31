/**
 * Offline processing (`oep process`): a recorded cycler export (and a load-cell log) through the same
 * pipeline as the daemon: the edge's conversion, the same `Lab` (event-time aligner, cell processor,
 * cycle metrics, alerts), into the same file sink (steps.csv, cycles.csv, points.lp, late.csv,
 * alerts.csv) and optionally InfluxDB.
 *
 *   recordedReadings (files merged by event time) ─ recordedBatches ─ processInLab ─ sinks
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
import { openSource, type Source } from '../src/adapters/files.js';
import { recordedReadings, type RecordedRead } from '../src/adapters/recorded.js';
import { writeAll, type Sink, type SinkReport } from '../src/adapters/sink.js';
import { ConfigError } from '../src/config/defaults.js';
import type { OepConfig } from '../src/config/schema.js';
import type { ResolvedCell } from '../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../src/domain/lab.js';
import { CyclerCounterJoin } from '../src/readers/cycler-counters.js';
import type { CyclerRowParser } from '../src/readers/stream.js';
import type { FormatName, ReaderOptions } from '../src/readers/formats.js';
import { labStep, recordedSlices } from './lab-steps.js';

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
  /** The file has no start date and none was given (`--start`): its times count from 1970-01-01. */
  readonly noClock: boolean;
  /** Which cycles the records are: the cycler's own index (`cycleSource` auto on an index that varies, or cycler), derived from the steps, or none. */
  readonly cycleDefinition: 'cycler' | 'derived' | 'none';
  /** Steps where oep's integral and the cycler's counter disagree by more than COUNTER_WARN_REL: the first ones, and how many. */
  readonly counterWarnings: readonly string[];
  readonly counterWarningCount: number;
}

/** Refuses to mix with an earlier run's files, or removes them (`force`). */
export function prepareOutDir(dir: string, force: boolean): void {
  const existing = OUTPUT_FILES.filter((f) => existsSync(join(dir, f)));
  if (existing.length === 0) return;
  if (!force) throw new ConfigError(`${dir} already holds ${existing.join(', ')} from an earlier run; choose another --out or pass --force to replace them`);
  for (const f of existing) rmSync(join(dir, f));
}

/** Counts of what was read, and the progress callback (at most every 200 ms). */
function readCounter(
  sources: readonly Source[],
  onProgress: ProcessOptions['onProgress'],
): { rows: number; pressureRows: number; bytes: () => number; onRead: (r: RecordedRead) => void } {
  const bytes = sources.map((s) => s.bom);
  const totalBytes = sources.reduce((s, x) => s + x.size, 0);
  let lastProgress = 0;
  const c = {
    rows: 0,
    pressureRows: 0,
    bytes: () => bytes.reduce((s, x) => s + x, 0),
    onRead(r: RecordedRead): void {
      bytes[r.source] = r.offset;
      if (r.kind === 'cycler') c.rows += r.rows;
      else c.pressureRows += r.rows;
      if (onProgress === undefined) return;
      const now = performance.now();
      if (now - lastProgress > 200) {
        lastProgress = now;
        onProgress({ bytes: c.bytes(), totalBytes, rows: c.rows + c.pressureRows });
      }
    },
  };
  return c;
}

/** Opens the cycler file (and the pressure log); refuses a pressure log given as the cycler file. */
async function openSources(o: ProcessOptions): Promise<{ cycler: Source; pressure: Source | undefined }> {
  const cycler = await openSource(o.cyclerFile, o.reader ?? {}, o.format);
  if (cycler.reader.kind !== 'cycler')
    throw new ConfigError(`${cycler.fileName} is a pressure log, not a cycler export (give the cycler file first and the log with --pressure)`);
  const pressure = o.pressureFile !== undefined ? await openSource(o.pressureFile, { pressure: o.pressureReader ?? {} }, 'pressure') : undefined;
  return { cycler, pressure };
}

/**
 * The lab, with the cell's settings; lateness ≥ 1 ms so that equal timestamps in a file are never late.
 * The cell's settings are asked for when its first reading arrives, after the header: the file says what
 * its current column holds. A recorded file's rows are samples (instantaneous: trapezoids, and a gap that
 * ends at a step change or at rest carried nothing), or interval averages (EC-Lab's `<I>/mA`: right rectangles).
 */
function labFor(setup: ResolvedCell, parser: CyclerRowParser | undefined): Lab {
  return new Lab(() => ({
    ...setup,
    aligner: { ...setup.aligner, lateness_ms: Math.max(1, setup.aligner.lateness_ms) },
    processor: { ...setup.processor, currentSampling: parser?.currentSampling ?? 'instantaneous' },
  }));
}

export async function processFiles(o: ProcessOptions): Promise<ProcessReport> {
  const t0 = performance.now();
  prepareOutDir(o.outDir, o.force ?? false);
  const { cycler, pressure } = await openSources(o);
  const sources: Source[] = pressure === undefined ? [cycler] : [cycler, pressure];
  const totalBytes = sources.reduce((s, x) => s + x.size, 0);

  const setup = o.setup;
  const parser = cycler.reader.kind === 'cycler' ? cycler.reader.parser : undefined;
  const lab = labFor(setup, parser);
  const files = new FileSink(o.outDir, o.influx?.writeCurves ?? true);
  // The InfluxDB client is loaded only when there is somewhere to write (start-up of a files-only run).
  const influx =
    o.influx !== undefined ? new (await import('../src/adapters/influx-sink.js')).InfluxSink({ ...o.influx, onError: () => undefined }) : undefined;
  const sinks: Sink[] = influx !== undefined ? [files, influx] : [files];
  const counts = { readings: 0, finishSteps: 0, finishCycles: 0, cyclerCycles: 0, derivedCycles: 0 };
  // The cycler's own counters beside oep's integral, step by step (only where the cycler's steps are the steps).
  const join = parser !== undefined && o.cyclerSteps ? new CyclerCounterJoin(parser.oracle, setup.capacitySource) : undefined;
  const write = (raw: readonly LabEvent[]): void => {
    const events = join !== undefined ? join.events(raw) : raw;
    for (const e of events) if (e.type === 'cycle') counts[e.record.cyclerCycle !== undefined ? 'cyclerCycles' : 'derivedCycles']++;
    writeAll(sinks, events);
    o.onEvents?.(events);
  };
  const read = readCounter(sources, o.onProgress);
  const recorded = recordedReadings(
    sources.map((source) => ({ source, cell: o.cell })),
    {
      withSteps: o.cyclerSteps,
      signal: o.signal,
      onRead: (r) => {
        read.onRead(r);
      },
    },
  );
  // The same steps as the live pipeline's operators (recordedBatches, processInLab), in a loop: no RxJS to load.
  const slices = recordedSlices({ settingsFor: () => setup.ingest, span_ms: setup.aligner.idleTimeout_ms * INGEST_SPAN_OF_IDLE, maxReadings: INGEST_SLICE });
  const toLab = labStep(lab);
  try {
    for await (const chunk of recorded) {
      counts.readings += chunk.length;
      for (const batch of slices(chunk)) {
        const events = toLab(batch);
        if (events.length > 0) write(events);
      }
    }
    const last: LabEvent[] = [];
    lab.finish(last);
    for (const e of last) {
      if (e.type === 'step') counts.finishSteps++;
      else if (e.type === 'cycle') counts.finishCycles++;
    }
    if (last.length > 0) write(last);
    o.onProgress?.({ bytes: totalBytes, totalBytes, rows: read.rows + read.pressureRows });
    const counters = lab.cell(o.cell).counters;
    const influxReport = influx !== undefined ? await influx.close() : undefined;
    return {
      format: cycler.format,
      ...(pressure !== undefined ? { pressureFormat: pressure.format } : {}),
      rows: read.rows,
      pressureRows: read.pressureRows,
      readings: counts.readings,
      steps: counters.steps,
      cycles: counters.cycles,
      alerts: counters.alerts,
      late: counters.late,
      duplicate: counters.duplicate,
      finishSteps: counts.finishSteps,
      finishCycles: counts.finishCycles,
      elapsed_ms: performance.now() - t0,
      ...(influxReport !== undefined ? { influx: influxReport } : {}),
      aborted: o.signal?.aborted ?? false,
      noClock: parser?.startTs === 0 && o.reader?.startTs === undefined,
      cycleDefinition: counts.cyclerCycles > 0 ? 'cycler' : counts.derivedCycles > 0 ? 'derived' : 'none',
      counterWarnings: join?.warnings ?? [],
      counterWarningCount: join?.warningCount ?? 0,
    };
  } finally {
    await files.close();
    if (influx !== undefined) await influx.close(0);
  }
}
