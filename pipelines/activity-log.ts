/**
 * What the daemon says between `listening on …` and the first alert: one INFO line when a cell appears
 * (with the settings it resolved to), one per closed cycle, and, when many cells close cycles at once,
 * a periodic summary instead of a line per cycle (the log of a 1,000-cell lab stays readable).
 */
import type { Logger } from '../src/adapters/log.js';
import type { ResolvedCell } from '../src/config/schema.js';
import type { LabEvent } from '../src/domain/lab.js';
import type { CycleRecord } from '../src/domain/types.js';

/** Per-cycle lines allowed per {@link CYCLE_WINDOW_MS}; past it, cycles are counted into a summary. */
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

export class ActivityLog {
  /** When the cycle lines of the current window were written. */
  private shown: number[] = [];
  private held = 0;
  private readonly heldCells = new Set<string>();
  private heldSince: number | undefined;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** A cell the lab has just set up: a new one at INFO, one put back from the state at DEBUG (the state line counts them). */
  cell(r: ResolvedCell, restored: boolean): void {
    if (restored) this.log.debug(`restored cell ${r.id}: ${cellSettingsLine(r).replace(/^new cell [^:]*: /, '')}`);
    else this.log.info(cellSettingsLine(r), { cell: r.id, normalization: r.processor.normalization.kind, refCycle: r.processor.refCycle });
  }

  events(events: readonly LabEvent[]): void {
    for (const e of events) if (e.type === 'cycle' && e.record.complete) this.cycle(e.record);
    this.tick();
  }

  private cycle(y: CycleRecord): void {
    const t = this.now();
    this.shown = this.shown.filter((s) => t - s < CYCLE_WINDOW_MS);
    if (this.shown.length < CYCLE_LINES_PER_WINDOW) {
      this.shown.push(t);
      this.log.info(cycleLine(y), { cell: y.cell, cycle: y.cycle, ce: y.ce, ddp_MPa: y.ddp_MPa });
      return;
    }
    this.held++;
    this.heldCells.add(y.cell);
    this.heldSince ??= t;
  }

  /** Writes the summary once it is due (called with every batch and from the daemon's timer). */
  tick(): void {
    if (this.heldSince === undefined || this.now() - this.heldSince < CYCLE_SUMMARY_MS) return;
    this.flush();
  }

  /** Writes the summary of the cycles held back, if any (at a stop, whatever its age). */
  flush(): void {
    if (this.heldSince === undefined) return;
    const s = Math.round((this.now() - this.heldSince) / 1000);
    this.log.info(
      `${this.held} cycles closed in the last ${s} s across ${this.heldCells.size} cells ` +
        `(not logged one by one: more than ${CYCLE_LINES_PER_WINDOW} per ${CYCLE_WINDOW_MS / 1000} s)`,
      { cycles: this.held, cells: this.heldCells.size, seconds: s },
    );
    this.held = 0;
    this.heldCells.clear();
    this.heldSince = undefined;
  }
}
