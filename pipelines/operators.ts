/**
 * The RxJS operators of the OEP pipeline, each small and composed with pipe():
 *
 *   RawMessage ─ parseMessages ─┐
 *                               ├▶ ParsedBatch ─ processInLab ─▶ LabEvent[] (steps, cycles, alerts, late readings)
 *   EdgeReading[] ─ recordedBatches ─┘     ▲
 *   (recorded files)       interval ticks ─┘ (live only: idle cells release their buffers)
 *
 * Both inputs go through the edge's one conversion (`canonicalReading`): MQTT payloads in
 * `parseMessages`, recorded files in `recordedBatches`.
 */
import type { Observable, OperatorFunction, SchedulerLike } from 'rxjs';
// By module, not the index (which loads every operator): see pipelines/process.ts.
import { defer } from 'rxjs/internal/observable/defer';
import { interval } from 'rxjs/internal/observable/interval';
import { merge } from 'rxjs/internal/observable/merge';
import { filter } from 'rxjs/internal/operators/filter';
import { map } from 'rxjs/internal/operators/map';
import { mergeMap } from 'rxjs/internal/operators/mergeMap';
import { asyncScheduler } from 'rxjs/internal/scheduler/async';
import type { RawMessage } from '../src/adapters/mqtt.js';
import type { Lab, LabEvent } from '../src/domain/lab.js';
import type { Reading } from '../src/domain/types.js';
import { CHANNEL_RANK, channelRank } from '../src/readers/readings.js';
import { canonicalReading, isRejection, newUnitMemo, type UnitMemo } from '../src/ingest/canonical.js';
import { type CellIngestSettings, type EdgeReading, type Rejection } from '../src/ingest/edge-types.js';
import { parseMessageOrPairs, readingsOfPairs, type EdgeOptions, type ParsedMessage, type ReadingPairs } from '../src/ingest/payload.js';

export interface ParsedBatch extends ParsedMessage {
  readonly cell: string | undefined;
  readonly arrival: number;
  /** The batch's readings as numbers (a compact batch from MQTT: `readings` then makes them when read). */
  readonly pairs?: ReadingPairs;
}

/** A compact batch's readings as numbers; their Reading objects are made only if asked for (tests, tools). */
class PairsBatch implements ParsedBatch {
  readonly rejections: Rejection[] = [];
  readonly bare = 0;
  private made: Reading[] | undefined;

  constructor(
    readonly pairs: ReadingPairs,
    readonly arrival: number,
  ) {}

  get cell(): string {
    return this.pairs.cell;
  }

  get readings(): Reading[] {
    return (this.made ??= readingsOfPairs(this.pairs));
  }
}

/** Whether a time in `pairs` (at the even indices) is after `limit`. */
function anyAfter(pairs: readonly number[], limit: number): boolean {
  for (let k = 0; k < pairs.length; k += 2) if ((pairs[k] ?? NaN) > limit) return true;
  return false;
}

export interface ParseOptions {
  readonly topicPrefix: string;
  readonly settingsFor: (cell: string) => CellIngestSettings;
  /** Readings stamped further than this ahead of their arrival are rejected; 0 disables the check, ms. */
  readonly maxFutureSkew_ms: number;
  /** Bounds on a payload and the cells admitted (default: DEFAULT_EDGE_LIMITS, every cell). */
  readonly edge?: EdgeOptions;
}

