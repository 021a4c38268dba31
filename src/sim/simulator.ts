/**
 * Streams simulated OEP readings (pressure from a load cell, current and voltage from a cycler) for
 * one cell or a lab of cells, lazily and deterministically.
 *
 * Each device has its own sampling rate, phase, timestamp jitter and clock offset:
 * a reading sampled at true time t carries `ts = round(t + clockOffset)` (epoch ms), and its value is
 * the model's state at t plus sensor noise. Per channel, true sample times and timestamps never go
 * backwards. Readings of a cell are merged in timestamp order (ties: pressure, current, voltage), and
 * {@link simulateCells} merges cells in timestamp order (ties: the order of the specs).
 *
 * Pure code: no I/O, no clock, no `Math.random()`. Memory is constant in the length of the run.
 */

import { CellPhysics, type SimCycleTruth } from './cell-model.js';
import { STANDARD_GRAVITY_M_S2 } from './cell-defaults.js';
import { validateSimCellSpec, type SimCellSpec } from './cell-spec.js';
import { Prng, deriveSeed } from './prng.js';

export type { SimCycleTruth } from './cell-model.js';

/** The channels the simulator publishes (`oep/<cell>/<channel>`). */
export type SimChannel = 'pressure' | 'current' | 'voltage';

/** Units of simulated readings: pressure in `MPa` or `kgf` (per cell), current in `mA`, voltage in `V`. */
export type SimUnit = 'MPa' | 'kgf' | 'mA' | 'V';

/** One simulated reading, as a device would publish it. */
export interface SimReading {
  /** Cell id. */
  readonly cell: string;
  readonly channel: SimChannel;
  /** Device timestamp, integer epoch ms (true sample time + the device's clock offset). */
  readonly ts: number;
  /** Measured value in `unit`; current is signed per the cell's `currentSign` (default: charge positive). */
  readonly value: number;
  readonly unit: SimUnit;
}

/** Options of a simulation run. */
export interface SimulateOptions {
  /** True start of the run (start of the initial rest), epoch ms. */
  readonly startTs: number;
  /** Seed: the same spec, seed and start give the same readings. Cells derive their own streams from it and their id. */
  readonly seed: number;
  /** Number of full cycles to simulate (integer ≥ 0); the run ends after the last cycle's final rest. */
  readonly cycles: number;
  /**
   * Called once per completed cycle with its noise-free ground truth, as soon as the model has computed
   * that cycle (a little before the readings past its end are yielded). Not called for a cycle that the
   * consumer never pulls readings up to.
   */
  readonly onCycle?: (truth: SimCycleTruth) => void;
}

// Independent random streams per cell.
const STREAM_MODEL = 0;
const STREAM_PRESSURE = 1;
const STREAM_CURRENT = 2;
const STREAM_VOLTAGE = 3;
const STREAM_PHASE = 4;

const KIND_PRESSURE = 0;
const KIND_CURRENT = 1;
const KIND_VOLTAGE = 2;
type Kind = 0 | 1 | 2;

/** One device channel: samples its own copy of the (deterministic) model at its own instants. */
class ChannelSampler {
  /** Timestamp and value of the pending reading (valid while `done` is false). */
  ts = 0;
  value = 0;
  done = false;

  private j = 0;
  private lastTrue = -Infinity;
  private lastTs = -Infinity;

  constructor(
    readonly channel: SimChannel,
    readonly unit: SimUnit,
    private readonly kind: Kind,
    private readonly model: CellPhysics,
    private readonly rng: Prng,
    private readonly t0: number,
    private readonly periodMs: number,
    private readonly jitterMs: number,
    private readonly offsetMs: number,
    private readonly noise: number,
    /** Pressure: load-cell counts per MPa. Current: published sign. */
    private readonly scale: number,
    /** Pressure: published value per count (MPa or kgf). */
    private readonly perCount: number,
    /** Pressure in kgf with a resolution of 1/n kgf: divide counts by n (exact decimals). 0 otherwise. */
    private readonly countsDivisor: number,
  ) {
    this.advance();
  }

  /** Computes the next reading of this channel, or sets `done` when the run is over. */
  advance(): void {
    let t = this.t0 + this.j * this.periodMs;
    this.j++;
    if (this.jitterMs > 0) t += (2 * this.rng.uniform() - 1) * this.jitterMs;
    if (t < this.lastTrue) t = this.lastTrue;
    this.lastTrue = t;
    const m = this.model;
    while (t >= m.tB) {
      if (m.isLast) {
        this.done = true;
        return;
      }
      m.step();
    }
    if (t < m.tA) t = m.tA;
    let ts = Math.round(t + this.offsetMs);
    if (ts < this.lastTs) ts = this.lastTs;
    this.lastTs = ts;
    this.ts = ts;
    switch (this.kind) {
      case KIND_PRESSURE: {
        let counts = m.pressureWithin(t) * this.scale;
        if (this.noise > 0) counts += this.noise * this.rng.gaussian();
        const q = Math.round(counts);
        this.value = this.countsDivisor > 0 ? q / this.countsDivisor : q * this.perCount;
        break;
      }
      case KIND_CURRENT: {
        let i = m.current_mA;
        if (this.noise > 0) i += this.noise * this.rng.gaussian();
        this.value = this.scale * i;
        break;
      }
      case KIND_VOLTAGE: {
        let v = m.voltageWithin(t);
        const sigma = this.noise + m.vNoiseExtra_V;
        if (sigma > 0) v += sigma * this.rng.gaussian();
        this.value = v;
        break;
      }
    }
  }
}

