/**
 * The daemon's control over which cells hold state: the edge's limits and admission check (asked before
 * a payload is parsed), the periodic eviction of idle unknown cells, and the key under which a rejection
 * is rate-limited in the log, so that a flood of made-up ids makes one log line per reason and window,
 * not one per id.
 */
import type { OepConfig } from '../src/config/schema.js';
import { CellAdmission } from '../src/domain/admission.js';
import type { Lab } from '../src/domain/lab.js';
import { DEFAULT_EDGE_LIMITS, type EdgeOptions } from '../src/ingest/payload.js';

/** Reasons that say nothing about one cell in particular: logged under the reason alone. */
const FLOOD_REASONS: ReadonlySet<string> = new Set(['cell_not_allowed', 'cell_limit', 'bad_topic', 'bad_cell_id']);

export class AdmissionControl {
  readonly admission: CellAdmission;
  /** The edge's options for the pipeline. */
  readonly edge: EdgeOptions;
  /** Unknown cells forgotten so far. */
  evicted = 0;

  constructor(
    config: Pick<OepConfig, 'edge' | 'cells'>,
    private readonly lab: Lab,
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
      admit: (cell) => this.admission.check(cell, lab.cells),
    };
  }

  /** The rate-limit key of a rejection: per (cell, reason) for a cell holding state, else per reason. */
  logKey(cell: string, reason: string): string {
    return FLOOD_REASONS.has(reason) || !this.lab.cells.has(cell) ? `*/${reason}` : `${cell}/${reason}`;
  }

  /** Forgets the idle unknown cells (see {@link CellAdmission.idle}); returns how many. */
  sweep(now: number): number {
    const ids = this.admission.idle(this.lab.cells, now);
    for (const id of ids) this.lab.evict(id);
    this.evicted += ids.length;
    return ids.length;
  }
}
