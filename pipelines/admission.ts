/**
 * The daemon's control over which cells hold state: the edge's limits and admission check (asked before
 * a payload is parsed), the periodic eviction of idle unknown cells, and the key under which a rejection
 * is rate-limited in the log, so that a flood of made-up ids makes one log line per reason and window,
 * not one per id.
 *
 * It keeps one entry per cell met (see {@link CellEntry}): its settings, its standing and its state in the
 * lab, so that a message costs one lookup by cell id, at the edge; the lab tells it of every state it
 * makes, puts back or forgets (`onCell`), so an entry never holds a state the lab has let go.
 */
import type { ResolvedCell } from '../src/config/cell-setup.js';
import type { OepConfig } from '../src/config/schema.js';
import { CellAdmission, type AdmissionRefusal, type CellStanding } from '../src/domain/admission.js';
import type { CellState, Lab } from '../src/domain/lab.js';
import { DEFAULT_EDGE_LIMITS, type AdmittedCell, type CellIngestSettings, type EdgeOptions } from '../src/ingest/payload.js';

/** Reasons that say nothing about one cell in particular: logged under the reason alone. */
const FLOOD_REASONS: ReadonlySet<string> = new Set(['cell_not_allowed', 'cell_limit', 'bad_topic', 'bad_cell_id']);

/** A cell met: its settings and standing (both fixed while the daemon runs) and its state in the lab. */
export class CellEntry implements AdmittedCell {
  readonly settings: CellIngestSettings;
  /** The lab's state of the cell, undefined while it holds none (kept by {@link AdmissionControl.placed}). */
  state: CellState | undefined = undefined;

  constructor(
    readonly setup: ResolvedCell,
    readonly standing: CellStanding,
  ) {
    this.settings = setup.ingest;
  }
}

export class AdmissionControl {
  readonly admission: CellAdmission;
  /** The edge's options for the pipeline. */
  readonly edge: EdgeOptions;
  /** Unknown cells forgotten so far. */
  evicted = 0;
  /** The cells met, by id: those holding state, and those whose settings were asked (dropped at a sweep while stateless). */
  private readonly entries = new Map<string, CellEntry>();

  /** @param resolve a cell's settings, asked once per entry (when the cell is first met, or met again after it was forgotten). */
  constructor(
    config: Pick<OepConfig, 'edge' | 'cells'>,
    private readonly lab: Lab,
    private readonly resolve: (id: string) => ResolvedCell,
  ) {
    const e = config.edge;
    this.admission = new CellAdmission({
      configured: config.cells.map((c) => c.id),
      cells: e.cells,
      patterns: e.patterns,
      maxUnknown: e.maxUnknownCells,
      evictIdle_ms: e.evictIdle_s * 1000,
    });
    this.edge = {
      limits: { ...DEFAULT_EDGE_LIMITS, maxMessageBytes: e.maxMessageBytes, maxDepth: e.maxDepth },
      admit: (cell) => this.admit(cell),
    };
  }

  /**
   * The edge's check of a message of cell `id` (see {@link CellAdmission.check}): why it is refused, or the
   * cell's entry; undefined (admitted) for a cell without one yet, whose entry is made when its settings are
   * asked (a refused id gets none: a flood of made-up ids allocates nothing).
   */
  admit(id: string): AdmissionRefusal | CellEntry | undefined {
    const e = this.entries.get(id);
    if (e === undefined) return this.admission.check(id, this.lab.cells);
    return this.admission.refusal(e.standing, e.state !== undefined, this.lab.cells) ?? e;
  }

  /** The cell's entry, made at the first ask (its settings resolved then). */
  entry(id: string): CellEntry {
    let e = this.entries.get(id);
    if (e === undefined) {
      e = new CellEntry(this.resolve(id), this.admission.standing(id));
      e.state = this.lab.cells.get(id);
      this.entries.set(id, e);
    }
    return e;
  }

  /** The lab made, put back (`cell`) or forgot (undefined) the state of cell `id` (the lab's `onCell`). */
  placed(id: string, cell: CellState | undefined): void {
    if (cell === undefined) this.entries.delete(id);
    else this.entry(id).state = cell;
  }

  /** The rate-limit key of a rejection: per (cell, reason) for a cell holding state, else per reason. */
  logKey(cell: string, reason: string): string {
    return FLOOD_REASONS.has(reason) || !this.lab.cells.has(cell) ? `*/${reason}` : `${cell}/${reason}`;
  }

  /**
   * Forgets the idle unknown cells (see {@link CellAdmission.idle}); returns how many. The entries of cells
   * that hold no state go too (ids whose messages were all rejected: met again, they are looked up afresh).
   */
  sweep(now: number): number {
    const ids = this.admission.idle(this.lab.cells, now);
    for (const id of ids) this.lab.evict(id);
    this.evicted += ids.length;
    for (const [id, e] of this.entries) if (e.state === undefined) this.entries.delete(id);
    return ids.length;
  }
}
