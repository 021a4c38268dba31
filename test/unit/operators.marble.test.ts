/**
 * Marble tests of the pipeline operators in virtual time (RxJS TestScheduler): what each emits, when,
 * and that unsubscribing tears the source and the tick timer down.
 */
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { oepPipeline, parseMessages, processInLab, recordedBatches, type ParsedBatch } from '../../pipelines/operators.js';
import type { EdgeReading } from '../../src/ingest/canonical.js';
import type { RawMessage } from '../../src/adapters/mqtt.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import type { Reading } from '../../src/domain/types.js';

const T = Date.UTC(2026, 0, 1);
const cfg = parseConfig({ alignment: { lateness_ms: 0, idleTimeout_ms: 5 }, defaults: { minStepDuration_s: 0.5 } });
const settingsFor = (id: string) => resolveCell(cfg, id).ingest;
const msg = (topic: string, payload: string, arrival = 0): RawMessage => ({ topic, payload: Buffer.from(payload), arrival });
const scheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });
const summary = (b: ParsedBatch): string => `${b.cell}:${b.readings.map((r) => r.value).join('/')}:${b.rejections.map((r) => r.reason).join('/')}`;
const kinds = (e: LabEvent[]): string => e.map((x) => (x.type === 'step' ? x.record.kind : x.type)).join(',');

describe('parseMessages', () => {
  it('turns each message into one parsed batch, bad ones into rejections, in order', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold(' a-b--c|', {
        a: msg('oep/c1/pressure', `{"ts":${T},"value":15}`),
        b: msg('oep/c1/current', 'not json'),
        c: msg('oep/c2/current', `[{"ts":${T},"value":1,"unit":"A"},{"ts":${T + 1},"value":2,"unit":"A"}]`),
      });
      const subs = '     ^-----!';
      const out = src.pipe(parseMessages({ topicPrefix: 'oep', settingsFor, maxFutureSkew_ms: 0 }), map(summary));
      expectObservable(out).toBe('x-y--z|', { x: 'c1:15:', y: 'c1::invalid_json', z: 'c2:1000/2000:' });
      expectSubscriptions(src.subscriptions).toBe(subs);
    });
  });

  it('rejects readings stamped too far ahead of their arrival and keeps the rest', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a|', { a: msg('oep/c1/pressure', `[{"ts":${T},"value":1},{"ts":${T + 10_000},"value":2}]`, T) });
      const out = src.pipe(
        parseMessages({ topicPrefix: 'oep', settingsFor, maxFutureSkew_ms: 5_000 }),
        map((b) => `${b.readings.length}/${b.rejections[0]?.reason}/${b.rejections[0]?.detail}`),
      );
      // The detail names the setting, so a user whose device (or simulator) runs ahead knows what to change.
      const ts = new Date(T + 10_000).toISOString();
      expectObservable(out).toBe('x|', { x: `1/bad_timestamp/ts ${ts} is more than 5000 ms ahead of arrival (alignment.maxFutureSkew_ms; 0 = off)` });
    });
  });
});

