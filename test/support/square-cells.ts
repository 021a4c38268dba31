/**
 * Synthetic square-wave cells for end-to-end tests, as wire messages, with ground truth in closed form:
 * charge at +I for 1 h, rest 10 min, discharge at −I for 1 h, rest 10 min; pressure = 15 MPa + K × charge
 * stored. So per cycle: Q_charge = Q_discharge = I·1 h, Δ(ΔP) = swing = K·Q, Δ(ΔP_Q) = K·Q/(Q/m), CE = 1.
 */
import mqtt from 'mqtt';
import { MOLD_13MM_AREA_MM2, N_PER_KGF } from '../../src/domain/units.js';

/** Start 10 days ago: the database accepts it, and it is clearly event time, not arrival time. */
export const T0 = Math.floor((Date.now() - 10 * 86_400_000) / 1000) * 1000;
export const MASS_G = 0.0179;
export const K_MPA_PER_MAH = 1.2; // pressure rise per mAh plated
export const HALF_S = 3600; // 1 h charge, 1 h discharge
export const REST_S = 600;

export interface CellPlan {
  readonly id: string;
  readonly current_mA: number;
  readonly unit: 'MPa' | 'kgf';
  readonly batch: number;
  readonly jitter_ms: number;
  readonly duplicateEvery: number; // republish every n-th message (QoS 1 redelivery)
  readonly swapEvery: number; // swap the order of every n-th pair of messages (disorder)
}

export const CELLS: CellPlan[] = [
  { id: 'cellA', current_mA: 0.65, unit: 'kgf', batch: 100, jitter_ms: 0, duplicateEvery: 0, swapEvery: 0 },
  { id: 'cellB', current_mA: 0.6, unit: 'MPa', batch: 50, jitter_ms: 30, duplicateEvery: 7, swapEvery: 5 },
  { id: 'cellC', current_mA: 0.7, unit: 'MPa', batch: 5, jitter_ms: 20, duplicateEvery: 0, swapEvery: 3 },
];
export const CYCLES = 3;

/** Deterministic jitter in [−j, j]. */
const jit = (k: number, j: number): number => (j === 0 ? 0 : Math.round((((k * 7919) % 1000) / 1000 - 0.5) * 2 * j));

export function messagesFor(p: CellPlan): { topic: string; payload: string }[] {
  const cur: { ts: number; value: number }[] = [];
  const pre: { ts: number; value: number; unit: string }[] = [];
  const halves: [number, number][] = [];
  for (let c = 0; c < CYCLES; c++) halves.push([p.current_mA, HALF_S], [0, REST_S], [-p.current_mA, HALF_S], [0, REST_S]);
  halves.push([p.current_mA, 1200]); // the next charge starts: closes the last cycle
  let t = 0;
  let stored = 0;
  let k = 0;
  for (const [i, dur] of halves) {
    for (let s = 0; s < dur; s++) cur.push({ ts: T0 + (t + s) * 1000 + 500 + jit(k++, p.jitter_ms), value: i });
    for (let s = 0; s < dur * 2; s++) {
      const P = 15 + K_MPA_PER_MAH * (stored + (i * s) / 2 / 3600);
      const value = p.unit === 'MPa' ? P : (P * MOLD_13MM_AREA_MM2) / N_PER_KGF;
      pre.push({ ts: T0 + (t + s / 2) * 1000 + jit(k++, p.jitter_ms), value, unit: p.unit });
    }
    stored += (i * dur) / 3600;
    t += dur;
  }
  // Interleave the channels by time in batches, as two devices would publish them.
  const msgs: { topic: string; payload: string; t: number }[] = [];
  for (let j = 0; j < cur.length; j += p.batch) {
    const batch = cur.slice(j, j + p.batch);
    const [head] = batch;
    if (head !== undefined) msgs.push({ topic: `oep/${p.id}/current`, payload: JSON.stringify(p.batch === 1 ? head : batch), t: head.ts });
  }
  for (let j = 0; j < pre.length; j += p.batch * 2) {
    const batch = pre.slice(j, j + p.batch * 2);
    const [head] = batch;
    if (head !== undefined) msgs.push({ topic: `oep/${p.id}/pressure`, payload: JSON.stringify(batch), t: head.ts });
  }
  msgs.sort((a, b) => a.t - b.t);
  for (let j = 0; p.swapEvery > 0 && j + 1 < msgs.length; j += p.swapEvery) {
    const [a, b] = [msgs[j], msgs[j + 1]];
    if (a !== undefined && b !== undefined) [msgs[j], msgs[j + 1]] = [b, a];
  }
  const out: { topic: string; payload: string }[] = [];
  msgs.forEach((m, j) => {
    out.push(m);
    if (p.duplicateEvery > 0 && j % p.duplicateEvery === 0) out.push(m);
  });
  return out;
}

export async function publishAll(url: string, msgs: { topic: string; payload: string }[]): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `pub-${Math.random()}`, clean: true });
  for (let j = 0; j < msgs.length; j += 500) {
    await Promise.all(msgs.slice(j, j + 500).map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })));
  }
  await client.endAsync();
}

export async function until<T>(f: () => Promise<T | undefined>, timeout_ms: number, what: string): Promise<T> {
  const end = Date.now() + timeout_ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The closed-form truth of one cycle of a plan. */
export function truthFor(p: CellPlan): { q_mAh: number; ddp_MPa: number; ddpQ: number } {
  const q = p.current_mA * (HALF_S / 3600);
  const ddp = K_MPA_PER_MAH * q;
  return { q_mAh: q, ddp_MPa: ddp, ddpQ: ddp / (q / 1000 / MASS_G) };
}
