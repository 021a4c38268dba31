import { describe, expect, it } from 'vitest';
import { applySignal, newAlertBook, type Signal } from '../../src/domain/alerts/lifecycle.js';
import { defaultSimCellSpec, type SimCellSpec } from '../../src/sim/cell-spec.js';
import { PAPER_DDPQ_LIF_MPA_G_PER_AH, PAPER_DDPQ_MG_MPA_G_PER_AH, PAPER_DDPQ_MGF2_MPA_G_PER_AH } from '../../src/sim/scenarios.js';
import { runSimLab } from '../support/sim-lab.js';

const LIFE = { resetFraction: 0.5, clearDwell_ms: 60_000 };
const sig = (t: number, value: number): Signal => ({ kind: 'pressure_drop', t, value, warn: 30, crit: 90, unit: 'kPa', detail: 'd' });

describe('alert lifecycle', () => {
  it('raises at once, escalates at once, and emits only changes', () => {
    const b = newAlertBook('c');
    expect(applySignal(b, sig(0, 10), LIFE)).toBeUndefined();
    expect(applySignal(b, sig(1, 31), LIFE)?.level).toBe('warning');
    expect(applySignal(b, sig(2, 40), LIFE)).toBeUndefined();
    expect(applySignal(b, sig(3, 95), LIFE)).toMatchObject({ level: 'critical', previous: 'warning' });
  });

  it('clears only below the reset level (hysteresis) and only after the dwell time (no flapping)', () => {
    const b = newAlertBook('c');
    applySignal(b, sig(0, 35), LIFE);
    // 20 is under the trigger (30) but above the reset level (15): stays warning
    for (let t = 1_000; t < 200_000; t += 1_000) expect(applySignal(b, sig(t, 20), LIFE)).toBeUndefined();
    // below reset, but bouncing back before the dwell time: a suppressed flap, no event
    expect(applySignal(b, sig(200_000, 5), LIFE)).toBeUndefined();
    expect(applySignal(b, sig(230_000, 31), LIFE)).toBeUndefined();
    expect(b.flapsSuppressed).toBe(1);
    expect(applySignal(b, sig(240_000, 5), LIFE)).toBeUndefined();
    expect(applySignal(b, sig(299_000, 5), LIFE)).toBeUndefined();
    expect(applySignal(b, sig(300_000, 5), LIFE)).toMatchObject({ level: 'ok', previous: 'warning' });
  });
});

/**
 * Healthy cells after the paper's three interlayers, each declining at its own paper rate (MgF₂ −2.6, Mg −5.2,
 * LiF −4.2 MPa·g/(A·h) over 30 cycles), with ±3 % mass and ±0.5 MPa base-pressure variations.
 */
function healthyLab(n: number): SimCellSpec[] {
  const ddpq = [PAPER_DDPQ_MGF2_MPA_G_PER_AH, PAPER_DDPQ_MG_MPA_G_PER_AH, PAPER_DDPQ_LIF_MPA_G_PER_AH];
  const drift = [-2.6 / 30, -5.2 / 30, -4.2 / 30];
  return Array.from({ length: n }, (_, i) =>
    defaultSimCellSpec(`clean-${i}`, {
      ddpQ_MPa_g_per_Ah: ddpq[i % 3]!,
      ddpQDrift_MPa_g_per_Ah_per_cycle: drift[i % 3]!,
      activeMass_g: 0.0179 * (1 + (((i * 37) % 7) - 3) / 100),
      basePressure_MPa: 12 + (i % 5) * 0.8,
      pressureUnit: i % 2 === 0 ? 'kgf' : 'MPa',
      // Lower sampling rates than the daemon sees in a lab: fewer samples per averaging window is the harder case.
      pressureRate_Hz: 1,
      currentRate_Hz: 0.5,
      voltageRate_Hz: 0.5,
      formationCycles: i % 4 === 0 ? 3 : 1,
    }),
  );
}

