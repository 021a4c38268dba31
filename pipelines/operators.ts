/**
 * The RxJS operators of the OEP pipeline, each small and composed with pipe():
 *
 *   RawMessage ─ parseMessages ─┐
 *                               ├▶ ParsedBatch ─ processInLab ─▶ LabEvent[] (steps, cycles, alerts, late readings)
 *   EdgeReading[] ─ recordedBatches ─┘     ▲
 *   (recorded files)       interval ticks ─┘ (live only: idle cells release their buffers)
 *
 * Both inputs go through the edge's one conversion (`canonicalReading`): MQTT payloads in
 * `parseMessages`, recorded files in `recordedBatches`. `oepPipeline` (the daemon's) does parseMessages
 * and processInLab in one operator, per message: a compact batch goes from the edge to the lab as its
 * numbers, with the cell's state the edge's admission found (one lookup by cell id a message).
 */
import type { Observable, OperatorFunction, SchedulerLike } from 'rxjs';
// By module, not the index (which loads every operator): see pipelines/process.ts.
import { defer } from 'rxjs/internal/observable/defer';
import { interval } from 'rxjs/internal/observable/interval';
import { merge } from 'rxjs/internal/observable/merge';
import { map } from 'rxjs/internal/operators/map';
import { mergeMap } from 'rxjs/internal/operators/mergeMap';
import { asyncScheduler } from 'rxjs/internal/scheduler/async';
import { operate } from 'rxjs/internal/util/lift';
import { createOperatorSubscriber } from 'rxjs/internal/operators/OperatorSubscriber';
import type { RawMessage } from '../src/adapters/mqtt.js';
import type { Lab, LabEvent } from '../src/domain/lab.js';
import type { Reading } from '../src/domain/types.js';
import {
  parseMessageOrPairs,
  readingsOfPairs,
  type CellIngestSettings,
  type EdgeOptions,
  type EdgeReading,
  type ParsedMessage,
  type ReadingPairs,
  type Rejection,
} from '../src/ingest/payload.js';
import { isolated, labStep, pairsIntoLab, recordedSlices, type LabOptions, type ParsedBatch, type RecordedBatchOptions } from './lab-steps.js';

export type { LabOptions, ParsedBatch, RecordedBatchOptions } from './lab-steps.js';

/**
 * Recorded readings (chunks in event-time order, values in the files' units) → parsed batches, through
 * the edge's conversion (see `recordedSlices`). Unit memos live per subscription.
 */
export function recordedBatches(o: RecordedBatchOptions): OperatorFunction<readonly EdgeReading[], ParsedBatch> {
  return (chunks$) =>
    defer(() => {
      const slices = recordedSlices(o);
      return chunks$.pipe(mergeMap(slices));
    });
}

/**
 * Typed readings → lab events; rejections are counted against their cell and passed to `onReject`. A
 * failure is isolated to its batch and cell (see {@link LabOptions.onFailure}).
 */
export function processInLab(lab: Lab, o: LabOptions = {}): OperatorFunction<ParsedBatch, LabEvent[]> {
  return map(labStep(lab, o));
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
    const edge = atEdge(m, o);
    return 'readings' in edge ? edge : new PairsBatch(edge, m.arrival);
  });
}

/**
 * One raw message through the edge: a compact batch's readings as numbers when none is rejected (the
 * common case: no batch object made), else a parsed batch.
 */
function atEdge(m: RawMessage, o: ParseOptions): ReadingPairs | ParsedBatch {
  const edge = parseMessageOrPairs(m.topic, m.payload, m.arrival, o.topicPrefix, o.settingsFor, o.edge);
  if ('pairs' in edge && !(o.maxFutureSkew_ms > 0 && anyAfter(edge.pairs, m.arrival + o.maxFutureSkew_ms))) return edge;
  return withSkewChecked('pairs' in edge ? { readings: readingsOfPairs(edge), rejections: [], bare: 0 } : edge, m.arrival, o);
}

/** A parsed message as a batch, its readings stamped too far ahead of `arrival` turned into rejections. */
function withSkewChecked(parsed: ParsedMessage, arrival: number, o: ParseOptions): ParsedBatch {
  let readings = parsed.readings;
  let rejections = parsed.rejections;
  if (o.maxFutureSkew_ms > 0) {
    const limit = arrival + o.maxFutureSkew_ms;
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
  return { readings, rejections, bare: parsed.bare, cell, arrival };
}

/** `project` of each value, passed on only when it holds events (one operator for what map and filter did). */
function eventsOf<T>(project: (value: T) => LabEvent[]): OperatorFunction<T, LabEvent[]> {
  return operate((source, subscriber) => {
    source.subscribe(
      createOperatorSubscriber(subscriber, (value: T) => {
        const events = project(value);
        if (events.length > 0) subscriber.next(events);
      }),
    );
  });
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
    const toLab = labStep(lab, o);
    // parseMessages then processInLab, in one step: a compact batch goes from the edge to the lab as its pairs
    const processed$ = messages$.pipe(
      eventsOf((m: RawMessage) => {
        const edge = atEdge(m, o);
        return 'readings' in edge ? toLab(edge) : pairsIntoLab(lab, edge, m.arrival, o);
      }),
    );
    const ticks$ = interval(o.tick_ms, o.scheduler ?? asyncScheduler).pipe(
      eventsOf(() => {
        const now = o.now();
        return isolated('*', now, o, (events) => {
          lab.tick(now, events);
        });
      }),
    );
    return merge(processed$, ticks$);
  });
}
