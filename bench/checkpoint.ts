/**
 * `npm run bench -- checkpoint`: how long a checkpoint takes (encode, write, fsync) with N cells that
 * each hold 20 minutes of 1 Hz current, pressure and voltage, the first time (every cell encoded), with 1 %
 * of the cells changed since, and with none changed; next to the encoding of main's earlier format (v8 of
 * the classes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { StateStore } from '../src/adapters/state-store.js';
import { parseConfig, resolveCell } from '../src/config/schema.js';
import { Lab, type LabEvent } from '../src/domain/lab.js';
import type { Reading } from '../src/domain/types.js';

const T = Date.UTC(2026, 0, 1);

function filledLab(cells: number): Lab {
  const cfg = parseConfig({ defaults: { activeMassG: 0.0179 } });
  const lab = new Lab((id) => resolveCell(cfg, id));
  const ev: LabEvent[] = [];
  for (let s = 0; s < 1_200; s += 10) {
    for (let c = 0; c < cells; c++) {
      const cell = `c${c}`;
      const b: Reading[] = [];
      for (let k = 0; k < 10; k++) {
        const ts = T + (s + k) * 1000;
        b.push(
          { cell, channel: 'current', ts, value: 0.5 },
          { cell, channel: 'pressure', ts, value: 5 + (s + k) * 1e-4 },
          { cell, channel: 'voltage', ts, value: 3.8 },
        );
      }
      lab.ingest(cell, b, T + (s + 10) * 1000, ev);
      ev.length = 0;
    }
  }
  return lab;
}

export function checkpointBench(cells: number): string {
  const lab = filledLab(cells);
  const dir = mkdtempSync(join(tmpdir(), 'oep-bench-state-'));
  const store = new StateStore(dir);
  const meta = { savedAt: 0, journal: { seq: 0, recent: [] } };
  const timed = (f: () => void): number => {
    const t = performance.now();
    f();
    return performance.now() - t;
  };
  let bytes = 0;
  const first = timed(() => (bytes = store.save(lab, meta)));
  const ev: LabEvent[] = [];
  for (let c = 0; c < cells / 100; c++) lab.ingest(`c${c}`, [{ cell: `c${c}`, channel: 'current', ts: T + 1_300_000, value: 0.5 }], T + 1_301_000, ev);
  const some = timed(() => store.save(lab, meta));
  const none = timed(() => store.save(lab, meta));
  const old = timed(() => serialize({ version: 2, savedAt: 0, cells: lab.snapshot() }));
  rmSync(dir, { recursive: true, force: true });
  const ms = (x: number): string => `${Math.round(x)} ms`;
  return (
    `checkpoint, ${cells} cells × 20 min of 1 Hz readings (${(bytes / 2 ** 20).toFixed(1)} MB): first ${ms(first)} (all encoded), ` +
    `1 % changed ${ms(some)}, none changed ${ms(none)}; encoding main's earlier format (v8 of the classes) alone ${ms(old)}`
  );
}
