/**
 * Format 1 → this release's cell record. A format-1 checkpoint (the release before the journal) holds v8
 * structured clones of the parts' classes with their private fields as they were then: the aligner's
 * buffer and fixed dedup rings (carried over as their (ts, value) pairs, which the aligner's restore turns
 * into runs, src/domain/dedup.ts), the core's fixed pressure ring, runs, boundaries (shared between the step
 * that ends and the step that starts there; a structured clone keeps the sharing) and resamplers. This
 * reads that layout, checked field by field (zod), and writes the plain-data record (`CellRecord`), which
 * the record schema then checks like any other. The classes may change freely: this file alone knows the
 * old layout.
 */
import { z } from 'zod';
import type { AlignerSnapshot } from '../domain/align.js';
import { newSampleDetectorState } from '../domain/alerts/sample-detectors.js';
import { newIncidentBook } from '../domain/alerts/incidents.js';
import { PROCESSOR_STATE_VERSION, type BoundaryState, type ProcessorState, type RunState } from '../domain/cell/state.js';
import { CELL_RECORD_VERSION, type CellRecord } from '../domain/lab.js';

const f64 = z.instanceof(Float64Array);
/** A fixed ring of format 1: `next` is where the next sample goes, `size` how many it holds. */
const recentRing = z.looseObject({ ts: f64, value: f64, next: z.number().int(), size: z.number().int() });
const trackRing = z.looseObject({ ts: f64, p: f64, next: z.number().int(), size: z.number().int() });
const boundary = z.looseObject({ t: z.number(), p: z.number().optional(), resolved: z.boolean() });
const curve = z.looseObject({
  lastQ: z.number(),
  lastP: z.number(),
  lastT: z.number(),
  nextK: z.number(),
  points: z.array(z.tuple([z.number(), z.number(), z.number()])),
});
const run = z.looseObject({ start: boundary, curve: curve.nullable() });
const reading = z.looseObject({ ts: z.number(), channel: z.string() });

const alignerV1 = z.looseObject({
  buf: z.array(reading),
  head: z.number().int(),
  wm: z.number(),
  maxTs: f64,
  arrivedAt: f64,
  lastArrival: z.number(),
  recent: z.array(recentRing),
  forcedReleases: z.number(),
});

const processorV1 = z.looseObject({
  track: trackRing,
  runs: z.looseObject({ step: run.nullable(), cand: run.nullable() }),
  closed: z.array(z.looseObject({ run, end: boundary })),
  pendingBoundaries: z.array(boundary),
});

const cellV1 = z.looseObject({
  aligner: alignerV1,
  processor: processorV1,
  counters: z.looseObject({}),
  alerts: z.looseObject({}),
  cycleDetector: z.looseObject({}),
});

/** A fixed ring's samples, oldest first. */
function ringValues(r: { readonly next: number; readonly size: number }, a: Float64Array, b: Float64Array): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  const cap = a.length;
  for (let k = 0; k < r.size; k++) {
    const i = (r.next - r.size + k + cap) % cap;
    x.push(a[i] ?? NaN);
    y.push(b[i] ?? NaN);
  }
  return { x, y };
}

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

function alignerFrom(a: z.infer<typeof alignerV1>): AlignerSnapshot {
  return {
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- the readings are checked by the record schema next
    buffered: a.buf.slice(a.head) as unknown as AlignerSnapshot['buffered'],
    watermark: orNull(a.wm),
    maxTs: Array.from(a.maxTs, orNull),
    arrivedAt: Array.from(a.arrivedAt, orNull),
    lastArrival: orNull(a.lastArrival),
    recent: a.recent.map((r) => {
      const { x, y } = ringValues(r, r.ts, r.value);
      return { ts: x, value: y };
    }),
    forcedReleases: a.forcedReleases,
  };
}

function processorFrom(raw: Record<string, unknown>, p: z.infer<typeof processorV1>): ProcessorState {
  const index = new Map<object, number>();
  const boundaries: BoundaryState[] = [];
  const ref = (b: z.infer<typeof boundary>): number => {
    let i = index.get(b);
    if (i === undefined) {
      index.set(b, (i = boundaries.length));
      boundaries.push({ t: b.t, p: b.p, resolved: b.resolved });
    }
    return i;
  };
  const toRun = (r: z.infer<typeof run>): RunState => {
    const { start, curve: c, ...rest } = r;
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- the run's own numbers, checked by the record schema next
    const fields = rest as unknown as Omit<RunState, 'start' | 'curve'>;
    return { ...fields, start: ref(start), curve: c === null ? null : { lastQ: c.lastQ, lastP: c.lastP, lastT: c.lastT, nextK: c.nextK, points: c.points } };
  };
  const track = ringValues(p.track, p.track.ts, p.track.p);
  const state = {
    version: PROCESSOR_STATE_VERSION,
    step: p.runs.step === null ? null : toRun(p.runs.step),
    cand: p.runs.cand === null ? null : toRun(p.runs.cand),
    closed: p.closed.map((c) => ({ run: toRun(c.run), end: ref(c.end), nextKind: c.nextKind })),
    pendingBoundaries: p.pendingBoundaries.map(ref),
    boundaries,
    track: { ts: track.x, p: track.y },
    prevT: raw.prevT,
    prevI: raw.prevI,
    pending: raw.pending,
    eventTs: raw.eventTs,
    stepSeq: raw.stepSeq,
    cyclerMode: raw.cyclerMode,
    cycler: raw.cycler,
    cyclerCut: raw.cyclerCut,
    // The release before `cycleSource: auto` counted derived cycles unless told `cycler`: it goes on so.
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- carried over as it was; the record schema checks it next
    cycles: { ...(raw.cycles as object), decided: 'derived', held: [], heldCycleStarts: 0, heldPhase: 'none' },
    stats: raw.stats,
  };
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- the plain fields are carried over as they were; the record schema checks them next
  return state as unknown as ProcessorState;
}

/** A format-1 cell (a structured clone of its parts) as this release's plain-data record. */
export function cellRecordFromV1(id: string, raw: unknown): CellRecord {
  const r = cellV1.safeParse(raw);
  if (!r.success) throw new Error(`cell ${id}: the format-1 checkpoint does not have the layout of that release: ${r.error.message}`);
  // The raw objects, not zod's copies: a boundary shared by two steps must stay one object to be indexed once.
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- checked just above
  const c = raw as z.infer<typeof cellV1>;
  const record = {
    version: CELL_RECORD_VERSION,
    aligner: alignerFrom(c.aligner),
    processor: processorFrom(c.processor, c.processor),
    counters: c.counters,
    alerts: c.alerts,
    // the release before incidents: none open
    incidents: newIncidentBook(),
    cycleDetector: c.cycleDetector,
    sampleDetectors: c.sampleDetectors ?? newSampleDetectorState(),
    ...(typeof c.failure === 'string' ? { failure: c.failure } : {}),
  };
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- checked by the record schema (parseCellRecord) before it is restored
  return record as unknown as CellRecord;
}
