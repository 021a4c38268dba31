/**
 * The zod schema of a checkpoint's cell record (src/domain/lab.ts `CellRecord`): every part's plain-data
 * state, checked on restore so that a checkpoint that does not match this release is a clear error
 * naming the field, never a cell that resumes from garbage. Numbers may be NaN or ±Infinity (the parts
 * use them for "none yet"), which is why checkpoints are encoded with v8's serializer (format 4 and before) or
 * the record codec (record-codec.ts, format 5), not JSON.
 * The alert state (alerts, incidents, cycleDetector, sampleDetectors) is plain data owned by src/domain/alerts; it
 * is checked for being plain objects here, its fields by the alert code that reads them.
 */
import { z } from 'zod';
import { CELL_RECORD_VERSION, type CellRecord } from '../domain/lab.js';
import { PROCESSOR_STATE_VERSION } from '../domain/cell/state.js';

/**
 * Any number: NaN and ±Infinity too (what `z.union([z.number(), z.nan(), z.literal(Infinity), z.literal(-Infinity)])`
 * accepts, as one test: that union compiled to four closures a number, most of a record check's time and garbage).
 */
const num = z.custom<number>((v) => typeof v === 'number', { error: 'expected a number (NaN and ±Infinity included)' });
const maybeNum = num.optional();
const stepKind = z.enum(['charge', 'discharge', 'rest']);
/** Samples: typed arrays since format 4, number arrays in format 3 records. */
const samples = z.union([z.instanceof(Float64Array), z.array(num)]);

const reading = z.object({
  cell: z.string(),
  channel: z.enum(['pressure', 'current', 'voltage', 'step']),
  ts: num,
  value: num,
  cycleIndex: z.number().optional(),
});

const aligner = z.strictObject({
  buffered: z.array(reading),
  watermark: num.nullable(),
  maxTs: z.array(num.nullable()),
  arrivedAt: z.array(num.nullable()),
  lastArrival: num.nullable(),
  // runs (src/domain/dedup.ts) since they replaced the rings of released (ts, value) pairs
  recent: z.array(
    z.union([
      z.strictObject({
        runs: z.instanceof(Float64Array),
        range: z.instanceof(Float32Array),
        instants: z.strictObject({ ts: z.instanceof(Float64Array), value: z.instanceof(Float64Array) }),
        last: num,
      }),
      z.strictObject({ ts: samples, value: samples }),
    ]),
  ),
  forcedReleases: z.number(),
});

const curve = z.strictObject({ lastQ: num, lastP: num, lastT: num, nextK: z.number(), points: z.array(z.tuple([num, num, num])) });

const run = z.strictObject({
  kind: stepKind,
  tStart: num,
  tEnd: num,
  q: num,
  qPos: num,
  qNeg: num,
  qSigned: num,
  pMin: num,
  pMax: num,
  vMin: num,
  vMax: num,
  start: z.number().int().nonnegative(),
  curve: curve.nullable(),
  cyclerStep: maybeNum,
  cyclerCycle: maybeNum,
});

/** A step record kept in the open cycle (the wire contract's record, plain data). */
const stepRecord = z.looseObject({ cell: z.string(), cycle: z.number(), step: z.number(), kind: stepKind, tStart: num, tEnd: num });
/** A closed step held by `cycleSource: auto` until it decides how cycles are counted (a record without its cycle). */
const stepDraft = z.looseObject({ cell: z.string(), step: z.number(), kind: stepKind, tStart: num, tEnd: num });

const processor = z.strictObject({
  version: z.literal(PROCESSOR_STATE_VERSION),
  boundaries: z.array(z.strictObject({ t: num, p: maybeNum, resolved: z.boolean() })),
  track: z.strictObject({ ts: samples, p: samples }),
  step: run.nullable(),
  cand: run.nullable(),
  prevT: num,
  prevI: num,
  pending: z.strictObject({ t: z.array(num), kind: z.array(z.enum(['pressure', 'voltage', 'voltage-seen'])), value: z.array(num) }),
  pendingBoundaries: z.array(z.number().int().nonnegative()),
  closed: z.array(z.strictObject({ run, end: z.number().int().nonnegative(), nextKind: stepKind.optional() })),
  eventTs: num,
  stepSeq: z.number(),
  cyclerMode: z.boolean(),
  cycler: z.strictObject({ step: maybeNum, cycle: maybeNum }),
  cyclerCut: z.strictObject({ t: num, step: num, cycle: maybeNum }).nullable(),
  cycles: z.strictObject({
    cycle: z.number(),
    phase: z.enum(['none', 'first-half', 'second-half']),
    steps: z.array(stepRecord),
    pInitial: maybeNum,
    ddpQRef: maybeNum,
    lastCyclerCycle: maybeNum,
    decided: z.enum(['derived', 'cycler']).optional(),
    held: z.array(z.strictObject({ draft: stepDraft, nextKind: stepKind.optional() })),
    heldCycleStarts: z.number().int().nonnegative(),
    heldPhase: z.enum(['none', 'first-half', 'second-half']),
  }),
  stats: z.strictObject({ gaps: z.number(), glitches: z.number(), pressureMissing: z.number() }),
});

const counters = z.strictObject({
  accepted: z.number(),
  duplicate: z.number(),
  late: z.number(),
  bare: z.number(),
  rejected: z.record(z.string(), z.number()),
  steps: z.number(),
  cycles: z.number(),
  alerts: z.number(),
});

const plain = z.looseObject({});

const channel = z.enum(['pressure', 'current', 'voltage', 'step']);
const gaps = z.strictObject({
  tracks: z.array(z.strictObject({ channel, last: num, interval_ms: num, steps: z.array(num), next: z.number().int().nonnegative() })),
  counts: z.partialRecord(channel, z.number()),
  missing: z.partialRecord(channel, z.number()),
});

const cellRecord = z.strictObject({
  version: z.literal(CELL_RECORD_VERSION),
  aligner,
  processor,
  counters,
  alerts: plain,
  incidents: plain,
  cycleDetector: plain,
  sampleDetectors: plain,
  // since the gap counts were kept across restarts
  gaps: gaps.optional(),
  failure: z.string().optional(),
});

/** The schema of a cell record (exported for the test that it compiles). */
export const cellRecordSchema = cellRecord;

/**
 * The record schema compiled by zod's ahead-of-time compiler (`z.compile`), on first use: its `validate` runs
 * generated code that checks every field and builds nothing, where `safeParse` builds a copy of the record
 * (the copy, thrown away, was most of the check's cost). Any record the generated code refuses is checked
 * again by zod's runtime parser, whose answer stands, so it accepts exactly what `safeParse` accepts.
 */
let compiled: typeof cellRecord | undefined;

/** Checks a decoded cell record; throws with the path of the first mismatch. */
export function parseCellRecord(id: string, raw: unknown): CellRecord {
  compiled ??= z.compile(cellRecord);
  if (!compiled.validate(raw)) {
    // the runtime parser for the message (it refused the record already: this is its answer again, with the path)
    const r = cellRecord.safeParse(raw);
    if (!r.success) throw new Error(`cell ${id}: the checkpoint's record does not match this release's schema: ${r.error.message}`);
  }
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- checked above; the alert parts are plain data owned (and read) by src/domain/alerts
  return raw as CellRecord;
}
