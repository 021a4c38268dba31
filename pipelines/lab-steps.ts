/**
 * The steps between the edge and the lab, as plain functions: recorded readings cut into batches through
 * the edge's conversion (`recordedSlices`), and a batch into the lab with its failure isolated
 * (`labStep`). operators.ts makes the pipeline's RxJS operators of them; `oep process` calls them in a
 * loop of its own, so its start-up loads neither RxJS nor zod (no MQTT parsing here).
 */
import type { Lab, LabEvent } from '../src/domain/lab.js';
import type { Reading } from '../src/domain/types.js';
import {
  canonicalReading,
  isRejection,
  newUnitMemo,
  type CellIngestSettings,
  type EdgeReading,
  type ParsedMessage,
  type Rejection,
  type UnitMemo,
} from '../src/ingest/canonical.js';
import type { ReadingPairs } from '../src/ingest/payload.js';
import { CHANNEL_RANK, channelRank } from '../src/readers/readings.js';

export interface ParsedBatch extends ParsedMessage {
  readonly cell: string | undefined;
  readonly arrival: number;
  /** The batch's readings as numbers (a compact batch from MQTT: `readings` then makes them when read). */
  readonly pairs?: ReadingPairs;
}

export interface RecordedBatchOptions {
  readonly settingsFor: (cell: string) => CellIngestSettings;
  /** Longest event-time span of one batch, ms. */
  readonly span_ms: number;
  /** Most readings in one batch. */
  readonly maxReadings: number;
}

/**
 * Recorded readings (chunks in event-time order, values in the files' units) → parsed batches, through
 * the edge's conversion. Offline, the processing-time clock the aligner needs is the event time: each
 * batch arrives at the time of its last reading, and a batch spans at most `span_ms` of event time and
 * `maxReadings` readings (one cell each), so the clock advances in steps that small and idleness is
 * judged as it would be live. One slicer per run: it keeps the unit memos of the cells it met.
 */
export function recordedSlices(o: RecordedBatchOptions): (chunk: readonly EdgeReading[]) => ParsedBatch[] {
  const memos = new Map<string, UnitMemo[]>();
  const memosOf = (cell: string): UnitMemo[] => {
    let m = memos.get(cell);
    if (m === undefined) memos.set(cell, (m = Object.keys(CHANNEL_RANK).map(() => newUnitMemo())));
    return m;
  };
  return (chunk) => sliceRecorded(chunk, o, memosOf);
}

/** One chunk cut into batches (see {@link recordedSlices}), each converted at the edge. */
function sliceRecorded(chunk: readonly EdgeReading[], o: RecordedBatchOptions, memosOf: (cell: string) => UnitMemo[]): ParsedBatch[] {
  const out: ParsedBatch[] = [];
  // Each slice is chunk[from, k): converted where it lies, not copied into an array of its own first.
  let from = 0;
  let first = chunk[0];
  for (let k = 1; k < chunk.length && first !== undefined; k++) {
    const e = chunk[k];
    if (e !== undefined && (k - from >= o.maxReadings || e.ts - first.ts > o.span_ms || e.cell !== first.cell)) {
      out.push(atEdge(first.cell, chunk, from, k, o.settingsFor(first.cell), memosOf(first.cell)));
      from = k;
      first = e;
    }
  }
  if (first !== undefined) out.push(atEdge(first.cell, chunk, from, chunk.length, o.settingsFor(first.cell), memosOf(first.cell)));
  return out;
}

/** One cell's slice chunk[from, to) through the edge's conversion; it arrives at the time of its last reading. */
function atEdge(cell: string, chunk: readonly EdgeReading[], from: number, to: number, settings: CellIngestSettings, memos: readonly UnitMemo[]): ParsedBatch {
  const readings: Reading[] = [];
  const rejections: Rejection[] = [];
  let arrival = -Infinity;
  for (let k = from; k < to; k++) {
    const e = chunk[k];
    if (e === undefined) continue;
    const r = canonicalReading(e, settings, memos[channelRank(e.channel)]);
    if (isRejection(r)) rejections.push(r);
    else readings.push(r);
    arrival = e.ts;
  }
  return { readings, rejections, bare: 0, cell, arrival };
}

export interface LabOptions {
  readonly onReject?: (cell: string, reason: string, detail: string) => void;
  /**
   * Called once per `failure` event: a cell the lab stopped after an exception in its processing (the
   * lab isolates it; the cell's later readings are counted as rejected), or an exception outside any
   * cell's own processing, caught here so that one bad batch never ends the stream.
   */
  readonly onFailure?: (cell: string, message: string) => void;
}

const errorMessage = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/**
 * Lab work on one batch with its failure isolated: an exception becomes a `failure` event (of `cell`),
 * never an error of the stream; every `failure` event is passed to `onFailure`.
 */
export function isolated(cell: string, t: number, o: LabOptions, work: (events: LabEvent[]) => void): LabEvent[] {
  const events: LabEvent[] = [];
  try {
    work(events);
  } catch (e) {
    events.push({ type: 'failure', cell, message: errorMessage(e), t });
  }
  reportFailures(events, o);
  return events;
}

function reportFailures(events: readonly LabEvent[], o: LabOptions): void {
  if (o.onFailure !== undefined) for (const e of events) if (e.type === 'failure') o.onFailure(e.cell, e.message);
}

/**
 * A batch of typed readings → lab events; rejections are counted against their cell and passed to
 * `onReject`. A failure is isolated to its batch and cell (see {@link LabOptions.onFailure}).
 */
export function labStep(lab: Lab, o: LabOptions = {}): (b: ParsedBatch) => LabEvent[] {
  return (b) => {
    if (b.pairs !== undefined && b.rejections.length === 0) return pairsIntoLab(lab, b.pairs, b.arrival, o, b.bare);
    const events: LabEvent[] = [];
    try {
      // readings first: a batch's own cell then exists to count its bad elements (a rejection alone creates no cell)
      const pairs = b.pairs;
      if (pairs !== undefined) lab.ingestPairs(pairs.cell, pairs.channel, pairs.pairs, b.arrival, events, b.bare, pairs.admitted?.state);
      else if (b.readings.length > 0 && b.cell !== undefined) lab.ingest(b.cell, b.readings, b.arrival, events, b.bare);
      for (const r of b.rejections) {
        lab.reject(r.cell, r.reason);
        o.onReject?.(r.cell, r.reason, r.detail);
      }
    } catch (e) {
      events.push({ type: 'failure', cell: b.cell ?? '?', message: errorMessage(e), t: b.arrival });
    }
    reportFailures(events, o);
    return events;
  };
}

/**
 * {@link labStep} of a compact batch's readings given as numbers, without a batch object around them: the
 * lab takes the cell's state from the edge's admission when it gave one (no lookup of the id).
 */
export function pairsIntoLab(lab: Lab, p: ReadingPairs, arrival: number, o: LabOptions, bare = 0): LabEvent[] {
  const events: LabEvent[] = [];
  try {
    lab.ingestPairs(p.cell, p.channel, p.pairs, arrival, events, bare, p.admitted?.state);
  } catch (e) {
    events.push({ type: 'failure', cell: p.cell, message: errorMessage(e), t: arrival });
  }
  reportFailures(events, o);
  return events;
}