describe('false alarms and detection margins', () => {
  const CELLS = 12;
  const CYCLES = 43;
  const clean = runSimLab(healthyLab(CELLS), CYCLES, 11);
  const sick = runSimLab(
    [
      // penetration after the detector has learnt the cell's own trend (reference cycle 2 + 8 cycles)
      defaultSimCellSpec('pen', {
        ddpQ_MPa_g_per_Ah: 23.8,
        formationCycles: 1,
        pressureRate_Hz: 1,
        currentRate_Hz: 0.5,
        voltageRate_Hz: 0.5,
        penetration: { onsetCycle: 11, ddpQDecline_MPa_g_per_Ah_per_cycle: -0.5 },
      }),
      defaultSimCellSpec('soft', { formationCycles: 1, pressureRate_Hz: 1, currentRate_Hz: 0.5, voltageRate_Hz: 0.5, softShort: { onsetCycle: 9 } }),
      defaultSimCellSpec('hard', { formationCycles: 1, pressureRate_Hz: 1, currentRate_Hz: 0.5, voltageRate_Hz: 0.5, hardShort: { cycle: 4 } }),
    ],
    26,
    5,
  );

  it(`${CELLS} healthy cells × ${CYCLES} cycles (≥ 500 clean cycles) raise no alert at all`, () => {
    const cycles = clean.events.filter((e) => e.type === 'cycle' && e.record.complete).length;
    expect(cycles).toBeGreaterThanOrEqual(500);
    expect(clean.events.filter((e) => e.type === 'alert').map((e) => (e.type === 'alert' ? e.alert.message : ''))).toEqual([]);
  });

  it('detects penetration, soft short and hard short with the right kind and level, with a margin over the noisiest clean cycle', () => {
    const worstClean = (kind: string) => Math.max(...[...clean.peak.values()].map((m) => m.get(kind) ?? 0));
    const margins = {
      pressure_drop: { clean: worstClean('pressure_drop'), detected: sick.peak.get('pen')!.get('pressure_drop')! },
      ddpq_decline: { clean: worstClean('ddpq_decline'), detected: sick.peak.get('pen')!.get('ddpq_decline')! },
      ddpq_level: { clean: worstClean('ddpq_level'), detected: sick.peak.get('pen')!.get('ddpq_level')! },
      ddpq_rate: { clean: worstClean('ddpq_rate'), detected: sick.peak.get('pen')!.get('ddpq_rate')! },
      soft_short: { clean: worstClean('soft_short'), detected: sick.peak.get('soft')!.get('soft_short')! },
      voltage_noise: { clean: worstClean('voltage_noise'), detected: sick.peak.get('soft')!.get('voltage_noise')! },
      voltage_stall: { clean: worstClean('voltage_stall'), detected: sick.peak.get('soft')!.get('voltage_stall')! },
      hard_short: { clean: worstClean('hard_short'), detected: sick.peak.get('hard')!.get('hard_short')! },
    };
    // value / warning level: < 1 never alerts. Printed for the README's margin table.
    console.log(
      'alert margins (peak value / warning level):',
      JSON.stringify(margins, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(3)) : v)),
    );
    const raised = (cell: string, kind: string, level: string) =>
      sick.events.some((e) => e.type === 'alert' && e.alert.cell === cell && e.alert.kind === kind && e.alert.level === level);
    expect(raised('pen', 'pressure_drop', 'critical')).toBe(true);
    expect(raised('pen', 'ddpq_decline', 'warning')).toBe(true);
    expect(raised('soft', 'soft_short', 'warning')).toBe(true);
    expect(raised('soft', 'voltage_noise', 'warning')).toBe(true);
    expect(raised('soft', 'voltage_stall', 'warning') || raised('soft', 'voltage_stall', 'critical')).toBe(true);
    expect(raised('hard', 'hard_short', 'critical')).toBe(true);
    // no false kinds on the sick cells either
    expect(raised('soft', 'pressure_drop', 'warning') || raised('hard', 'ddpq_decline', 'warning')).toBe(false);

    for (const m of Object.values(margins)) {
      expect(m.clean).toBeLessThan(1);
      expect(m.detected).toBeGreaterThan(1);
    }
  });
});

describe('Δ(ΔP_Q) decline from the reference cycle on (the two criteria of the method)', () => {
  // Each interlayer at its paper rate (−2.6, −5.2, −4.2 over 30 cycles from 15.6, 22.4, 23.8), and the same cell
  // declining at 4× and 5× that rate from the cycle after the reference cycle on; no pressure drops, so only
  // the Δ(ΔP_Q) criteria can see it.
  const PAPER = [
    { ddpQ: PAPER_DDPQ_MGF2_MPA_G_PER_AH, rate: 2.6 / 30 },
    { ddpQ: PAPER_DDPQ_MG_MPA_G_PER_AH, rate: 5.2 / 30 },
    { ddpQ: PAPER_DDPQ_LIF_MPA_G_PER_AH, rate: 4.2 / 30 },
  ];
  const REF = 2;
  const specs = PAPER.flatMap(({ ddpQ, rate }) =>
    [4, 5].map((x) =>
      defaultSimCellSpec(`x${x}-${ddpQ}`, {
        ddpQ_MPa_g_per_Ah: ddpQ,
        ddpQDrift_MPa_g_per_Ah_per_cycle: -rate,
        formationCycles: REF - 1,
        pressureRate_Hz: 1,
        currentRate_Hz: 0.5,
        voltageRate_Hz: 0.5,
        penetration: { onsetCycle: REF + 1, ddpQDecline_MPa_g_per_Ah_per_cycle: -rate * (x - 1), dropProbability: 0 },
      }),
    ),
  );
  const run = runSimLab(specs, REF + 9, 5);

  it('a cell declining at 4-5× its paper rate alerts within 8 cycles of the reference cycle, on the rate criterion', () => {
    for (const s of specs) {
      const first = run.events.find((e) => e.type === 'alert' && e.alert.cell === s.id && e.alert.kind === 'ddpq_decline');
      expect(first?.type === 'alert' ? first.alert.extra?.cycle : undefined, s.id).toBeLessThanOrEqual(REF + 8);
      expect(first?.type === 'alert' ? first.alert.unit : undefined, s.id).toBe('%/cycle');
    }
  });
});
