/**
 * Real cycler exports through the pipeline: the current of each file is published as wire payloads
 * (batches, in mA), a pressure channel is generated from it, and the per-cycle capacities that the
 * pipeline computes are compared with the cycler's own numbers (the oracle, see fixtures SOURCES.md).
 */
import { readFileSync } from 'node:fs';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { parseMessages, processInLab } from '../../pipelines/operators.js';
import type { RawMessage } from '../../src/adapters/mqtt.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import type { CycleRecord, Reading } from '../../src/domain/types.js';
import { parseMaccorText } from '../../src/readers/maccor/parser.js';
import { parseNewareCsv } from '../../src/readers/neware/parser.js';
import type { CyclerParseResult } from '../../src/readers/types.js';

const FIXTURES = new URL('../fixtures/cyclers/', import.meta.url);
/** Pressure model: 15 MPa + K × signed charge stored (MPa per mAh). */
const K_MPA_PER_MAH = 0.5;

function messagesFor(cell: string, data: CyclerParseResult, pressureEvery_ms: number, withStepIndex: boolean): RawMessage[] {
  const rows = data.rows;
  const msgs: RawMessage[] = [];
  const enc = (topic: string, batch: object[]): RawMessage => ({ topic, payload: Buffer.from(JSON.stringify(batch)), arrival: 0 });
  let cur: object[] = [];
  let pre: object[] = [];
  let stp: object[] = [];
  let lastStep = '';
  let stored = 0;
  let nextP = rows[0]!.ts;
  let windowStart = rows[0]!.ts;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    if (k > 0) {
      const p = rows[k - 1]!;
      // Pressure samples between the two current rows, from the exact signed integral of the linear current.
      while (nextP < r.ts) {
        const f = (nextP - p.ts) / (r.ts - p.ts);
        const iAt = p.current_mA + f * (r.current_mA - p.current_mA);
        const partial = (((p.current_mA + iAt) / 2) * (nextP - p.ts)) / 3_600_000;
        pre.push({ ts: nextP, value: 15 + K_MPA_PER_MAH * (stored + partial), unit: 'MPa' });
        nextP += pressureEvery_ms;
      }
      stored += (((p.current_mA + r.current_mA) / 2) * (r.ts - p.ts)) / 3_600_000;
    }
    const key = `${r.cycleIndex}/${r.stepIndex}`;
    if (withStepIndex && key !== lastStep) {
      stp.push({ ts: r.ts, value: r.stepIndex, cycle: r.cycleIndex });
      lastStep = key;
    }
    cur.push({ ts: r.ts, value: r.current_mA / 1000, unit: 'A' });
    // Publish like live devices would: both channels every 10 minutes of event time, as batches.
    if (r.ts - windowStart >= 600_000) {
      if (pre.length > 0) msgs.push(enc(`oep/${cell}/pressure`, pre));
      if (stp.length > 0) msgs.push(enc(`oep/${cell}/step`, stp));
      msgs.push(enc(`oep/${cell}/current`, cur));
      cur = [];
      pre = [];
      stp = [];
      windowStart = r.ts;
    }
  }
  if (pre.length > 0) msgs.push(enc(`oep/${cell}/pressure`, pre));
  if (stp.length > 0) msgs.push(enc(`oep/${cell}/step`, stp));
  if (cur.length > 0) msgs.push(enc(`oep/${cell}/current`, cur));
  return msgs;
}

async function runPipeline(cell: string, data: CyclerParseResult, cellCfg: object, withStepIndex = false): Promise<LabEvent[]> {
  const cfg = parseConfig({ cells: [{ id: cell, ...cellCfg }], alignment: { maxFutureSkew_ms: 0, lateness_ms: 3_600_000 } });
  const lab = new Lab((id) => resolveCell(cfg, id));
  const batches = await lastValueFrom(
    from(messagesFor(cell, data, 10_000, withStepIndex)).pipe(
      parseMessages({ topicPrefix: 'oep', settingsFor: (id) => resolveCell(cfg, id).ingest, maxFutureSkew_ms: 0 }),
      processInLab(lab),
      toArray(),
    ),
  );
  const events = batches.flat();
  lab.finish(events);
  const c = lab.cell(cell).counters;
  expect(c.late).toBe(0);
  expect(Object.keys(c.rejected)).toEqual([]);
  return events;
}

function cyclerCycles(data: CyclerParseResult): Map<number, { c: number; d: number }> {
  const m = new Map<number, { c: number; d: number }>();
  for (const s of data.oracle) {
    const e = m.get(s.cycleIndex) ?? { c: 0, d: 0 };
    if (s.kind === 'charge') e.c += s.capacity_mAh;
    if (s.kind === 'discharge') e.d += s.capacity_mAh;
    m.set(s.cycleIndex, e);
  }
  return m;
}

const cyclesOf = (events: LabEvent[]): CycleRecord[] => events.flatMap((e) => (e.type === 'cycle' ? [e.record] : []));

