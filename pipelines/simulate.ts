/**
 * Publishes simulated cells to an MQTT broker under the wire contract, in batches per cell and channel,
 * with simulated time running `speed` times faster than the wall clock (or as fast as the broker takes).
 */
import { connectMqtt } from '../src/adapters/mqtt-client.js';
import { Publisher } from '../src/adapters/mqtt-publisher.js';
import { simulateCells } from '../src/sim/simulator.js';
import type { SimCellSpec } from '../src/sim/cell-spec.js';

export interface SimulatorRunOptions {
  readonly url: string;
  readonly topicPrefix: string;
  readonly cells: readonly SimCellSpec[];
  /** Simulated seconds per wall second; Infinity = as fast as the broker accepts. */
  readonly speed: number;
  readonly seed: number;
  /** Event time of the simulation's start, epoch ms. */
  readonly startTs: number;
  readonly cycles: number;
  /** Wall time between publishes, ms. */
  readonly tick_ms?: number;
  /**
   * The latest event time a reading may carry now, epoch ms (e.g. the wall clock: simulated time then never runs ahead
   * of it, and slows to real time if it catches up). Default: no limit.
   */
  readonly maxTs?: () => number;
  /** Stop after this many wall ms (default: when the simulation ends or on abort). */
  readonly duration_ms?: number;
  readonly signal?: AbortSignal;
  readonly log?: (m: string) => void;
}

export interface SimulatorRunReport {
  readonly readings: number;
  readonly messages: number;
  readonly simulatedUntil: number;
}

export async function runSimulator(o: SimulatorRunOptions): Promise<SimulatorRunReport> {
  const client = await connectMqtt({ url: o.url, clientId: `oep-sim-${process.pid}-${Math.round(Math.random() * 1e6)}`, clean: true });
  const out = new Publisher(client);
  const gen = simulateCells([...o.cells], { startTs: o.startTs, seed: o.seed, cycles: o.cycles });
  const tick = o.tick_ms ?? 100;
  const wallStart = Date.now();
  let readings = 0;
  let messages = 0;
  let simTs = o.startTs;
  let pending = gen.next();
  try {
    while (!pending.done) {
      if (o.signal?.aborted) break;
      const wall = Date.now() - wallStart;
      if (o.duration_ms !== undefined && wall >= o.duration_ms) break;
      const paced = Number.isFinite(o.speed) ? o.startTs + wall * o.speed : Infinity;
      const until = o.maxTs !== undefined ? Math.min(paced, o.maxTs()) : paced;
      const batches = new Map<string, { ts: number; value: number; unit: string }[]>();
      let n = 0;
      while (!pending.done && pending.value.ts <= until && n < 50_000) {
        const r = pending.value;
        const topic = `${o.topicPrefix}/${r.cell}/${r.channel}`;
        let b = batches.get(topic);
        if (b === undefined) batches.set(topic, (b = []));
        b.push({ ts: Math.round(r.ts), value: r.value, unit: r.unit });
        simTs = r.ts;
        n++;
        pending = gen.next();
      }
      // Optional channels first: the aligner holds a cell for pressure and current only.
      const order = (t: string): number => (t.endsWith('/voltage') ? 0 : t.endsWith('/current') ? 1 : 2);
      for (const [topic, b] of [...batches].sort((x, y) => order(x[0]) - order(y[0]))) await out.publish(topic, JSON.stringify(b));
      await out.flush();
      readings += n;
      messages += batches.size;
      if ((Number.isFinite(o.speed) || n === 0) && n < 50_000) await new Promise((r) => setTimeout(r, tick));
    }
  } finally {
    await client.endAsync();
  }
  o.log?.(`simulator: published ${readings} readings in ${messages} messages`);
  return { readings, messages, simulatedUntil: simTs };
}