/** Raw MQTT messages → typed readings in canonical units, with rejections (never an error in the stream). */
export function parseMessages(o: ParseOptions): OperatorFunction<RawMessage, ParsedBatch> {
  return map((m) => {
    const edge = parseMessageOrPairs(m.topic, m.payload, m.arrival, o.topicPrefix, o.settingsFor, o.edge);
    if ('pairs' in edge && !(o.maxFutureSkew_ms > 0 && anyAfter(edge.pairs, m.arrival + o.maxFutureSkew_ms))) return new PairsBatch(edge, m.arrival);
    const parsed: ParsedMessage = 'pairs' in edge ? { readings: readingsOfPairs(edge), rejections: [], bare: 0 } : edge;
    let readings = parsed.readings;
    let rejections = parsed.rejections;
    if (o.maxFutureSkew_ms > 0) {
      const limit = m.arrival + o.maxFutureSkew_ms;
      if (readings.some((r) => r.ts > limit)) {
        rejections = [...rejections];
        readings = readings.filter((r) => {
          if (r.ts <= limit) return true;
          rejections.push({
            cell: r.cell,
            channel: r.channel,
            reason: 'bad_timestamp',
            detail: `ts ${new Date(r.ts).toISOString()} is more than ${o.maxFutureSkew_ms} ms ahead of arrival (alignment.maxFutureSkew_ms; 0 = off)`,
          });
          return false;
        });
      }
    }
    const cell = readings[0]?.cell ?? rejections[0]?.cell;
    return { readings, rejections, bare: parsed.bare, cell, arrival: m.arrival };
  });
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
 * judged as it would be live. Unit memos live per subscription.
 */
export function recordedBatches(o: RecordedBatchOptions): OperatorFunction<readonly EdgeReading[], ParsedBatch> {
  return (chunks$) =>
    defer(() => {
      const memos = new Map<string, UnitMemo[]>();
      const memosOf = (cell: string): UnitMemo[] => {
        let m = memos.get(cell);
        if (m === undefined) memos.set(cell, (m = Object.keys(CHANNEL_RANK).map(() => newUnitMemo())));
        return m;
      };
      return chunks$.pipe(mergeMap((chunk) => sliceRecorded(chunk, o, memosOf)));
    });
}

/** One chunk cut into batches (see {@link recordedBatches}), each converted at the edge. */
function sliceRecorded(chunk: readonly EdgeReading[], o: RecordedBatchOptions, memosOf: (cell: string) => UnitMemo[]): ParsedBatch[] {
  const out: ParsedBatch[] = [];
  let slice: EdgeReading[] = [];
  let first: EdgeReading | undefined;
  for (const e of chunk) {
    if (first !== undefined && (slice.length >= o.maxReadings || e.ts - first.ts > o.span_ms || e.cell !== first.cell)) {
      out.push(atEdge(first.cell, slice, o.settingsFor(first.cell), memosOf(first.cell)));
      slice = [];
      first = undefined;
    }
    first ??= e;
    slice.push(e);
  }
  if (first !== undefined) out.push(atEdge(first.cell, slice, o.settingsFor(first.cell), memosOf(first.cell)));
  return out;
}

/** One cell's slice through the edge's conversion; it arrives at the time of its last reading. */
function atEdge(cell: string, slice: readonly EdgeReading[], settings: CellIngestSettings, memos: readonly UnitMemo[]): ParsedBatch {
  const readings: Reading[] = [];
  const rejections: Rejection[] = [];
  let arrival = -Infinity;
  for (const e of slice) {
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
function isolated(cell: string, t: number, o: LabOptions, work: (events: LabEvent[]) => void): LabEvent[] {
  const events: LabEvent[] = [];
  try {
    work(events);
  } catch (e) {
    events.push({ type: 'failure', cell, message: errorMessage(e), t });
  }
  if (o.onFailure !== undefined) for (const e of events) if (e.type === 'failure') o.onFailure(e.cell, e.message);
  return events;
}

/**
 * Typed readings → lab events; rejections are counted against their cell and passed to `onReject`. A
 * failure is isolated to its batch and cell (see {@link LabOptions.onFailure}).
 */
export function processInLab(lab: Lab, o: LabOptions = {}): OperatorFunction<ParsedBatch, LabEvent[]> {
  return map((b) =>
    isolated(b.cell ?? '?', b.arrival, o, (events) => {
      // readings first: a batch's own cell then exists to count its bad elements (a rejection alone creates no cell)
      const pairs = b.pairs;
      if (pairs !== undefined) lab.ingestPairs(pairs.cell, pairs.channel, pairs.pairs, b.arrival, events, b.bare);
      else if (b.readings.length > 0 && b.cell !== undefined) lab.ingest(b.cell, b.readings, b.arrival, events, b.bare);
      for (const r of b.rejections) {
        lab.reject(r.cell, r.reason);
        o.onReject?.(r.cell, r.reason, r.detail);
      }
    }),
  );
}

export interface PipelineOptions extends ParseOptions, LabOptions {
  /** The lab (shared with the state store and the health server), or a factory for one per subscription. */
  readonly lab: Lab | (() => Lab);
  /** How often idle cells are checked, ms. */
  readonly tick_ms: number;
  readonly now: () => number;
  readonly scheduler?: SchedulerLike;
}

/**
 * The whole OEP pipeline over a message stream: batches of step/cycle/alert/late/failure events, never
 * empty. Built per subscription (`defer`): the lab (when given as a factory) and the tick timer belong to
 * the subscriber; unsubscribing stops both the source and the timer.
 */
export function oepPipeline(messages$: Observable<RawMessage>, o: PipelineOptions): Observable<LabEvent[]> {
  return defer(() => {
    const lab = typeof o.lab === 'function' ? o.lab() : o.lab;
    const processed$ = messages$.pipe(parseMessages(o), processInLab(lab, o));
    const ticks$ = interval(o.tick_ms, o.scheduler ?? asyncScheduler).pipe(
      map(() => {
        const now = o.now();
        return isolated('*', now, o, (events) => {
          lab.tick(now, events);
        });
      }),
    );
    return merge(processed$, ticks$).pipe(filter((e) => e.length > 0));
  });
}
