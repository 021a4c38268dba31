/**
 * A lab whose cell records hold most of what a record can: four cells charging and resting at 1 Hz for
 * `seconds` (c1 with a gap every 700 s, c2 with a pressure drop past 1,500 s, c3 with voltage, c0 with a second
 * current reading now and then), gaps tracked, alerts on, and a fifth cell, `bad`, failed by an exception in
 * its core. test/fixtures/state/v4-main/make-v4-main.mjs.txt builds the same lab with the release that wrote
 * format 4.
 */
import { resolveCell } from '../../src/config/cell-setup.js';
import { parseConfig } from '../../src/config/schema.js';
import { Lab, type CellSetup, type LabEvent } from '../../src/domain/lab.js';
import type { Reading } from '../../src/domain/types.js';

export const BUSY_T0 = Date.UTC(2026, 0, 1);
const cfg = parseConfig({ defaults: { activeMassG: 0.0179, nominalCurrent_mA: 0.65 } });

/** The cells' settings; `bad`'s core throws on its first reading. */
export function busySetup(id: string): CellSetup {
  const s = resolveCell(cfg, id);
  if (id !== 'bad') return s;
  const processor = Object.defineProperty({ ...s.processor }, 'restCurrent_mA', {
    get(): number {
      throw new Error('boom');
    },
  });
  return { ...s, processor };
}

/** The readings of second `s` to `s + 20` for cell `c` (0–4: c0 to c3, `bad`). */
export function busyBatch(c: number, s: number): Reading[] {
  const cell = c === 4 ? 'bad' : `c${String(c)}`;
  const b: Reading[] = [];
  for (let k = 0; k < 20; k++) {
    const t = s + k;
    if (c === 1 && t % 700 > 650) continue;
    const ts = BUSY_T0 + t * 1000;
    const charging = Math.floor(t / (300 + 60 * c)) % 2 === 0;
    const p = 5 + (charging ? (t % 300) * 1e-3 : 0.3 - (t % 300) * 1e-3) - (c === 2 && t > 1_500 ? (t - 1_500) * 2e-3 : 0);
    b.push({ cell, channel: 'current', ts, value: charging ? 0.65 : -0.65 }, { cell, channel: 'pressure', ts, value: p });
    if (c === 3) b.push({ cell, channel: 'voltage', ts, value: 3.6 + (t % 300) * 1e-3 });
    if (c === 0 && t % 97 === 0) b.push({ cell, channel: 'current', ts, value: 0.1 });
  }
  return b;
}

/** Feeds `lab` from second `from` to `to` (multiples of 20); its events. */
export function feedBusy(lab: Lab, from: number, to: number): LabEvent[] {
  const ev: LabEvent[] = [];
  for (let s = from; s < to; s += 20) for (let c = 0; c < 5; c++) lab.ingest(c === 4 ? 'bad' : `c${String(c)}`, busyBatch(c, s), BUSY_T0 + (s + 20) * 1000, ev);
  return ev;
}

export function newBusyLab(): Lab {
  return new Lab(busySetup, undefined, { trackGaps: true });
}
