import { describe, expect, it } from 'vitest';
import { closeCycle, judge, newIncidentBook, type AlertEvent } from '../../src/domain/alerts/incidents.js';
import { newAlertBook, type Signal } from '../../src/domain/alerts/lifecycle.js';
import { defaultSimCellSpec } from '../../src/sim/cell-spec.js';
import { runSimLab } from '../support/sim-lab.js';

const LIFE = { resetFraction: 0.5, clearDwell_ms: 60_000 };
const sig = (t: number, value: number): Signal => ({ kind: 'pressure_drop', t, value, warn: 30, crit: 90, unit: 'kPa', detail: 'd' });
const H = 3_600_000;

describe('incidents', () => {
  it('open at the first trigger, count recurrences without events, escalate, resolve after the clean cycles', () => {
    const book = newAlertBook('c');
    const inc = newIncidentBook();
    const out: AlertEvent[] = [];
    const at = (cycle: number) => ({ cycle, silenced: false, settings: { resolveAfterCycles: 3 } });
    // a drop in cycle 5, clear for the rest of that charge
    judge(book, inc, sig(5 * H, 40), LIFE, at(5), out);
    for (let t = 5 * H + 1_000; t <= 5 * H + 120_000; t += 10_000) judge(book, inc, sig(t, 2), LIFE, at(5), out);
    expect(out.map((e) => `${e.action}:${e.level}`)).toEqual(['open:warning']);
    expect(book.kinds.pressure_drop?.level).toBe('ok'); // the condition cleared; the incident stays open
    // the same drop in cycle 6 (a recurrence, no event), then a critical one in cycle 7 (escalate)
    judge(book, inc, sig(6 * H, 45), LIFE, at(6), out);
    for (let t = 6 * H + 1_000; t <= 6 * H + 120_000; t += 10_000) judge(book, inc, sig(t, 2), LIFE, at(6), out);
    judge(book, inc, sig(7 * H, 120), LIFE, at(7), out);
    for (let t = 7 * H + 1_000; t <= 7 * H + 120_000; t += 10_000) judge(book, inc, sig(t, 2), LIFE, at(7), out);
    expect(out.map((e) => `${e.action}:${e.level}`)).toEqual(['open:warning', 'escalate:critical']);
    expect(out[1]?.incident).toMatchObject({ id: out[0]?.incident.id, recurrences: 2, peak: 120, openedCycle: 5, lastSeenCycle: 7 });
    // cycles 7, 8 and 9 close clean: still open (2 clean cycles after 7 at cycle 9); cycle 10 resolves it
    for (const c of [7, 8, 9]) closeCycle(book, inc, c * H, at(c), out);
    expect(out).toHaveLength(2);
    closeCycle(book, inc, 10 * H, at(10), out);
    expect(out.map((e) => `${e.action}:${e.level}:${e.previous}`)).toEqual(['open:warning:ok', 'escalate:critical:warning', 'resolve:ok:critical']);
    expect(out[2]?.incident).toMatchObject({ id: out[0]?.incident.id, resolvedCycle: 10, resolvedT: 10 * H, recurrences: 2 });
    expect(inc.open).toEqual({});
    // the next drop is a new incident
    judge(book, inc, sig(11 * H, 40), LIFE, at(11), out);
    expect(out[3]).toMatchObject({ action: 'open', incident: { openedCycle: 11, recurrences: 0 } });
    expect(out[3]?.incident.id).not.toBe(out[0]?.incident.id);
  });

  it('a pressure drop in every charge of a penetrating cell is one incident, with a recurrence per charge', () => {
    const pen = defaultSimCellSpec('pen', {
      formationCycles: 1,
      pressureRate_Hz: 1,
      currentRate_Hz: 0.5,
      voltageRate_Hz: 0.5,
      penetration: { onsetCycle: 4, ddpQDecline_MPa_g_per_Ah_per_cycle: 0 },
    });
    const { events } = runSimLab([pen], 16, 5);
    const alerts = events.flatMap((e) => (e.type === 'alert' ? [e.alert] : []));
    const drops = alerts.filter((a) => a.kind === 'pressure_drop');
    expect(drops.map((a) => a.action)).toEqual(expect.arrayContaining(['open']));
    expect(drops.filter((a) => a.action === 'open')).toHaveLength(1);
    expect(drops.filter((a) => a.action === 'resolve')).toHaveLength(0);
    expect(drops.length).toBeLessThanOrEqual(2); // open, and at most one escalation
    // opened in the first charge of the onset cycle (the event's own cycle field is the latest cycle assembled: 3)
    const opened = drops[0]!.t;
    const cycle = events.find((e) => e.type === 'cycle' && e.record.tStart <= opened && opened <= e.record.tEnd);
    expect(cycle?.type === 'cycle' ? cycle.record.cycle : undefined).toBe(4);
  });
});
