/**
 * The RxJS operators of the OEP pipeline, each small and composed with pipe():
 *
 *   RawMessage ─ parseMessages ─▶ ParsedBatch ─ processInLab ─▶ LabEvent[] (steps, cycles, late readings)
 *                                                   ▲
 *                          interval ticks ──────────┘ (idle cells release their buffers)
 */
import { map, merge, filter, interval, type Observable, type OperatorFunction, type SchedulerLike, asyncScheduler } from 'rxjs';
import type { RawMessage } from '../src/adapters/mqtt.js';
import type { Lab, LabEvent } from '../src/domain/lab.js';
import { parseMessage, type CellIngestSettings, type ParsedMessage } from '../src/ingest/payload.js';

export interface ParsedBatch extends ParsedMessage {
  readonly cell: string | undefined;
  readonly arrival: number;
}

export interface ParseOptions {
  readonly topicPrefix: string;
  readonly settingsFor: (cell: string) => CellIngestSettings;
  /** Readings stamped further than this ahead of their arrival are rejected; 0 disables the check, ms. */
  readonly maxFutureSkew_ms: number;
}

/** Raw MQTT messages → typed readings in canonical units, with rejections (never an error in the stream). */
export function parseMessages(o: ParseOptions): OperatorFunction<RawMessage, ParsedBatch> {
  return map((m) => {
    const parsed = parseMessage(m.topic, m.payload, m.arrival, o.topicPrefix, o.settingsFor);
    let readings = parsed.readings;
    let rejections = parsed.rejections;
    if (o.maxFutureSkew_ms > 0) {
      const limit = m.arrival + o.maxFutureSkew_ms;
      if (readings.some((r) => r.ts > limit)) {
        rejections = [...rejections];
        readings = readings.filter((r) => {
          if (r.ts <= limit) return true;
          rejections.push({ cell: r.cell, channel: r.channel, reason: 'bad_timestamp', detail: `ts ${new Date(r.ts).toISOString()} is more than ${o.maxFutureSkew_ms} ms ahead of arrival` });
          return false;
        });
      }
    }
    const cell = readings[0]?.cell ?? rejections[0]?.cell;
    return { readings, rejections, bare: parsed.bare, cell, arrival: m.arrival };
  });
}

/** Typed readings → lab events; rejections are counted against their cell and passed to `onReject`. */
export function processInLab(lab: Lab, onReject?: (cell: string, reason: string, detail: string) => void): OperatorFunction<ParsedBatch, LabEvent[]> {
  return map((b) => {
    const events: LabEvent[] = [];
    for (const r of b.rejections) {
      lab.reject(r.cell, r.reason);
      onReject?.(r.cell, r.reason, r.detail);
    }
    if (b.readings.length > 0 && b.cell !== undefined) lab.ingest(b.cell, b.readings, b.arrival, events, b.bare);
    return events;
  });
}

export interface PipelineOptions extends ParseOptions {
  readonly lab: Lab;
  /** How often idle cells are checked, ms. */
  readonly tick_ms: number;
  readonly now: () => number;
  readonly scheduler?: SchedulerLike;
  readonly onReject?: (cell: string, reason: string, detail: string) => void;
}

/** The whole OEP pipeline over a message stream: batches of step/cycle/late events, never empty. */
export function oepPipeline(messages$: Observable<RawMessage>, o: PipelineOptions): Observable<LabEvent[]> {
  const processed$ = messages$.pipe(parseMessages(o), processInLab(o.lab, o.onReject));
  const ticks$ = interval(o.tick_ms, o.scheduler ?? asyncScheduler).pipe(
    map(() => {
      const events: LabEvent[] = [];
      o.lab.tick(o.now(), events);
      return events;
    }),
  );
  return merge(processed$, ticks$).pipe(filter((e) => e.length > 0));
}
