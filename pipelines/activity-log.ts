/**
 * What the daemon says between `listening on …` and the first alert: one INFO line when a cell appears
 * (with the settings it resolved to), one per closed cycle, and, when many cells close cycles at once,
 * a periodic summary instead of a line per cycle (the log of a 1,000-cell lab stays readable).
 */
import type { Logger } from '../src/adapters/log.js';
import type { ResolvedCell } from '../src/config/cell-setup.js';
import type { LabEvent } from '../src/domain/lab.js';
import type { CycleRecord } from '../src/domain/types.js';

/** Per-cycle (and new-cell) lines allowed per {@link CYCLE_WINDOW_MS}; past it, they are counted into a summary. */
export const CYCLE_LINES_PER_WINDOW = 20;
export const CYCLE_WINDOW_MS = 10_000;
/** How often the summary of the cycles not logged one by one is written, ms. */
export const CYCLE_SUMMARY_MS = 60_000;

const fix = (v: number | undefined, digits: number): string => (v === undefined ? '–' : v.toFixed(digits));
/** Four significant digits, without trailing zeros (settings as the user wrote them, not 0.006444000000000001). */
const sig = (v: number): string => String(Number(v.toPrecision(4)));

/** The settings of a cell that decide its numbers, as a log line. */
export function cellSettingsLine(r: ResolvedCell): string {
  const n = r.processor.normalization;
  const norm = n.kind === 'mass' ? `mass (active mass ${sig(n.activeMass_g)} g)` : `areal (electrode ${sig(n.electrodeArea_cm2)} cm²)`;
  const p = r.processor;
  return (
    `new cell ${r.id}: normalization ${norm}, cell area ${sig(r.ingest.areaMm2)} mm², ` +
    `reference cycle ${p.refCycle} (cycles ${p.cycleSource}, capacity ${r.capacitySource}), rest current ${sig(p.restCurrent_mA)} mA`
  );
}

/** A closed cycle as a log line: charges, CE, ΔP, Δ(ΔP) and Δ(ΔP_Q) in the cell's normalization. */
export function cycleLine(y: CycleRecord): string {
  const ddpQ =
    y.ddpQ_MPa_g_per_Ah !== undefined
      ? `${fix(y.ddpQ_MPa_g_per_Ah, 4)} MPa·g/Ah`
      : y.ddpQ_MPa_cm2_per_mAh !== undefined
        ? `${fix(y.ddpQ_MPa_cm2_per_mAh, 4)} MPa·cm²/mAh`
        : '–';
  return (
    `cycle ${y.cycle} closed: ${y.cell}, Q charge ${fix(y.qCharge_mAh, 3)} mAh, discharge ${fix(y.qDischarge_mAh, 3)} mAh, ` +
    `CE ${y.ce !== undefined ? (y.ce * 100).toFixed(2) + ' %' : '–'}, ΔP ${fix(y.dpCum_MPa, 4)} MPa, Δ(ΔP) ${fix(y.ddp_MPa, 4)} MPa, Δ(ΔP_Q) ${ddpQ}`
  );
}

/** Lines of one kind: up to a number per window, the rest counted for a periodic summary. */
class Burst {
  /** When the lines of the current window were written. */
  private shown: number[] = [];
  held = 0;
  readonly heldCells = new Set<string>();
  heldSince: number | undefined;

  /** True when a line may be written at `t`; else the event is counted. */
  admit(t: number, cell: string): boolean {
    this.shown = this.shown.filter((s) => t - s < CYCLE_WINDOW_MS);
    if (this.shown.length < CYCLE_LINES_PER_WINDOW) {
      this.shown.push(t);
      return true;
    }
    this.held++;
    this.heldCells.add(cell);
    this.heldSince ??= t;
    return false;
  }

  /** The seconds the held events cover, and forgets them (undefined: none held, or not yet due unless `force`). */
  take(t: number, force: boolean): number | undefined {
    if (this.heldSince === undefined || (!force && t - this.heldSince < CYCLE_SUMMARY_MS)) return undefined;
    const s = Math.round((t - this.heldSince) / 1000);
    this.heldSince = undefined;
    return s;
  }

  reset(): void {
    this.held = 0;
    this.heldCells.clear();
  }
}

const LIMIT = `not logged one by one: more than ${CYCLE_LINES_PER_WINDOW} per ${CYCLE_WINDOW_MS / 1000} s`;

export class ActivityLog {
  private readonly cycles = new Burst();
  private readonly cells = new Burst();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** A cell the lab has just set up: a new one at INFO, one put back from the state at DEBUG (the state line counts them). */
  cell(r: ResolvedCell, restored: boolean): void {
    if (restored) this.log.debug(`restored cell ${r.id}: ${cellSettingsLine(r).replace(/^new cell [^:]*: /, '')}`);
    else if (this.cells.admit(this.now(), r.id))
      this.log.info(cellSettingsLine(r), { cell: r.id, normalization: r.processor.normalization.kind, refCycle: r.processor.refCycle });
  }

  events(events: readonly LabEvent[]): void {
    for (const e of events) if (e.type === 'cycle' && e.record.complete) this.cycle(e.record);
    this.tick();
  }

  private cycle(y: CycleRecord): void {
    if (this.cycles.admit(this.now(), y.cell)) this.log.info(cycleLine(y), { cell: y.cell, cycle: y.cycle, ce: y.ce, ddp_MPa: y.ddp_MPa });
  }

  /** Writes the summaries once due (called with every batch and from the daemon's timer). */
  tick(): void {
    this.summarize(false);
  }

  /** Writes the summaries of what was held back, if anything (at a stop, whatever their age). */
  flush(): void {
    this.summarize(true);
  }

  private summarize(force: boolean): void {
    const t = this.now();
    const c = this.cells.take(t, force);
    if (c !== undefined) {
      this.log.info(`${this.cells.held} more new cells in the last ${c} s (${LIMIT})`, { newCells: this.cells.held, seconds: c });
      this.cells.reset();
    }
    const s = this.cycles.take(t, force);
    if (s !== undefined) {
      const b = this.cycles;
      this.log.info(`${b.held} cycles closed in the last ${s} s across ${b.heldCells.size} cells (${LIMIT})`, {
        cycles: b.held,
        cells: b.heldCells.size,
        seconds: s,
      });
      b.reset();
    }
  }
}
