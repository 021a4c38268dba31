/**
 * Persists the lab (every cell's aligner buffer, open step, open cycle, reference Δ(ΔP_Q), counters)
 * so a restarted daemon resumes each cell mid-cycle. One file, written atomically (temp + rename),
 * with v8's structured clone so shared references inside a cell survive.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { CellSnapshot, Lab } from '../domain/lab.js';

/** 2: rings grow lazily (TimeRing); a version-1 file is refused with a clear error. */
export const STATE_FORMAT_VERSION = 2;
const FILE = 'lab-state.v8';

interface Saved {
  readonly version: number;
  readonly savedAt: number;
  readonly cells: [string, CellSnapshot][];
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
      cells: lab.snapshot(),
    };
    const buf = serialize(saved);
    const tmp = this.path + '.tmp';
    writeFileSync(tmp, buf);
    renameSync(tmp, this.path);
    return buf.length;
  }

  /** Restores the saved cells into `lab`; returns how many, or 0 when there is no state yet. */
  restore(lab: Lab): { cells: number; savedAt?: number } {
    if (!existsSync(this.path)) return { cells: 0 };
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- v8 deserialize returns any: the version is checked next
    const saved = deserialize(readFileSync(this.path)) as Saved;
    if (saved.version !== STATE_FORMAT_VERSION) throw new Error(`state file ${this.path} has format ${saved.version}, expected ${STATE_FORMAT_VERSION}`);
    for (const [id, c] of saved.cells) lab.restoreCell(id, c);
    return { cells: saved.cells.length, savedAt: saved.savedAt };
  }
}
