/**
 * Alert scenarios with the simulator through a real Mosquitto, a test client subscribed to the alert
 * and status topics, and the oep_alert points read back from a real /api/v2/write server.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../pipelines/daemon.js';
import { runSimulator } from '../../pipelines/simulate.js';
import { createLogger } from '../../src/adapters/log.js';
import { parseConfig } from '../../src/config/schema.js';
import { defaultSimCellSpec, type SimCellOverrides, type SimCellSpec } from '../../src/sim/cell-spec.js';
import { readInfluxFields, startMosquitto, startVictoriaMetrics, type MosquittoHandle, type VmHandle } from '../support/services.js';
import { until } from '../support/square-cells.js';

interface AlertMsg {
  cell: string;
  kind: string;
  level: string;
  previous: string;
  message: string;
  t: number;
  action: string;
  cycle: number;
  incident: { id: string; recurrences: number };
}

const SLOW: SimCellOverrides = { formationCycles: 1, pressureRate_Hz: 0.5, currentRate_Hz: 0.2, voltageRate_Hz: 0.2 };
const SPECS: SimCellSpec[] = [
  // sudden pressure drops during plating from cycle 2
  defaultSimCellSpec('drop', { ...SLOW, penetration: { onsetCycle: 2, ddpQDecline_MPa_g_per_Ah_per_cycle: 0 } }),
  // gradual swing decline (no drops) once the detector knows the cell's own trend
  defaultSimCellSpec('fade', {
    ...SLOW,
    pressureRate_Hz: 0.2,
    currentRate_Hz: 0.1,
    voltageRate_Hz: 0.1,
    penetration: { onsetCycle: 19, ddpQDecline_MPa_g_per_Ah_per_cycle: -0.8, dropProbability: 0 },
  }),
  // the paper's LiF cell declining at 5× its rate from the cycle after the reference cycle, no drops
  defaultSimCellSpec('decline', {
    ...SLOW,
    pressureRate_Hz: 0.2,
    currentRate_Hz: 0.1,
    voltageRate_Hz: 0.1,
    ddpQ_MPa_g_per_Ah: 23.8,
    ddpQDrift_MPa_g_per_Ah_per_cycle: -4.2 / 30,
    penetration: { onsetCycle: 3, ddpQDecline_MPa_g_per_Ah_per_cycle: (-5 * 4.2) / 30, dropProbability: 0 },
  }),
  // abrupt onset: 150 kPa drops and −2 MPa·g/(A·h) per cycle from cycle 4
  defaultSimCellSpec('abrupt', {
    ...SLOW,
    currentRate_Hz: 0.1,
    voltageRate_Hz: 0.1,
    penetration: { onsetCycle: 4, ddpQDecline_MPa_g_per_Ah_per_cycle: -2, dropAmplitude_kPa: 150 },
  }),
  defaultSimCellSpec('soft', { ...SLOW, softShort: { onsetCycle: 9 } }),
  // a steady 3 kΩ parallel path from cycle 5: the CC voltage stalls below the cutoff, without noise
  defaultSimCellSpec('stall', {
    ...SLOW,
    pressureRate_Hz: 0.2,
    currentRate_Hz: 0.1,
    voltageRate_Hz: 0.1,
    softShort: { onsetCycle: 5, initialResistance_kohm: 3, halvingCycles: 1000, voltageNoise_V: 0 },
  }),
  defaultSimCellSpec('hard', { ...SLOW, hardShort: { cycle: 3 } }),
  defaultSimCellSpec('calm', { ...SLOW }),
];
const CYCLES = { drop: 4, fade: 28, decline: 11, abrupt: 6, soft: 11, stall: 7, hard: 4, calm: 11 };

describe('alerts through Mosquitto', () => {
  let broker: MosquittoHandle;
  let vm: VmHandle;
  let daemon: Daemon;
  const alerts: AlertMsg[] = [];
  const seen = new Set<string>();
  const status = new Map<string, { level: string; kinds: Record<string, string> }>();
  let watcher: mqtt.MqttClient;

  beforeAll(async () => {
    [broker, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    const config = parseConfig({
      mqtt: { url: broker.url, clientId: 'oep-it-alerts' },
      influx: { url: vm.url, org: 'lab', bucket: 'oep', token: 't', flushInterval_ms: 200 },
      alignment: { maxFutureSkew_ms: 0 },
      alerts: { clearDwell_s: 60 },
      cells: [
        ...SPECS.map((s) => ({ id: s.id, activeMassG: s.activeMass_g, nominalCurrent_mA: s.nominalCapacity_mAh * 0.1, formationCycles: 1 })),
        { id: 'quiet', alerts: { clearDwell_s: 1, silence: { warn_s: 1.5, crit_s: 3 } } },
      ],
    });
    watcher = mqtt.connect(broker.url, { clientId: 'alert-watcher', clean: true });
    watcher.on('message', (topic, payload) => {
      const j = JSON.parse(payload.toString()) as AlertMsg & { level: string; kinds: Record<string, string> };
      // QoS 1 is at least once: a publish whose PUBACK the daemon had not seen when its connection dropped
      // (keep-alive missed on a loaded machine) comes again, identical. A consumer keys events by incident,
      // action and level, as this one does.
      if (topic.endsWith('/alerts')) {
        const key = `${j.incident.id}/${j.action}/${j.level}`;
        if (!seen.has(key)) alerts.push(j);
        seen.add(key);
      } else status.set(topic.split('/')[1]!, j);
    });
    await new Promise<void>((r) =>
      watcher.once('connect', () => {
        r();
      }),
    );
    await watcher.subscribeAsync(['oep/+/alerts', 'oep/+/status'], { qos: 1 });
    daemon = new Daemon({ config, log: createLogger('error') });
    await daemon.start();
    const start = Date.now() - 60 * 86_400_000;
    await Promise.all(
      SPECS.map((s) =>
        runSimulator({
          url: broker.url,
          topicPrefix: 'oep',
          cells: [s],
          speed: Infinity,
          seed: 3,
          startTs: start,
          cycles: CYCLES[s.id as keyof typeof CYCLES],
        }),
      ),
    );
  }, 120_000);

  afterAll(async () => {
    await watcher?.endAsync();
    await daemon?.stop();
    await Promise.all([broker?.stop(), vm?.stop()]);
  });

  const got = (cell: string, kind: string, level: string): boolean => alerts.some((a) => a.cell === cell && a.kind === kind && a.level === level);
  /** Raised at this level or above (a fast decline goes from ok to critical at once). */
  const reached = (cell: string, kind: string, level: 'warning' | 'critical'): boolean =>
    got(cell, kind, 'critical') || (level === 'warning' && got(cell, kind, 'warning'));

  it('raises each penetration and short signature with the right kind and level', async () => {
    const expected = [
      ['fade', 'ddpq_decline', 'warning'],
      ['decline', 'ddpq_decline', 'warning'],
      ['stall', 'voltage_stall', 'critical'],
      ['abrupt', 'pressure_drop', 'critical'],
      // 60-66 kPa drops (8-9 load-cell counts): above the warning level (4 counts), below critical (12)
      ['drop', 'pressure_drop', 'warning'],
      ['soft', 'soft_short', 'warning'],
      ['hard', 'hard_short', 'critical'],
    ] as const;
    const all = (): boolean => expected.every(([c, k, l]) => reached(c, k, l));
    // Generous bounds: the daemon works through the whole simulated run as fast as the broker delivers it
    // (about 40 s alone on this 2-core machine, longer beside other test files); latency is benchmarked apart.
    await until(() => Promise.resolve(all() ? true : undefined), 150_000, `alerts ${JSON.stringify(expected)}`).catch((e: unknown) => {
      throw new Error(
        `${e instanceof Error ? e.message : String(e)}; got ${JSON.stringify(alerts.map((a) => `${a.cell}/${a.kind}/${a.level}/${a.incident.id}`))}`,
      );
    });
    // let the simulated runs finish before looking for what must not be there
    await until(() => Promise.resolve(daemon.lab.cell('calm').counters.cycles >= CYCLES.calm - 1 ? true : undefined), 150_000, 'calm cell done');
    // a pressure drop in every charge is one incident: opened once, not resolved between the charges
    const drops = alerts.filter((a) => a.cell === 'drop' && a.kind === 'pressure_drop');
    expect(drops.filter((a) => a.action === 'open')).toHaveLength(1);
    expect(drops.filter((a) => a.action === 'resolve')).toEqual([]);
    expect(new Set(drops.map((a) => a.incident.id)).size).toBe(1);
    // nothing on the healthy cell, and no wrong kind on the others
    expect(alerts.filter((a) => a.cell === 'calm')).toEqual([]);
    // the soft short's three signs: CE, voltage noise, voltage stall
    expect(alerts.filter((a) => a.cell === 'soft' && !['soft_short', 'voltage_noise', 'voltage_stall'].includes(a.kind))).toEqual([]);
    expect(alerts.filter((a) => a.cell === 'fade' && a.kind !== 'ddpq_decline')).toEqual([]);
    expect(alerts.filter((a) => a.cell === 'decline' && a.kind !== 'ddpq_decline')).toEqual([]);
    expect(alerts.filter((a) => a.cell === 'stall' && !['soft_short', 'voltage_stall'].includes(a.kind))).toEqual([]);
    // within about 8 cycles of the reference cycle (2), as the issue asks
    const declineOpen = alerts.find((a) => a.cell === 'decline' && a.kind === 'ddpq_decline' && a.action === 'open');
    expect(declineOpen?.cycle).toBeLessThanOrEqual(10);
    // the abrupt onset is caught in its onset cycle or the next (the drops fall where the simulator's seed puts them)
    const abruptOpen = alerts.find((a) => a.cell === 'abrupt' && a.kind === 'pressure_drop' && a.action === 'open');
    expect(abruptOpen?.cycle).toBeGreaterThanOrEqual(4);
    expect(abruptOpen?.cycle).toBeLessThanOrEqual(5);
    // the retained status carries the worst current level per cell
    expect(status.get('hard')?.level).toBe('critical');
    expect(['warning', 'critical']).toContain(status.get('hard')?.kinds.hard_short);
    // and the open incidents, with their recurrences
    const dropStatus = status.get('drop') as unknown as { incidents: { kind: string; recurrences: number; id: string }[] };
    expect(dropStatus.incidents.find((i) => i.kind === 'pressure_drop')?.id).toBe(drops[0]?.incident.id);
  }, 320_000);

  it('writes oep_alert points with their level codes to the database', async () => {
    const rows = await until(
      async () => {
        const r = await readInfluxFields(vm, 'oep_alert', ['level_code', 'value', 'threshold'], { cell: 'hard' });
        const c = r.find((x) => x.tags.kind === 'hard_short' && x.tags.level === 'critical');
        return c !== undefined && Object.keys(c.fields).length === 3 ? r : undefined;
      },
      20_000,
      'oep_alert points',
    );
    const crit = rows.find((r) => r.tags.kind === 'hard_short' && r.tags.level === 'critical');
    expect(crit?.fields.level_code).toBe(2);
    expect(crit!.fields.value!).toBeGreaterThanOrEqual(crit!.fields.threshold!);
  });

  it('raises silence when an active cell stops publishing, and clears it when data returns', async () => {
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'quiet-pub', clean: true });
    const t0 = Date.now() - 3_600_000;
    let k = 0;
    const send = async (channels: ('pressure' | 'current')[]): Promise<void> => {
      for (const ch of channels)
        await pub.publishAsync(`oep/quiet/${ch}`, JSON.stringify({ ts: t0 + k * 1000, value: ch === 'pressure' ? 15 + k * 1e-4 : 1.0 }), { qos: 1 });
      k++;
    };
    for (let j = 0; j < 20; j++) await send(['pressure', 'current']);
    // the load cell goes silent while the cycler keeps charging
    const silentUntil = Date.now() + 4_000;
    while (Date.now() < silentUntil) {
      await send(['current']);
      await new Promise((r) => setTimeout(r, 200));
    }
    await until(() => Promise.resolve(got('quiet', 'silence', 'critical') ? true : undefined), 10_000, 'silence critical');
    expect(got('quiet', 'silence', 'warning')).toBe(true);
    const back = Date.now() + 3_000;
    while (Date.now() < back) {
      await send(['pressure', 'current']);
      await new Promise((r) => setTimeout(r, 200));
    }
    await until(
      () => Promise.resolve(alerts.some((a) => a.cell === 'quiet' && a.kind === 'silence' && a.level === 'ok' && a.action === 'resolve') ? true : undefined),
      10_000,
      'silence cleared',
    );
    await pub.endAsync();
  });
});
