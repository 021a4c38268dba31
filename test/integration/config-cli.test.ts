/**
 * Configuration through the real CLI (bin/oep.js, from dist/): `${VAR}` substitution, `OEP_<SECTION>_<KEY>`
 * overrides, discovery (`--config`/argument, `$OEP_CONFIG`, `./oep.yaml`), "did you mean" for unknown keys,
 * the URL checks, and `oep config check` (exit code and the line printed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const OEP = fileURLToPath(new URL('../../bin/oep.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../config/oep.example.yaml', import.meta.url));

/** The environment of a child without any OEP_* or test variable of the parent. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('OEP_') && !k.startsWith('T_')) env[k] = v;
  return { ...env, ...extra };
}

function oep(args: readonly string[], o: { env?: Record<string, string>; cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [OEP, ...args], { encoding: 'utf8', env: cleanEnv(o.env ?? {}), cwd: o.cwd ?? tmpdir(), timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr, firstErr: r.stderr.split('\n')[0] ?? '' };
}

function file(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const dir = mkdtempSync(join(tmpdir(), 'oep-config-cli-'));

describe('configuration through the CLI', () => {
  it('substitutes ${VAR} and ${VAR:-default}, typed as the key expects; an unset variable names the key, exit 2', () => {
    const f = file(dir, 'subst.yaml', 'mqtt:\n  url: ${T_MQTT_URL}\nhealth:\n  port: ${T_HEALTH_PORT:-9999}\noutput:\n  dir: ${T_OUT:-/tmp/oep-out}/run\n');
    const ok = oep(['config', 'check', f], { env: { T_MQTT_URL: 'mqtt://broker.lab:1884' } });
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('url: mqtt://broker.lab:1884');
    expect(ok.out).toContain('port: 9999'); // a number: a string would fail the schema
    expect(ok.out).toContain('dir: /tmp/oep-out/run');
    const unset = oep(['config', 'check', f]);
    expect(unset.code).toBe(2);
    expect(unset.firstErr).toBe(`oep config: ${f}: mqtt.url: \${T_MQTT_URL} is not set (set T_MQTT_URL in the environment, or write \${T_MQTT_URL:-default})`);
  });

  it('OEP_<SECTION>_<KEY> overrides file values and defaults (secrets masked in the check), and a missing section is not made', () => {
    const env = {
      OEP_INFLUX_URL: 'http://influx.lab:8086',
      OEP_INFLUX_TOKEN: 'secret-token-123',
      OEP_MQTT_URL: 'mqtt://other:1883',
      OEP_INFLUX_BATCH_SIZE: '10',
      OEP_DEFAULTS_ACTIVE_MASS_G: '0.02',
      OEP_HEALTH_PORT: '9000',
    };
    const r = oep(['config', 'check', EXAMPLE], { env });
    expect(r.code).toBe(0);
    expect(r.out).toContain('url: http://influx.lab:8086/');
    expect(r.out).toContain('url: mqtt://other:1883');
    expect(r.out).toContain('batchSize: 10\n');
    expect(r.out).toContain('token: "***"');
    expect(r.out).not.toContain('secret-token-123');
    expect(r.out).toContain('  influx.url from OEP_INFLUX_URL\n');
    expect(r.out).toContain('  OEP_HEALTH_PORT ignored: its section is not in the file\n');
    // an unlisted cell now has a mass: mass normalization
    expect(r.out).toMatch(/cell \(any other cell\):\n(?: {2}.*\n)*? {2}normalization: \{ kind: mass, activeMass_g: 0.02 \}/);
    const bad = oep(['config', 'check', EXAMPLE], { env: { OEP_INFLUX_BATCH_SIZE: 'lots' } });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('→ at influx.batchSize');
  });

  it('finds the file: the argument, else $OEP_CONFIG, else ./oep.yaml; none is an error listing where it looked', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'oep-discover-'));
    const local = file(cwd, 'oep.yaml', 'mqtt:\n  topicPrefix: local\n');
    const other = file(dir, 'other.yaml', 'mqtt:\n  topicPrefix: other\n');
    const found = oep(['config', 'check'], { cwd });
    expect(found.code).toBe(0);
    expect(found.out.split('\n')[0]).toBe(`${local}: valid (found)`);
    const fromEnv = oep(['config', 'check'], { cwd, env: { OEP_CONFIG: other } });
    expect(fromEnv.out.split('\n')[0]).toBe(`${other}: valid (from $OEP_CONFIG)`);
    const fromArg = oep(['config', 'check', local], { cwd, env: { OEP_CONFIG: other } });
    expect(fromArg.out.split('\n')[0]).toBe(`${local}: valid`);
    const empty = mkdtempSync(join(tmpdir(), 'oep-discover-none-'));
    const none = oep(['config', 'check'], { cwd: empty });
    expect(none.code).toBe(2);
    expect(none.firstErr).toBe(`oep config: no config file: give --config <file>, set OEP_CONFIG, or create ${join(empty, 'oep.yaml')} or /etc/oep/oep.yaml`);
    // oep run logs which file it took (then refuses: no sink)
    const run = oep(['run'], { cwd, env: { OEP_LOG_LEVEL: 'info' } });
    expect(run.err).toMatch(new RegExp(`INFO +config: ${local} \\(found\\)\\n`));
  });

  it('an unknown key is an error with a suggestion, at any depth', () => {
    const f = file(dir, 'typo.yaml', 'infux:\n  url: http://x:8086\nmqtt:\n  topicPrefx: lab\noutput:\n  dir: /tmp/x\n');
    const r = oep(['config', 'check', f]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('✖ Unrecognized key: "infux" (did you mean "influx"?)');
    expect(r.err).toContain('✖ Unrecognized key: "topicPrefx" (did you mean "topicPrefix"?)\n  → at mqtt');
  });

  it('mqtt.url without a protocol, or with a variable not expanded, says what to write; exit 2', () => {
    const r = oep(['run', '--config', file(dir, 'noproto.yaml', 'mqtt:\n  url: localhost:1883\noutput:\n  dir: /tmp/x\n')]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[1]).toBe('✖ mqtt.url needs a protocol: mqtt://localhost:1883');
    const d = oep(['run', '--config', file(dir, 'dollar.yaml', 'mqtt:\n  url: $MQTT_URL\noutput:\n  dir: /tmp/x\n')]);
    expect(d.code).toBe(2);
    expect(d.err.split('\n')[1]).toBe('✖ mqtt.url is "$MQTT_URL": an environment variable not expanded? write ${NAME} (or ${NAME:-default})');
  });

  it('config check prints each cell resolved (normalization, mass, areas, thresholds) in 80 columns, equal cells grouped', () => {
    const f = file(
      dir,
      'cells.yaml',
      [
        'influx: { url: "http://u:p@influx:8086", bucket: oep, token: "t0ps3cret" }',
        'alerts: { webhook: { url: "https://hooks.slack.com/services/T000/B000/XYZSECRET" } }',
        'defaults: { areaMm2: 132.73 }',
        'cells:',
        '  - { id: ncm-01, activeMassG: 0.0179, nominalCurrent_mA: 0.97, alerts: { hardShort: { warn_mV: 80 } } }',
        '  - { id: ncm-02, activeMassG: 0.0179, nominalCurrent_mA: 0.97, alerts: { hardShort: { warn_mV: 80 } } }',
        '  - { id: li-sym, electrodeAreaMm2: 113.1 }',
      ].join('\n'),
    );
    const r = oep(['config', 'check', f]);
    expect(r.code).toBe(0);
    for (const l of r.out.split('\n')) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(r.out).not.toMatch(/t0ps3cret|XYZSECRET|u:p@/);
    const block = (head: string): string => r.out.slice(r.out.indexOf(head)).split(/\n(?=\S)/)[0] ?? '';
    const ncm = block('2 cells ncm-01, ncm-02:');
    expect(ncm).toContain('normalization: { kind: mass, activeMass_g: 0.0179 }');
    expect(ncm).toContain('restCurrent_mA: 0.0194');
    expect(ncm).toMatch(/hardShort:(\s|\{)+warn_mV: 80/);
    const li = block('cell li-sym:');
    expect(li).toContain('normalization: { kind: areal, electrodeArea_cm2: 1.131 }');
    expect(li).toMatch(/hardShort:(\s|\{)+warn_mV: 50/);
    expect(r.out).toContain('cell (any other cell):');
  });

  it('oep config without check is a usage error', () => {
    const r = oep(['config', 'show']);
    expect(r.code).toBe(2);
    expect(r.firstErr).toBe('oep config: usage: oep config check [file.yaml]');
  });
});
