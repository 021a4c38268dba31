import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError, parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import { computeCycle } from '../../src/domain/metrics/cycle.js';
import type { StepRecord } from '../../src/domain/types.js';

const EXAMPLE = new URL('../../config/oep.example.yaml', import.meta.url);

describe('configuration', () => {
  it('the example in config/ is valid, takes secrets from the environment and resolves cells over the defaults', async () => {
    const c = await loadConfig(EXAMPLE.pathname, { OEP_INFLUX_TOKEN: 'tok', OEP_MQTT_PASSWORD: 'pw' });
    expect(c.influx?.token).toBe('tok');
    expect(c.mqtt.password).toBe('pw');
    expect(Object.isFrozen(c.defaults)).toBe(true);
    const lif = resolveCell(c, 'ncm-lif-02');
    expect(lif.ingest.defaultPressureUnit).toBe('kgf');
    expect(lif.processor.normalization).toEqual({ kind: 'mass', activeMass_g: 0.0181 });
    expect(resolveCell(c, 'ncm-mgf2-01').processor.restCurrent_mA).toBeCloseTo(0.0194, 6);
    expect(resolveCell(c, 'li-sym-01').processor.normalization).toEqual({ kind: 'areal', electrodeArea_cm2: 1.131 });
    // an unlisted cell gets the defaults; the drift reference is the first cycle after formation
    expect(resolveCell(c, 'unlisted').processor.refCycle).toBe(4);
  });

  it('rejects a bad file with a readable message naming each problem', () => {
    const bad = () => parseConfig(parse('mqtt:\n  qos: 3\ncells:\n  - id: x\n    areaMm2: -5\n  - id: x\nunknownKey: 1\n'), {}, 'bad.yaml');
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (e) {
      const m = (e as Error).message;
      expect(m).toContain('bad.yaml');
      expect(m).toContain('mqtt.qos');
      expect(m).toContain('cells[0].areaMm2');
      expect(m).toContain('unknownKey');
    }
    expect(() => parseConfig({ cells: [{ id: 'x' }, { id: 'x' }] })).toThrow(/listed twice/);
  });

  it('keeps the example documented: every key of the schema appears in the example file', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    for (const k of [
      'lateness_ms',
      'idleTimeout_ms',
      'maxFutureSkew_ms',
      'currentMaxGap_s',
      'pressureMaxGap_s',
      'cycleSource',
      'firstHalf',
      'dpdqGrid_mAh',
      'electrodeAreaMm2',
      'restCurrent_mA',
      'nominalCurrent_mA',
    ])
      expect(text).toContain(k);
  });
});

describe('mqtt publish queue', () => {
  it('takes publishInflight and publishQueueBytes as positive integers, absent by default (the adapter then takes 1,000 and 16 MiB)', () => {
    expect(parseConfig({}).mqtt.publishInflight).toBeUndefined();
    const c = parseConfig({ mqtt: { publishInflight: 50, publishQueueBytes: 1_048_576 } });
    expect([c.mqtt.publishInflight, c.mqtt.publishQueueBytes]).toEqual([50, 1_048_576]);
    expect(() => parseConfig({ mqtt: { publishInflight: 0 } })).toThrow(/mqtt\.publishInflight/);
    expect(() => parseConfig({ mqtt: { publishQueueBytes: 1.5 } })).toThrow(/mqtt\.publishQueueBytes/);
  });
});

describe('journal commit interval', () => {
  it('takes state.journalCommit_ms from 0 to 1,000 ms, 10 by default, the key named in the error', () => {
    expect(parseConfig({ state: { dir: '/tmp/s' } }).state?.journalCommit_ms).toBe(10);
    expect(parseConfig({ state: { dir: '/tmp/s', journalCommit_ms: 0 } }).state?.journalCommit_ms).toBe(0);
    expect(parseConfig({ state: { dir: '/tmp/s', journalCommit_ms: 2.5 } }).state?.journalCommit_ms).toBe(2.5);
    expect(() => parseConfig({ state: { dir: '/tmp/s', journalCommit_ms: -1 } })).toThrow(/state\.journalCommit_ms/);
    expect(() => parseConfig({ state: { dir: '/tmp/s', journalCommit_ms: 60_000 } })).toThrow(/state\.journalCommit_ms/);
  });
});

describe('areal normalization (symmetric Li|Li cells)', () => {
  it('Δ(ΔP_Q) = Δ(ΔP) / (Q_dis / A) in MPa·cm²/(mA·h)', () => {
    const step = (kind: StepRecord['kind'], t: number, q: number, p0: number, p1: number): StepRecord => ({
      cell: 's',
      cycle: 1,
      step: 1,
      kind,
      tStart: t,
      tEnd: t + 3600_000,
      duration_s: 3600,
      q_mAh: q,
      qCharge_mAh: kind === 'charge' ? q : 0,
      qDischarge_mAh: kind === 'discharge' ? q : 0,
      iMean_mA: 0,
      pStart_MPa: p0,
      pEnd_MPa: p1,
      pMin_MPa: Math.min(p0, p1),
      pMax_MPa: Math.max(p0, p1),
    });
    const c = computeCycle([step('charge', 0, 0.5, 7, 7.3), step('discharge', 3600_000, 0.5, 7.3, 7.02)], {
      cell: 's',
      cycle: 1,
      normalization: { kind: 'areal', electrodeArea_cm2: 1.131 },
      pInitial_MPa: 7,
      ddpQRef: 0.5,
      complete: true,
    });
    expect(c.ddp_MPa).toBeCloseTo(0.28, 12);
    expect(c.qDischarge_mAh_cm2).toBeCloseTo(0.5 / 1.131, 12);
    expect(c.ddpQ_MPa_cm2_per_mAh).toBeCloseTo(0.28 / (0.5 / 1.131), 12);
    expect(c.drift_MPa_cm2_per_mAh).toBeCloseTo(0.28 / (0.5 / 1.131) - 0.5, 12);
    expect(c.ddpQ_MPa_g_per_Ah).toBeUndefined();
    expect(c.pIrrev_MPa).toBeCloseTo(0.02, 12);
    expect(c.swing_MPa).toBeCloseTo(0.3, 12);
  });
});

describe('alerts.ddpq', () => {
  it('reads the keys of the former Δ(ΔP_Q) detector as the rate criterion, and the new keys over them', () => {
    const old = resolveCell(parseConfig({ alerts: { ddpq: { warnMin_pct: 1, warnSigmas: 4, critFactor: 2, trendCycles: 6 } } }), 'c').alerts!.cycle.ddpq;
    expect(old).toMatchObject({ rateWarn_pct_per_cycle: 1, rateSigmas: 4, rateCrit_pct_per_cycle: 2, rateCycles: 6, levelWarn_pct: 40 });
    const cell = parseConfig({
      alerts: { ddpq: { warnMin_pct: 1 } },
      cells: [{ id: 'c', alerts: { ddpq: { rateWarn_pct_per_cycle: 2, levelWarn_pct: 25 } } }],
    });
    expect(resolveCell(cell, 'c').alerts!.cycle.ddpq).toMatchObject({ rateWarn_pct_per_cycle: 2, levelWarn_pct: 25, rateCrit_pct_per_cycle: 3 });
  });
});