function validateOptions(opts: SimulateOptions): void {
  if (!Number.isFinite(opts.startTs)) throw new RangeError(`simulate: startTs must be a finite epoch ms (got ${String(opts.startTs)})`);
  if (!Number.isFinite(opts.seed)) throw new RangeError(`simulate: seed must be finite (got ${String(opts.seed)})`);
  if (!(Number.isInteger(opts.cycles) && opts.cycles >= 0)) throw new RangeError(`simulate: cycles must be an integer ≥ 0 (got ${String(opts.cycles)})`);
}

function buildSamplers(spec: SimCellSpec, opts: SimulateOptions): ChannelSampler[] {
  const id = spec.id;
  const modelSeed = deriveSeed(opts.seed, id, STREAM_MODEL);
  const phaseRng = new Prng(deriveSeed(opts.seed, id, STREAM_PHASE));
  const newModel = (onCycle?: (truth: SimCycleTruth) => void): CellPhysics => new CellPhysics(spec, modelSeed, opts.startTs, opts.cycles, onCycle);

  const area = spec.area_mm2;
  const res = spec.loadCellResolution_kgf;
  const countsPerMPa = area / (STANDARD_GRAVITY_M_S2 * res);
  const inv = 1 / res;
  const exactDivisor = Math.abs(inv - Math.round(inv)) < 1e-9 ? Math.round(inv) : 0;
  const pPeriod = 1000 / spec.pressureRate_Hz;
  const iPeriod = 1000 / spec.currentRate_Hz;
  const pressure = new ChannelSampler(
    'pressure',
    spec.pressureUnit,
    KIND_PRESSURE,
    newModel(),
    new Prng(deriveSeed(opts.seed, id, STREAM_PRESSURE)),
    opts.startTs + phaseRng.uniform() * pPeriod,
    pPeriod,
    spec.pressureJitter_ms,
    spec.pressureClockOffset_ms,
    spec.pressureNoise_counts,
    countsPerMPa,
    spec.pressureUnit === 'kgf' ? res : 1 / countsPerMPa,
    spec.pressureUnit === 'kgf' ? exactDivisor : 0,
  );
  // The cycler samples current and voltage with one phase; its model copy reports the ground truth.
  const cyclerPhase = phaseRng.uniform();
  const current = new ChannelSampler(
    'current',
    'mA',
    KIND_CURRENT,
    newModel(opts.onCycle),
    new Prng(deriveSeed(opts.seed, id, STREAM_CURRENT)),
    opts.startTs + cyclerPhase * iPeriod,
    iPeriod,
    spec.cyclerJitter_ms,
    spec.cyclerClockOffset_ms,
    spec.currentNoise_mA,
    spec.currentSign,
    1,
    0,
  );
  const samplers = [pressure, current];
  if (spec.voltageRate_Hz > 0) {
    const vPeriod = 1000 / spec.voltageRate_Hz;
    samplers.push(
      new ChannelSampler(
        'voltage',
        'V',
        KIND_VOLTAGE,
        newModel(),
        new Prng(deriveSeed(opts.seed, id, STREAM_VOLTAGE)),
        opts.startTs + cyclerPhase * vPeriod,
        vPeriod,
        spec.cyclerJitter_ms,
        spec.cyclerClockOffset_ms,
        spec.voltageNoise_V,
        1,
        1,
        0,
      ),
    );
  }
  return samplers;
}

/** Physics step of {@link simulatedSpan_ms}, s: 60× the readings' default of 1 s (18 ms a cell for 60 cycles, 1.0 s on the 1 s step). */
export const SPAN_ESTIMATE_STEP_S = 60;

/**
 * Margin added to the span the coarse step gives, as a fraction. Measured on the demo lab's cells (1–30 cycles, 0.1C–5C):
 * the coarse span is 0.3 % shorter to 6.8 % longer than the 1 s step's, so 1 % covers the short side.
 */
export const SPAN_ESTIMATE_MARGIN = 0.01;

