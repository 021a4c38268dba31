/** The environment rules of the config (src/config/env.ts, paths.ts, load.ts) on their own. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { overrideNames } from '../../src/config/env.js';
import { chooseConfigFile } from '../../src/config/load.js';
import { closest, envName, scalarLeaves } from '../../src/config/paths.js';
import { configSchema } from '../../src/config/schema.js';

describe('config environment rules', () => {
  it('every scalar key has its own OEP_ variable, named by the documented rule', () => {
    const names = overrideNames(configSchema);
    // log.* is left to the logger, which reads OEP_LOG_LEVEL / OEP_LOG_FORMAT itself (flag > environment > file)
    const leaves = scalarLeaves(configSchema).filter((p) => p.length >= 2 && p[0] !== 'log');
    expect(names.size).toBe(leaves.length); // no two keys share a variable
    expect(names.has('OEP_LOG_LEVEL')).toBe(false);
    expect(names.get('OEP_INFLUX_URL')).toEqual(['influx', 'url']);
    expect(names.get('OEP_INFLUX_TOKEN')).toEqual(['influx', 'token']);
    expect(names.get('OEP_MQTT_URL')).toEqual(['mqtt', 'url']);
    expect(names.get('OEP_INFLUX_FLUSH_INTERVAL_MS')).toEqual(['influx', 'flushInterval_ms']);
    expect(names.get('OEP_MQTT_TLS_REJECT_UNAUTHORIZED')).toEqual(['mqtt', 'tls', 'rejectUnauthorized']);
    expect(names.get('OEP_ALERTS_DDPQ_RATE_WARN_PCT_PER_CYCLE')).toEqual(['alerts', 'ddpq', 'rateWarn_pct_per_cycle']);
    expect(envName('dpdqGrid_mAh')).toBe('DPDQ_GRID_M_AH');
  });

  it('discovery falls back to the later candidates (as /etc/oep/oep.yaml) when the earlier ones are missing', () => {
    const d = mkdtempSync(join(tmpdir(), 'oep-disc-'));
    const etc = join(d, 'etc-oep.yaml');
    writeFileSync(etc, '{}');
    expect(chooseConfigFile(undefined, {}, [join(d, 'missing.yaml'), etc])).toEqual({ file: etc, from: 'found' });
    expect(chooseConfigFile(undefined, { OEP_CONFIG: '' }, [etc]).from).toBe('found');
  });

  it('suggests only likely typos', () => {
    expect(closest('infux', ['influx', 'mqtt'])).toBe('influx');
    expect(closest('Bucket', ['bucket'])).toBe('bucket');
    expect(closest('zz', ['influx', 'mqtt'])).toBeUndefined();
  });
});
