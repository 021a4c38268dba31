/**
 * Drives a Lab in process with simulated cells (no broker): the simulator's readings, converted to
 * canonical units, in batches per cell with arrival = event time. Returns every event and, per cell and
 * alert kind, the largest detector value seen relative to its warning level (and for Δ(ΔP_Q), each criterion's
 * as `ddpq_level` and `ddpq_rate`).
 */
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import { pressureToMPa } from '../../src/domain/units.js';
import type { SimCellSpec } from '../../src/sim/cell-spec.js';
import { simulateCells } from '../../src/sim/simulator.js';

export interface SimLabResult {
  readonly events: LabEvent[];
  /** cell → kind → max(value / warn) seen. */
  readonly peak: Map<string, Map<string, number>>;
  readonly readings: number;
}

export function configFor(specs: readonly SimCellSpec[], extra: object = {}) {
  return parseConfig({
    alignment: { maxFutureSkew_ms: 0 },
    ...extra,
    cells: specs.map((s) => ({
      id: s.id,
      activeMassG: s.activeMass_g,
      areaMm2: s.area_mm2,
      nominalCurrent_mA: s.nominalCapacity_mAh * 0.1,
      formationCycles: s.formationCycles,
    })),
  });
}

export function runSimLab(specs: readonly SimCellSpec[], cycles: number, seed = 7, extra: object = {}): SimLabResult {
  const cfg = configFor(specs, extra);
  const peak = new Map<string, Map<string, number>>();
  // Watch every detector measurement, to report margins (the Lab applies them to the lifecycle as usual).
  const lab = new Lab((id) => resolveCell(cfg, id), {
    signal: (cell, s) => {
      const m = peak.get(cell) ?? new Map<string, number>();
      peak.set(cell, m);
      m.set(s.kind, Math.max(m.get(s.kind) ?? -Infinity, s.value / s.warn));
      if (s.kind === 'ddpq_decline') {
        // Both criteria, each against its own warning level (the signal carries the more severe one).
        const x = typeof s.extra === 'function' ? s.extra() : (s.extra ?? {});
        const d = resolveCell(cfg, cell).alerts!.cycle.ddpq;
        m.set('ddpq_level', Math.max(m.get('ddpq_level') ?? -Infinity, (x.level_pct ?? -Infinity) / d.levelWarn_pct));
        const rate = (x.rate_pct_per_cycle ?? -Infinity) - d.rateSigmas * (x.rate_se_pct_per_cycle ?? 0);
        m.set('ddpq_rate', Math.max(m.get('ddpq_rate') ?? -Infinity, rate / d.rateWarn_pct_per_cycle));
      }
    },
  });
  const area = new Map(specs.map((s) => [s.id, s.area_mm2]));
  const batches = new Map<string, { cell: string; channel: 'pressure' | 'current' | 'voltage'; ts: number; value: number }[]>();
  const events: LabEvent[] = [];
  let readings = 0;
  for (const r of simulateCells(specs, { startTs: Date.UTC(2026, 0, 1), seed, cycles })) {
    const value = r.channel === 'pressure' ? pressureToMPa(r.value, r.unit as 'MPa' | 'kgf', area.get(r.cell)!) : r.value;
    let b = batches.get(r.cell);
    if (b === undefined) batches.set(r.cell, (b = []));
    b.push({ cell: r.cell, channel: r.channel, ts: r.ts, value });
    if (b.length >= 200) {
      lab.ingest(r.cell, b, r.ts, events);
      batches.set(r.cell, []);
    }
    readings++;
  }
  for (const [cell, b] of batches) if (b.length > 0) lab.ingest(cell, b, b[b.length - 1]!.ts, events);
  lab.finish(events);
  return { events, peak, readings };
}
