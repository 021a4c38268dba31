/**
 * The README's scenario table: simulated failures run in process through the whole domain (aligner, core,
 * detectors, incidents), the onset against the cycle each kind's incident opened in, its level, and how many
 * incidents each kind made. (The broker is not the point here: test/integration/alerts.test.ts runs the
 * same kinds of scenarios through a real Mosquitto, test/integration/silence.test.ts the maintenance silence.)
 */
import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../src/domain/alerts/incidents.js';
import { defaultSimCellSpec, type SimCellOverrides } from '../../src/sim/cell-spec.js';
import { runSimLab } from '../support/sim-lab.js';

const FAST: SimCellOverrides = { formationCycles: 1, pressureRate_Hz: 1, currentRate_Hz: 0.5, voltageRate_Hz: 0.5 };
/** The paper's LiF cell: 23.8 MPa·g/(A·h), −4.2 over 30 cycles. */
const LIF: SimCellOverrides = { ...FAST, ddpQ_MPa_g_per_Ah: 23.8, ddpQDrift_MPa_g_per_Ah_per_cycle: -4.2 / 30 };
const PAPER_RATE = 4.2 / 30;
const CYCLES = 24;

interface Scenario {
  readonly id: string;
  readonly onset: number;
  readonly spec: SimCellOverrides;
  /** Kinds that must open an incident, with the latest cycle they may open in. */
  readonly expect: Readonly<Record<string, number>>;
}

const SCENARIOS: Scenario[] = [
  {
    id: 'decline-4x',
    onset: 3,
    spec: { ...LIF, penetration: { onsetCycle: 3, ddpQDecline_MPa_g_per_Ah_per_cycle: -3 * PAPER_RATE, dropProbability: 0 } },
    expect: { ddpq_decline: 10 },
  },
  {
    id: 'decline-6x',
    onset: 3,
    spec: { ...LIF, penetration: { onsetCycle: 3, ddpQDecline_MPa_g_per_Ah_per_cycle: -5 * PAPER_RATE, dropProbability: 0 } },
    expect: { ddpq_decline: 10 },
  },
  {
    id: 'late-onset',
    onset: 14,
    spec: { ...LIF, penetration: { onsetCycle: 14, ddpQDecline_MPa_g_per_Ah_per_cycle: -0.5 } },
    expect: { pressure_drop: 15, ddpq_decline: 22 },
  },
  {
    id: 'abrupt-onset',
    onset: 12,
    spec: { ...LIF, penetration: { onsetCycle: 12, ddpQDecline_MPa_g_per_Ah_per_cycle: -2, dropAmplitude_kPa: 150 } },
    expect: { pressure_drop: 12, ddpq_decline: 16 },
  },
  { id: 'soft-short', onset: 9, spec: { ...FAST, softShort: { onsetCycle: 9 } }, expect: { soft_short: 11, voltage_noise: 20, voltage_stall: 22 } },
  {
    id: 'voltage-stall',
    onset: 8,
    spec: { ...FAST, softShort: { onsetCycle: 8, initialResistance_kohm: 3, halvingCycles: 1000, voltageNoise_V: 0 } },
    expect: { voltage_stall: 9 },
  },
  { id: 'hard-short', onset: 5, spec: { ...FAST, hardShort: { cycle: 5 } }, expect: { hard_short: 5 } },
  { id: 'healthy', onset: 0, spec: { ...LIF }, expect: {} },
];

describe('alert scenarios (in process): onset, detection cycle, level, incidents', () => {
  const run = runSimLab(
    SCENARIOS.map((s) => defaultSimCellSpec(s.id, s.spec)),
    CYCLES,
    5,
  );
  const alerts = run.events.flatMap((e) => (e.type === 'alert' ? [e.alert] : []));

  it('opens one incident per signature at the expected cycle, and nothing on the healthy cell', () => {
    const rows: string[] = ['| scenario | onset cycle | kind: opened in cycle (level reached), incidents |', '|---|---|---|'];
    for (const s of SCENARIOS) {
      const mine = alerts.filter((a) => a.cell === s.id);
      const byKind = new Map<string, AlertEvent[]>();
      for (const a of mine) byKind.set(a.kind, [...(byKind.get(a.kind) ?? []), a]);
      const cells = [...byKind].map(([kind, ev]) => {
        const opens = ev.filter((a) => a.action === 'open');
        const level = ev.some((a) => a.level === 'critical') ? 'critical' : 'warning';
        return `${kind}: ${String(opens[0]?.cycle ?? '—')} (${level}), ${String(opens.length)}`;
      });
      rows.push(`| ${s.id} | ${s.onset === 0 ? '—' : String(s.onset)} | ${cells.join('; ') || 'none'} |`);
    }
    console.log(rows.join('\n'));
    for (const s of SCENARIOS) {
      const mine = alerts.filter((a) => a.cell === s.id);
      for (const [kind, by] of Object.entries(s.expect)) {
        const opens = mine.filter((a) => a.kind === kind && a.action === 'open');
        expect(opens[0]?.cycle, `${s.id} ${kind}`).toBeLessThanOrEqual(by);
        expect(opens[0]?.cycle, `${s.id} ${kind}`).toBeGreaterThanOrEqual(s.onset);
        expect(opens.length, `${s.id} ${kind}: one incident, not one per cycle`).toBeLessThanOrEqual(2);
      }
    }

    expect(alerts.filter((a) => a.cell === 'healthy')).toEqual([]);
  });
});