describe('Neware export (cellpy, 4 cycles, discharge first)', () => {
  const data = parseNewareCsv(readFileSync(new URL('cellpy__neware_uio.csv', FIXTURES), 'utf8'), { fileName: 'neware_uio.csv' });

  it('segmented from the current alone, every cycler step is found with its capacity within 0.5 %', async () => {
    const events = await runPipeline('neware', data, { firstHalf: 'discharge', restCurrent_mA: 0.005, activeMassG: 0.02 });
    const steps = events.flatMap((e) => (e.type === 'step' ? [e.record] : []));
    const active = data.oracle.filter((o) => o.kind !== 'rest');
    expect(steps.filter((s) => s.kind !== 'rest').length).toBe(active.length);
    for (const o of active) {
      const s = steps.find((x) => Math.abs(x.tStart - o.tStart) <= 10_000 && x.kind === o.kind);
      expect(s, `step ${o.cycleIndex}/${o.stepIndex}`).toBeDefined();
      expect(Math.abs(s!.q_mAh - o.capacity_mAh) / o.capacity_mAh).toBeLessThan(0.005);
      expect(Math.abs(s!.tEnd - o.tEnd)).toBeLessThanOrEqual(1_000);
    }
    // Derived cycles (a discharge half, then a charge half): the cycler's cycle 3 holds two such pairs.
    const cycles = cyclesOf(events);
    expect(cycles.map((c) => c.cycle)).toEqual([1, 2, 3, 4, 5]);
    for (const c of cycles.filter((x) => x.complete)) expect(c.ddp_MPa!).toBeCloseTo(K_MPA_PER_MAH * c.qCharge_mAh, 3);
  });

  it("with the cycler's step and cycle index published, per-cycle capacities agree with the cycler within 0.5 %", async () => {
    const events = await runPipeline('neware', data, { firstHalf: 'discharge', cycleSource: 'cycler', activeMassG: 0.02 }, true);
    const cycles = cyclesOf(events);
    const oracle = cyclerCycles(data);
    expect(cycles.map((c) => c.cycle)).toEqual([1, 2, 3, 4]);
    expect(cycles.map((c) => c.complete)).toEqual([true, true, true, false]);
    for (const c of cycles) {
      const o = oracle.get(c.cycle)!;
      expect(Math.abs(c.qCharge_mAh - o.c) / o.c).toBeLessThan(0.005);
      expect(Math.abs(c.qDischarge_mAh - o.d) / o.d).toBeLessThan(0.005);
    }
    const steps = events.flatMap((e) => (e.type === 'step' ? [e.record] : []));
    expect(steps.map((s) => s.cyclerStep)).toEqual(data.oracle.map((o) => o.stepIndex));
    expect(steps.map((s) => s.kind)).toEqual(data.oracle.map((o) => o.kind));
  });
});

describe('Neware export with the cycler step index and derived cycles', () => {
  const data = parseNewareCsv(readFileSync(new URL('cellpy__neware_uio.csv', FIXTURES), 'utf8'), { fileName: 'neware_uio.csv' });

  it('closes each cycle minutes after the next one starts, not a whole step later', () => {
    const cfg = parseConfig({ cells: [{ id: 'n', firstHalf: 'discharge', cycleSource: 'derived', activeMassG: 0.02 }], alignment: { maxFutureSkew_ms: 0 } });
    const lab = new Lab((id) => resolveCell(cfg, id));
    const readings: Reading[] = [];
    let last = '';
    for (const r of data.rows) {
      const key = `${r.cycleIndex}/${r.stepIndex}`;
      if (key !== last) readings.push({ cell: 'n', channel: 'step', ts: r.ts, value: r.stepIndex!, cycleIndex: r.cycleIndex! });
      last = key;
      readings.push({ cell: 'n', channel: 'current', ts: r.ts, value: r.current_mA });
      readings.push({ cell: 'n', channel: 'pressure', ts: r.ts, value: 15 });
    }
    // Live-like: in event-time order, 20 readings at a time, arrival = event time.
    const emittedAt = new Map<number, number>();
    for (let k = 0; k < readings.length; k += 20) {
      const chunk = readings.slice(k, k + 20);
      const ev: LabEvent[] = [];
      lab.ingest('n', chunk, chunk[chunk.length - 1]!.ts, ev);
      for (const e of ev) if (e.type === 'cycle') emittedAt.set(e.record.cycle, chunk[chunk.length - 1]!.ts);
    }
    expect([...emittedAt.keys()]).toEqual([1, 2, 3, 4]);
    // each cycle ends at the start of the next discharge (the cycler's steps are 10-20 h long): emitted within 10 min of it
    const starts = data.oracle.filter((o) => o.kind === 'discharge').map((o) => o.tStart);
    for (const [cycle, at] of emittedAt) {
      const nextStart = starts.find((t) => t <= at && at - t < 600_000);
      expect(nextStart, `cycle ${cycle} emitted at ${at}`).toBeDefined();
    }
  });
});

describe('Maccor export (BEEP, 24 cycles, charge first, 4.7 A)', () => {
  const data = parseMaccorText(readFileSync(new URL('beep__xTESLADIAG_000038.078', FIXTURES), 'latin1'), { fileName: 'xTESLADIAG_000038.078' });

  it('per-cycle capacities agree with the cycler within 0.5 % and the cycle count matches', async () => {
    const events = await runPipeline('maccor', data, { firstHalf: 'charge', nominalCurrent_mA: 4700, activeMassG: 20 });
    const cycles = cyclesOf(events);
    const oracle = cyclerCycles(data);
    // Our cycles count from 1; the cycler's Cyc# from 0.
    expect(cycles.length).toBe(oracle.size);
    for (const c of cycles) {
      const o = oracle.get(c.cycle - 1)!;
      expect(Math.abs(c.qCharge_mAh - o.c) / o.c).toBeLessThan(0.005);
      if (o.d > 0) expect(Math.abs(c.qDischarge_mAh - o.d) / o.d).toBeLessThan(0.005);
    }
    expect(cycles[1]!.qCharge_mAh).toBeCloseTo(3985.14, -1);
    expect(cycles[cycles.length - 1]!.complete).toBe(false);
  });
});
