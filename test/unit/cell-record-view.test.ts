/**
 * A checkpoint encodes each cell from `Lab.cellRecordView`, which shares the cell's live plain-data parts
 * instead of copying them: once encoded, it must decode to the very record `Lab.cellRecord` copies, for
 * cells in every phase (charging, resting, cycles closed, alerts raised, gaps counted, voltage present).
 */
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import type { Reading } from '../../src/domain/types.js';

const T = Date.UTC(2026, 0, 1);
const cfg = parseConfig({ defaults: { activeMassG: 0.0179, nominalCurrent_mA: 0.65 } });

describe('Lab.cellRecordView', () => {
  it('encodes to the record Lab.cellRecord copies', () => {
    const lab = new Lab((id) => resolveCell(cfg, id), undefined, { trackGaps: true });
    const ev: LabEvent[] = [];
    let checked = 0;
    for (let s = 0; s < 2_400; s += 20) {
      for (let c = 0; c < 4; c++) {
        const cell = `c${String(c)}`;
        const b: Reading[] = [];
        for (let k = 0; k < 20; k++) {
          const t = s + k;
          // a hole in c1's readings (a gap), a pressure drop while c2 charges (an alert)
          if (c === 1 && t % 700 > 650) continue;
          const ts = T + t * 1000;
          const charging = Math.floor(t / (300 + 60 * c)) % 2 === 0;
          const p = 5 + (charging ? (t % 300) * 1e-3 : 0.3 - (t % 300) * 1e-3) - (c === 2 && t > 1_500 ? (t - 1_500) * 2e-3 : 0);
          b.push({ cell, channel: 'current', ts, value: charging ? 0.65 : -0.65 }, { cell, channel: 'pressure', ts, value: p });
          if (c === 3) b.push({ cell, channel: 'voltage', ts, value: 3.6 + (t % 300) * 1e-3 });
        }
        lab.ingest(cell, b, T + (s + 20) * 1000, ev);
        const view = lab.cellRecordView(cell);
        expect(deserialize(serialize(view))).toStrictEqual(deserialize(serialize(lab.cellRecord(cell))));
        checked++;
      }
    }
    expect(checked).toBe(480);
    expect(ev.some((e) => e.type === 'cycle')).toBe(true);
    expect(ev.some((e) => e.type === 'gap')).toBe(true);
    expect(ev.some((e) => e.type === 'alert')).toBe(true);
    expect(lab.cellRecordView('none')).toBeUndefined();
  });
});
