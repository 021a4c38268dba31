/**
 * The compact batch's way through the pipeline (its readings handed from the edge to the lab as numbers,
 * `Lab.ingestPairs`) gives what the general way gives (Reading objects, `Lab.ingest`): the same events, the
 * same counters, the same state, with readings out of order, duplicated, late, redelivered, in kgf.
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { parseMessages, processInLab } from '../../pipelines/operators.js';
import type { RawMessage } from '../../src/adapters/mqtt.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';

const T = Date.UTC(2026, 0, 1);
const cfg = parseConfig({
  cells: [{ id: 'k1', pressureUnit: 'kgf' }],
  alignment: { lateness_ms: 3_000, maxFutureSkew_ms: 0 },
  defaults: { activeMassG: 0.0179, nominalCurrent_mA: 0.65, minStepDuration_s: 5 },
});

/** A deterministic pseudo-random sequence (no dependence on Math.random). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Sample {
  readonly ts: number;
  readonly value: number;
}

/** Messages of cells c1 and k1: square-wave current and a pressure ramp, shuffled within the lateness, some repeated, some late. */
function messages(compact: boolean): RawMessage[] {
  const rand = rng(7);
  const out: RawMessage[] = [];
  const body = (xs: readonly Sample[]): Buffer =>
    Buffer.from(`[${xs.map((x) => (compact ? `{"ts":${x.ts},"value":${x.value}}` : `{"ts": ${x.ts}, "value": ${x.value}}`)).join(',')}]`);
  for (let m = 0; m < 600; m++) {
    const cell = m % 2 === 0 ? 'c1' : 'k1';
    const channel = Math.floor(m / 2) % 2 === 0 ? 'pressure' : 'current';
    const first = Math.floor(m / 4) * 10;
    const xs: Sample[] = [];
    for (let j = 0; j < 10; j++) {
      const t = first + j;
      const charging = Math.floor(t / 300) % 2 === 0;
      // jitter (out of order within a batch), now and then far behind (late)
      const ts = T + t * 1000 + (rand() < 0.2 ? -Math.floor(rand() * 2_500) : 0) - (rand() < 0.01 ? 60_000 : 0);
      const value = channel === 'pressure' ? 15 + (charging ? (t % 300) / 300 : 1 - (t % 300) / 300) * 2 + rand() / 7 : charging ? 0.65 : -0.65;
      xs.push({ ts, value });
    }
    const msg: RawMessage = { topic: `oep/${cell}/${channel}`, payload: body(xs), arrival: T + first * 1000 + 500 };
    out.push(msg);
    // a redelivered batch now and then
    if (rand() < 0.05) out.push({ ...msg, dup: true });
  }
  return out;
}

async function run(compact: boolean): Promise<{ events: LabEvent[]; lab: Lab }> {
  const lab = new Lab((id) => resolveCell(cfg, id), undefined, { trackGaps: true });
  const batches = await lastValueFrom(
    from(messages(compact)).pipe(
      parseMessages({ topicPrefix: 'oep', settingsFor: (id) => resolveCell(cfg, id).ingest, maxFutureSkew_ms: 0 }),
      processInLab(lab),
      toArray(),
    ),
  );
  const events = batches.flat();
  lab.tick(T + 10_000_000, events);
  lab.finish(events);
  return { events, lab };
}

describe('readings handed to the lab as numbers', () => {
  it('give the events, counters and state that Reading objects give', async () => {
    const way = (compact: boolean) =>
      lastValueFrom(
        from(messages(compact).slice(0, 1)).pipe(parseMessages({ topicPrefix: 'oep', settingsFor: (id) => resolveCell(cfg, id).ingest, maxFutureSkew_ms: 0 })),
      );
    expect((await way(true)).pairs).toBeDefined();
    expect((await way(false)).pairs).toBeUndefined();
    const pairs = await run(true);
    const objects = await run(false);
    const c1 = objects.lab.cell('c1').counters;
    // the case covers what it says it does
    expect(c1.late).toBeGreaterThan(0);
    expect(c1.duplicate).toBeGreaterThan(0);
    expect(objects.events.filter((e) => e.type === 'step').length).toBeGreaterThan(4);
    expect(pairs.events).toEqual(objects.events);
    for (const id of ['c1', 'k1']) expect(pairs.lab.cell(id).counters).toEqual(objects.lab.cell(id).counters);
    expect(JSON.stringify(pairs.lab.snapshot())).toBe(JSON.stringify(objects.lab.snapshot()));
  });
});