describe('processInLab and oepPipeline', () => {
  it('emits the charge step when the current turns to discharge, with the pressure it needs', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const lab = new Lab((id) => resolveCell(cfg, id));
      const src = cold('a-b-c-d|', {
        a: msg('oep/c1/current', `[{"ts":${T},"value":1},{"ts":${T + 1000},"value":1}]`),
        b: msg('oep/c1/pressure', `[{"ts":${T},"value":15},{"ts":${T + 3000},"value":16}]`),
        c: msg('oep/c1/current', `[{"ts":${T + 2000},"value":-1},{"ts":${T + 3000},"value":-1}]`),
        d: msg('oep/c1/current', '{"ts":1}'),
      });
      const out = src.pipe(parseMessages({ topicPrefix: 'oep', settingsFor, maxFutureSkew_ms: 0 }), processInLab(lab), map(kinds));
      expectObservable(out).toBe('a-b-c-d|', { a: '', b: '', c: 'charge', d: '' });
    });
    // the bad message was counted against its cell
  });

  it('a tick releases a cell whose pressure never comes, in virtual time; unsubscribing stops source and timer', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const lab = new Lab((id) => resolveCell(cfg, id));
      const src = cold('a------------', {
        a: msg('oep/c1/current', `[{"ts":${T},"value":1},{"ts":${T + 1000},"value":-1},{"ts":${T + 40_000},"value":-1}]`, 0),
      });
      const unsub = '   ^-----------!';
      let now = 0;
      // Each tick (every 4 virtual ms) reads a clock that advanced 4 ms: the idle timeout (5 ms) passes at the
      // second. The charge step has no pressure at its end; it is emitted once event time is 30 s past it.
      const out = oepPipeline(src, { topicPrefix: 'oep', settingsFor, maxFutureSkew_ms: 0, lab, tick_ms: 4, now: () => (now += 4) }).pipe(map(kinds));
      expectObservable(out, unsub).toBe('--------x', { x: 'charge' });
      expectSubscriptions(src.subscriptions).toBe(unsub);
    });
  });

  it('an exception while processing one batch is a failure event of its cell, counted once; the stream goes on', () => {
    /** A lab whose processing throws for one cell, outside the lab's own per-cell guard. */
    class ThrowingLab extends Lab {
      override ingest(cellId: string, readings: readonly Reading[], now: number, events: LabEvent[], bare = 0): void {
        if (cellId === 'bad') throw new Error('boom');
        super.ingest(cellId, readings, now, events, bare);
      }
    }
    const failures: string[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      const lab = new ThrowingLab((id) => resolveCell(cfg, id));
      const src = cold('a-b|', {
        a: msg('oep/bad/current', `{"ts":${T},"value":1}`),
        b: msg('oep/c1/current', `{"ts":${T},"value":1}`),
      });
      const out = src.pipe(
        parseMessages({ topicPrefix: 'oep', settingsFor, maxFutureSkew_ms: 0 }),
        processInLab(lab, { onFailure: (cell, message) => failures.push(`${cell}: ${message}`) }),
        map((e) => e.map((x) => (x.type === 'failure' ? `${x.cell} failed` : x.type)).join(',')),
      );
      expectObservable(out).toBe('a-b|', { a: 'bad failed', b: '' });
    });
    expect(failures).toEqual(['bad: Error: boom']);
  });
});

describe('recordedBatches', () => {
  it('cuts event-time ordered chunks into one-cell batches of at most maxReadings and span_ms, each arriving at its last reading', () => {
    const r = (cell: string, t: number, channel: EdgeReading['channel'] = 'current'): EdgeReading => ({
      cell,
      channel,
      ts: T + t,
      value: 1,
      unit: channel === 'current' ? 'mA' : 'MPa',
    });
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold<readonly EdgeReading[]>('a------(b|)', {
        a: [r('c1', 0), r('c1', 100, 'pressure'), r('c1', 200), r('c1', 1_201), r('c2', 1_201)],
        b: [r('c2', 1_300), r('c2', 1_400), r('c2', 1_500)],
      });
      const out = src.pipe(
        recordedBatches({ settingsFor, span_ms: 1_000, maxReadings: 2 }),
        map((b) => `${b.cell}:${b.readings.map((x) => x.ts - T).join('/')}@${b.arrival - T}`),
      );
      // c1: 0 and 100 (the cap of 2), then 200 (1 201 is more than 1 000 ms after it), then 1 201; c2 starts its own batch.
      expectObservable(out).toBe('(wxyz)-(uv|)', {
        w: 'c1:0/100@100',
        x: 'c1:200@200',
        y: 'c1:1201@1201',
        z: 'c2:1201@1201',
        u: 'c2:1300/1400@1400',
        v: 'c2:1500@1500',
      });
    });
  });
});