/**
 * How long, in event time, a run of these cells lasts: from `startTs` to the last reading of the longest cell
 * (its device clocks' offsets and jitter included), ms; an upper estimate from the model alone, without sensors, on a
 * {@link SPAN_ESTIMATE_STEP_S} physics step plus {@link SPAN_ESTIMATE_MARGIN}. `oep simulate` starts that far in the
 * past so that its accelerated clock ends at the wall clock instead of running ahead of it.
 */
export function simulatedSpan_ms(specs: readonly SimCellSpec[], opts: Pick<SimulateOptions, 'seed' | 'cycles'>): number {
  let span = 0;
  for (const spec of specs) {
    validateSimCellSpec(spec);
    const step = Math.max(spec.physicsStep_s, SPAN_ESTIMATE_STEP_S);
    const model = new CellPhysics({ ...spec, physicsStep_s: step }, deriveSeed(opts.seed, spec.id, STREAM_MODEL), 0, opts.cycles);
    while (!model.isLast) model.step();
    const clock = Math.max(spec.pressureClockOffset_ms + spec.pressureJitter_ms, spec.cyclerClockOffset_ms + spec.cyclerJitter_ms, 0);
    span = Math.max(span, model.tB * (1 + SPAN_ESTIMATE_MARGIN) + clock);
  }
  return span;
}

/**
 * Lazily simulates one cell: its pressure, current and (if `voltageRate_Hz > 0`) voltage readings,
 * merged in nondecreasing `ts` order. Constant memory: readings are computed as they are pulled.
 * The run covers the initial rest and `opts.cycles` full cycles.
 * @throws RangeError on an invalid spec or options (when the generator is first pulled).
 */
export function* simulateCell(spec: SimCellSpec, opts: SimulateOptions): Generator<SimReading, void, undefined> {
  validateSimCellSpec(spec);
  validateOptions(opts);
  const cell = spec.id;
  const samplers = buildSamplers(spec, opts);
  for (;;) {
    let best: ChannelSampler | undefined;
    let bestTs = Infinity;
    for (const s of samplers) {
      if (!s.done && s.ts < bestTs) {
        best = s;
        bestTs = s.ts;
      }
    }
    if (best === undefined) return;
    yield { cell, channel: best.channel, ts: bestTs, value: best.value, unit: best.unit };
    best.advance();
  }
}

/**
 * Lazily simulates several cells and merges their readings in nondecreasing `ts` order
 * (a k-way merge over a binary heap; ties go to the earlier spec). Every cell uses `opts`
 * (its random streams are derived from the seed and its id); `onCycle` receives every cell's truth.
 * @throws RangeError on duplicate cell ids or an invalid spec/options (when first pulled).
 */
export function* simulateCells(specs: readonly SimCellSpec[], opts: SimulateOptions): Generator<SimReading, void, undefined> {
  const ids = new Set<string>();
  for (const s of specs) {
    if (ids.has(s.id)) throw new RangeError(`simulateCells: duplicate cell id ${JSON.stringify(s.id)}`);
    ids.add(s.id);
  }
  const gens: Generator<SimReading, void, undefined>[] = [];
  // Heap of the cells that have a next reading, ordered by (head ts, index).
  const heap: Lane[] = [];
  try {
    for (const [i, spec] of specs.entries()) {
      const gen = simulateCell(spec, opts);
      gens.push(gen);
      const r = gen.next();
      if (!r.done) heap.push({ i, gen, head: r.value });
    }
    for (let p = (heap.length >> 1) - 1; p >= 0; p--) siftDown(heap, p);
    for (let top = heap[0]; top !== undefined; top = heap[0]) {
      yield top.head;
      const r = top.gen.next();
      if (r.done) {
        const last = heap.pop();
        if (last !== undefined && heap.length > 0) {
          heap[0] = last;
          siftDown(heap, 0);
        }
      } else {
        top.head = r.value;
        siftDown(heap, 0);
      }
    }
  } finally {
    for (const g of gens) g.return(undefined);
  }
}

/** One cell in the merge of {@link simulateCells}: its index, its generator and its next reading. */
interface Lane {
  readonly i: number;
  readonly gen: Generator<SimReading, void, undefined>;
  head: SimReading;
}

/** Orders lanes by head time, ties to the earlier cell. */
const before = (a: Lane, b: Lane): boolean => a.head.ts < b.head.ts || (a.head.ts === b.head.ts && a.i < b.i);

/** Moves `heap[pos]` down to its place in the min-heap `heap`. */
function siftDown(heap: Lane[], pos: number): void {
  const item = heap[pos];
  if (item === undefined) return;
  for (;;) {
    const l = 2 * pos + 1;
    const left = heap[l];
    if (left === undefined) break;
    const right = heap[l + 1];
    let c = l;
    let child = left;
    if (right !== undefined && before(right, left)) {
      c = l + 1;
      child = right;
    }
    if (!before(child, item)) break;
    heap[pos] = child;
    pos = c;
  }
  heap[pos] = item;
}
