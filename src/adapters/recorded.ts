/**
 * Recorded files as one event-time ordered stream: the input of `oep process` (into the lab) and of
 * `oep replay` (onto the wire), so both see the same sequence.
 *
 * Each file's rows become readings in the file's own units (current mA, voltage V, the load-cell log's
 * pressure unit; the cycler's step index when `withSteps`), by the one rule of `RowsToReadings`. The
 * canonical conversion is left to the edge (`canonicalReading`), the same function MQTT payloads go
 * through. Readings of all files are merged by event time; ties go by channel (`CHANNEL_RANK`: step,
 * current, voltage, pressure), then by file. The file furthest behind in event time is read next, and a
 * reading is handed on once no file can still produce an earlier one (the horizon: the smallest newest
 * timestamp over the files that have not ended), so memory stays bounded by the files' skew.
 */
import { TimeMerge } from '../domain/merge.js';
import type { Channel } from '../domain/types.js';
import type { EdgeReading } from '../ingest/canonical.js';
import { CHANNEL_RANK, channelRank, RowsToReadings, type ReadingSink } from '../readers/readings.js';
import type { PressureLogUnit } from '../readers/stream.js';
import { parsedBatches, type RowBatch, type Source } from './files.js';
import { OneSourceMerge, type LaneMerge } from './recorded-queue.js';

/** A reading of a recorded file, in the file's units, with the index of the file it came from. */
export interface RecordedReading extends EdgeReading {
  readonly source: number;
}

/** A file and the cell its readings belong to. */
export interface RecordedSource {
  readonly source: Source;
  readonly cell: string;
}

/** What one read of a file gave: for progress and row counts. */
export interface RecordedRead {
  readonly source: number;
  readonly kind: RowBatch['kind'];
  readonly rows: number;
  /** File offset just after the rows read, bytes. */
  readonly offset: number;
}

export interface RecordedOptions {
  /** Emit the cycler's step/cycle index as `step` readings (its steps are then authoritative). */
  readonly withSteps: boolean;
  /** Stops reading; what was read is still handed on. */
  readonly signal?: AbortSignal | undefined;
  /** Called after each batch of rows read from a file. */
  readonly onRead?: (r: RecordedRead) => void;
}

/** One file's readings into the merge lanes (lane = rank × files + file), in the file's own units. */
export class RecordedLanes implements ReadingSink {
  /** Newest event time pushed (the file's frontier). */
  newest = -Infinity;
  /** The pressure log's unit, known once its header is read. */
  pressureUnit: PressureLogUnit = 'MPa';

  constructor(
    private readonly merge: LaneMerge<RecordedReading>,
    private readonly cell: string,
    private readonly source: number,
    private readonly sources: number,
  ) {}

  private push(channel: Channel, ts: number, value: number, unit: string | undefined, cycle: number | undefined): void {
    this.merge.push(channelRank(channel) * this.sources + this.source, { cell: this.cell, channel, ts, value, unit, cycle, source: this.source });
    if (ts > this.newest) this.newest = ts;
  }
  step(ts: number, step: number, cycle: number | undefined): void {
    this.push('step', ts, step, undefined, cycle);
  }
  current(ts: number, current_mA: number): void {
    this.push('current', ts, current_mA, 'mA', undefined);
  }
  voltage(ts: number, voltage_V: number): void {
    this.push('voltage', ts, voltage_V, 'V', undefined);
  }
  pressure(ts: number, value: number): void {
    this.push('pressure', ts, value, this.pressureUnit, undefined);
  }
}

const RANKS = Object.keys(CHANNEL_RANK).length;

/** A merge with lanes for `sources` files (one file: the same order, without lanes while it runs forward in time). */
export function recordedMerge(sources: number): LaneMerge<RecordedReading> {
  return sources === 1 ? new OneSourceMerge<RecordedReading>(RANKS) : new TimeMerge<RecordedReading>(RANKS * sources);
}

/** Rows of one batch into the file's lanes (the pressure unit is known once the header is parsed, maybe in this very batch). */
export function pushRows(batch: RowBatch, lanes: RecordedLanes, convert: RowsToReadings, source: Source): void {
  if (batch.kind === 'cycler') {
    convert.cycler(batch.rows, lanes);
  } else {
    if (source.reader.kind === 'pressure') lanes.pressureUnit = source.reader.parser.unit ?? 'MPa';
    RowsToReadings.pressure(batch.rows, lanes);
  }
}

/** One file being read: its lanes, its row converter, its batches. */
interface OpenFile {
  readonly lanes: RecordedLanes;
  readonly convert: RowsToReadings;
  readonly batches: AsyncGenerator<RowBatch>;
  readonly source: Source;
  readonly index: number;
  ended: boolean;
}

/** The file that has not ended and is furthest behind in event time. */
function furthestBehind(files: readonly OpenFile[]): OpenFile | undefined {
  let k: OpenFile | undefined;
  for (const f of files) if (!f.ended && (k === undefined || f.lanes.newest < k.lanes.newest)) k = f;
  return k;
}

/** The smallest newest timestamp over the files that have not ended (Infinity when all have). */
function horizonOf(files: readonly OpenFile[]): number {
  let h = Infinity;
  for (const f of files) if (!f.ended && f.lanes.newest < h) h = f.lanes.newest;
  return h;
}

/**
 * The readings of `sources`, merged in event-time order, in chunks (one per read of a file that let the
 * horizon move). Ends when every file has ended or `signal` aborts; then hands on what is still queued.
 * Reader errors (an unknown layout, a bad header) end the stream with that error.
 */
export async function* recordedReadings(sources: readonly RecordedSource[], o: RecordedOptions): AsyncGenerator<RecordedReading[]> {
  const merge = recordedMerge(sources.length);
  const files: OpenFile[] = sources.map((s, index) => ({
    lanes: new RecordedLanes(merge, s.cell, index, sources.length),
    convert: new RowsToReadings(o.withSteps),
    batches: parsedBatches(s.source, o.signal),
    source: s.source,
    index,
    ended: false,
  }));
  try {
    for (let f = furthestBehind(files); f !== undefined && o.signal?.aborted !== true; f = furthestBehind(files)) {
      const next = await f.batches.next();
      if (next.done === true) {
        f.ended = true;
      } else {
        pushRows(next.value, f.lanes, f.convert, f.source);
        o.onRead?.({ source: f.index, kind: next.value.kind, rows: next.value.rows.length, offset: next.value.offset });
      }
      const chunk: RecordedReading[] = [];
      merge.drain(horizonOf(files), chunk);
      if (chunk.length > 0) yield chunk;
    }
    const rest: RecordedReading[] = [];
    merge.drain(Infinity, rest);
    if (rest.length > 0) yield rest;
  } finally {
    // Files left open by an abort or an error downstream are closed.
    for (const f of files) if (!f.ended) await f.batches.return(undefined);
  }
}
