/**
 * Which cells the lab takes in. A configured cell always; a cell the config does not name ("unknown")
 * only when the config allows unknown cells (all of them, or those matching a pattern), and only while
 * fewer than `maxUnknown` unknown cells hold state. An unknown cell that has closed no step and has sent
 * nothing for `evictIdle_ms` is forgotten, so ids made up by a stranger (or a typo) do not pile up;
 * a cell that has closed a step is kept (forgetting it would lose its open cycle).
 *
 * Asked before a message is parsed, so a refused message costs a set lookup and creates nothing.
 */

export type AdmissionRefusal = 'cell_not_allowed' | 'cell_limit';

export interface AdmissionSettings {
  /** Ids of the configured cells. */
  readonly configured: readonly string[];
  /** `any`: unknown cells are taken in; `configured`: only configured cells and unknown ones matching `patterns`. */
  readonly cells: 'any' | 'configured';
  /** Globs (`*` any run of characters, `?` one) naming unknown cells taken in under `cells: configured`. */
  readonly patterns: readonly string[];
  /** Most unknown cells holding state at once. */
  readonly maxUnknown: number;
  /** An unknown cell without a closed step is forgotten after this long without a message, ms. */
  readonly evictIdle_ms: number;
}

/** What admission knows of an id for as long as the settings hold: looked up once per cell, not per message. */
export interface CellStanding {
  /** The config names the cell. */
  readonly configured: boolean;
  /** The cell may come in at all: configured, or an unknown cell the settings allow (the cap aside). */
  readonly allowed: boolean;
}

/** What admission reads of a cell that holds state. */
export interface AdmittedCell {
  readonly aligner: { readonly lastArrivalAt: number };
  readonly counters: { readonly steps: number };
}

/** A glob as an anchored regular expression: `*` any run, `?` one character, everything else literal. */
export function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : '\\' + c));
  return new RegExp(`^${body}$`, 'su');
}

export class CellAdmission {
  private readonly configured: ReadonlySet<string>;
  private readonly patterns: readonly RegExp[];

  constructor(readonly settings: AdmissionSettings) {
    this.configured = new Set(settings.configured);
    this.patterns = settings.patterns.map(globRegExp);
  }

  isConfigured(id: string): boolean {
    return this.configured.has(id);
  }

  /** Whether an unknown id may be taken in at all (the cap aside). */
  private allowed(id: string): boolean {
    return this.settings.cells === 'any' || this.patterns.some((p) => p.test(id));
  }

  /** Why a message of cell `id` is refused, or undefined when it comes in; `cells` are those holding state now. */
  check(id: string, cells: ReadonlyMap<string, unknown>): AdmissionRefusal | undefined {
    if (this.configured.has(id)) return undefined;
    return this.refusal(this.standing(id), cells.has(id), cells);
  }

  /** Whether the config names `id`, and whether it may come in at all (see {@link CellStanding}). */
  standing(id: string): CellStanding {
    const configured = this.configured.has(id);
    return { configured, allowed: configured || this.allowed(id) };
  }

  /**
   * {@link check} of a cell whose standing is known already and which does (`holdsState`) or does not hold
   * state: no lookup by id, except for an unknown cell without state, which the cap is counted for.
   */
  refusal(s: CellStanding, holdsState: boolean, cells: ReadonlyMap<string, unknown>): AdmissionRefusal | undefined {
    if (s.configured) return undefined;
    if (!s.allowed) return 'cell_not_allowed';
    if (holdsState) return undefined;
    return this.unknownCount(cells) >= this.settings.maxUnknown ? 'cell_limit' : undefined;
  }

  /** Unknown cells holding state. */
  unknownCount(cells: ReadonlyMap<string, unknown>): number {
    let n = 0;
    for (const id of cells.keys()) if (!this.configured.has(id)) n++;
    return n;
  }

  /** Unknown cells to forget at processing time `now`: no closed step, nothing received for `evictIdle_ms`. */
  idle(cells: ReadonlyMap<string, AdmittedCell>, now: number): string[] {
    const out: string[] = [];
    for (const [id, c] of cells) {
      if (this.configured.has(id) || c.counters.steps > 0) continue;
      if (now - c.aligner.lastArrivalAt >= this.settings.evictIdle_ms) out.push(id);
    }
    return out;
  }
}
