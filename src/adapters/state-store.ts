/**
 * Persists the lab (every cell's aligner buffer, open step, open cycle, reference Δ(ΔP_Q), counters)
 * so a restarted daemon resumes each cell mid-cycle. One file, written atomically (temp + rename),
 * with v8's structured clone so shared references inside a cell survive.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { EventTimeAligner } from '../domain/align.js';
import { CellProcessor } from '../domain/cell-processor.js';
import type { CycleDetectorState } from '../domain/alerts/detectors.js';
import type { AlertBook } from '../domain/alerts/lifecycle.js';
import type { CellCounters, CellSetup, Lab } from '../domain/lab.js';

export const STATE_FORMAT_VERSION = 1;
const FILE = 'lab-state.v8';

interface Saved {
  readonly version: number;
  readonly savedAt: number;
  readonly cells: [string, { aligner: object; processor: object; counters: CellCounters; alerts: AlertBook; cycleDetector: CycleDetectorState }][];
}

export class StateStore {
  constructor(readonly dir: string) {}

  get path(): string {
    return join(this.dir, FILE);
  }

  save(lab: Lab, now: number): number {
    mkdirSync(this.dir, { recursive: true });
    const saved: Saved = {
      version: STATE_FORMAT_VERSION,
      savedAt: now,
      cells: [...lab.cells].map(([id, c]) => [id, { aligner: c.aligner, processor: c.processor, counters: c.counters, alerts: c.alerts, cycleDetector: c.cycleDetector }]),
    };
    const buf = serialize(saved);
    const tmp = this.path + '.tmp';
    writeFileSync(tmp, buf);
    renameSync(tmp, this.path);
    return buf.length;
  }

  /** Restores the saved cells into `lab`; returns how many, or 0 when there is no state yet. */
  restore(lab: Lab, setupFor: (cell: string) => CellSetup): { cells: number; savedAt?: number } {
    if (!existsSync(this.path)) return { cells: 0 };
    const saved = deserialize(readFileSync(this.path)) as Saved;
    if (saved.version !== STATE_FORMAT_VERSION) throw new Error(`state file ${this.path} has format ${saved.version}, expected ${STATE_FORMAT_VERSION}`);
    for (const [id, c] of saved.cells) {
      const s = setupFor(id);
      lab.cells.set(id, {
        id,
        alertSetup: s.alerts,
        aligner: EventTimeAligner.revive(c.aligner, s.aligner),
        processor: CellProcessor.revive(c.processor, s.processor),
        counters: { ...c.counters, alerts: c.counters.alerts ?? 0 },
        alerts: c.alerts,
        cycleDetector: c.cycleDetector,
      });
    }
    return { cells: saved.cells.length, savedAt: saved.savedAt };
  }
}
