/**
 * deploy/: what can be checked without Docker (this machine has the Docker client but no daemon).
 *  - the compose file parses, every file or folder it mounts or builds from exists in the repository, the paths the
 *    containers use meet (oep's --config is a mount, its state under a volume, Mosquitto's include_dir and the shipped
 *    config's persistence folder, Grafana's provisioning path), every environment variable a service gets is one
 *    that service reads, and every `${VAR}` it interpolates is in the example env file and vice versa;
 *  - oep's config for the stack loads through oep's own loader, and the broker config (deploy/mosquitto.conf
 *    including the shipped config/mosquitto.conf) starts a real Mosquitto;
 *  - the systemd unit passes `systemd-analyze verify`, its sandbox scores at most 2.0 in `systemd-analyze security`,
 *    and its paths meet the example config's; its env file names only variables oep reads.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { freePort } from '../support/services.js';
import { until } from '../support/square-cells.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The OEP_* variables oep's code reads: every `OEP_…` name spelled in src/, pipelines/ and bin/. */
function oepVariables(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js)$/.test(e.name)) for (const [n] of readFileSync(p, 'utf8').matchAll(/\bOEP_[A-Z0-9_]*[A-Z0-9]\b/g)) names.add(n);
    }
  };
  for (const d of ['src', 'pipelines', 'bin']) walk(join(ROOT, d));
  return names;
}

/** `KEY=value` lines of an env file, commented-out ones included (they document what may be set). */
const envFileNames = (text: string): string[] => [...text.matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? '');

interface Service {
  readonly image?: string;
  readonly build?: { context: string; dockerfile: string };
  readonly command?: string[];
  readonly environment?: Record<string, string>;
  readonly volumes?: string[];
  readonly network_mode?: string;
}

function compose(): { services: Record<string, Service>; volumes: Record<string, unknown> } {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-type-assertion -- the test checks the shape it relies on below
  return parse(read('deploy/compose.yaml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
}

/** A service's mounts: host path (resolved from deploy/, or a named volume) → path in the container. */
function mounts(s: Service): { source: string; target: string; bind: boolean }[] {
  return (s.volumes ?? []).map((v) => {
    const [source = '', target = ''] = v.split(':');
    const bind = source.startsWith('.') || source.startsWith('/');
    return { source: bind ? resolve(DEPLOY, source) : source, target, bind };
  });
}

const service = (name: string): Service => {
  const s = compose().services[name];
  if (s === undefined) throw new Error(`no service ${name} in deploy/compose.yaml`);
  return s;
};

describe('deploy/compose.yaml', () => {
  it('brings up Mosquitto, InfluxDB 2, Grafana and oep built from deploy/Containerfile', () => {
    const c = compose();
    expect(Object.keys(c.services)).toEqual(expect.arrayContaining(['mosquitto', 'influxdb', 'grafana', 'oep']));
    expect(service('mosquitto').image).toMatch(/^eclipse-mosquitto:2/);
    expect(service('influxdb').image).toMatch(/^influxdb:2/);
    expect(service('grafana').image).toMatch(/^grafana\/grafana(-oss)?:1[1-9]/);
    const build = service('oep').build;
    expect(build).toBeDefined();
    expect(statSync(resolve(DEPLOY, build?.context ?? '?')).isDirectory()).toBe(true);
    expect(existsSync(resolve(DEPLOY, build?.context ?? '?', build?.dockerfile ?? '?'))).toBe(true);
  });

  it('mounts only files and folders that exist in the repository, and declares every named volume', () => {
    const c = compose();
    for (const [name, s] of Object.entries(c.services)) {
      for (const m of mounts(s)) {
        if (m.bind) expect(existsSync(m.source), `${name}: ${m.source}`).toBe(true);
        else expect(Object.keys(c.volumes), `${name}: volume ${m.source}`).toContain(m.source);
      }
    }
    // The shipped broker config and Grafana provisioning folder, not copies of them.
    expect(mounts(service('mosquitto')).map((m) => m.source)).toContain(join(ROOT, 'config/mosquitto.conf'));
    expect(mounts(service('grafana')).find((m) => m.target === '/etc/grafana/provisioning')?.source).toBe(join(ROOT, 'config/grafana/provisioning'));
  });

  it('paths meet inside the containers', () => {
    const targets = (name: string): string[] => mounts(service(name)).map((m) => m.target);
    // Mosquitto: its main config is our file, which includes the folder the shipped config is mounted in; the shipped
    // config persists into a volume.
    const mosquitto = service('mosquitto');
    const main = /mosquitto -c (\S+)/.exec(mosquitto.command?.join(' ') ?? '')?.[1];
    expect(targets('mosquitto')).toContain(main);
    const includeDir = /^include_dir (\S+)/m.exec(read('deploy/mosquitto.conf'))?.[1];
    expect(targets('mosquitto').some((t) => dirname(t) === includeDir && t.endsWith('.conf'))).toBe(true);
    const persistence = /^persistence_location (\S+)/m.exec(read('config/mosquitto.conf'))?.[1]?.replace(/\/$/, '');
    expect(targets('mosquitto')).toContain(persistence);
    // Grafana: the dashboard provider's folder is inside the mounted provisioning folder.
    const providerPath = /path: (\S+)/.exec(read('config/grafana/provisioning/dashboards/dashboards.yaml'))?.[1] ?? '?';
    expect(providerPath.startsWith('/etc/grafana/provisioning/')).toBe(true);
    // oep: its --config is a mount, it shares the broker's network namespace (the shipped listener is 127.0.0.1).
    const oep = service('oep');
    const config = /--config (\S+)/.exec(oep.command?.join(' ') ?? '')?.[1];
    expect(targets('oep')).toContain(config);
    expect(oep.network_mode).toBe('service:mosquitto');
    expect(read('config/mosquitto.conf')).toMatch(/^listener 1883 127\.0\.0\.1$/m);
  });

  it("oep's config loads through oep's loader, writes under its volume and names the stack's services", async () => {
    const file = mounts(service('oep')).find((m) => m.target === '/etc/oep/oep.yaml')?.source ?? '?';
    const cfg = await loadConfig(file, { OEP_INFLUX_TOKEN: 'token-from-the-env' });
    expect(cfg.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    expect(new URL(cfg.influx?.url ?? '?').hostname).toBe('influxdb');
    expect(cfg.influx?.token).toBe('token-from-the-env');
    const env = service('influxdb').environment ?? {};
    expect([cfg.influx?.org, cfg.influx?.bucket]).toEqual([env.DOCKER_INFLUXDB_INIT_ORG, env.DOCKER_INFLUXDB_INIT_BUCKET]);
    const volume = mounts(service('oep')).find((m) => !m.bind)?.target ?? '?';
    for (const dir of [cfg.state?.dir, cfg.output?.dir]) expect(dir?.startsWith(`${volume}/`), dir).toBe(true);
    // Grafana reads the bucket the daemon writes (InfluxQL: database = bucket name through the DBRP mapping).
    expect(service('grafana').environment?.OEP_INFLUX_DB).toBe(cfg.influx?.bucket);
  });

  it('every environment variable a service gets is one it reads; every ${VAR} is in the example env file and back', () => {
    const known = oepVariables();
    for (const name of ['oep', 'simulate']) {
      for (const v of Object.keys(service(name).environment ?? {})) expect(known, `${name}: ${v}`).toContain(v);
    }
    // Grafana: the variables its provisioning files interpolate, all of them set.
    const datasource = read('config/grafana/provisioning/datasources/oep-influxdb.yaml').replace(/^\s*#.*$/gm, '');
    const provisioned = new Set([...datasource.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    expect(new Set(Object.keys(service('grafana').environment ?? {}))).toEqual(provisioned);
    // Compose interpolation and the example env file: the same names.
    const interpolated = new Set([...read('deploy/compose.yaml').matchAll(/\$\{(\w+)(?::?[-?][^}]*)?\}/g)].map((m) => m[1]));
    expect(new Set(envFileNames(read('deploy/compose.env.example')))).toEqual(interpolated);
  });

  it('the broker config (deploy/mosquitto.conf including config/mosquitto.conf) starts a real Mosquitto', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-deploy-mosquitto-'));
    const port = await freePort();
    mkdirSync(join(dir, 'conf.d'));
    mkdirSync(join(dir, 'data'));
    // The container's paths and port, moved into a temp folder and a free port; everything else as shipped.
    const shipped = read('config/mosquitto.conf')
      .replace(/^listener 1883 127\.0\.0\.1$/m, `listener ${port} 127.0.0.1`)
      .replace(/^persistence_location .*$/m, `persistence_location ${dir}/data/`);
    writeFileSync(join(dir, 'conf.d', 'oep.conf'), shipped);
    const main = read('deploy/mosquitto.conf').replace(/^include_dir .*$/m, `include_dir ${dir}/conf.d`);
    writeFileSync(join(dir, 'mosquitto.conf'), `${main}\n${process.getuid?.() === 0 ? 'user root\n' : ''}`);
    const proc = spawn(process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => proc.once('exit', r));
    try {
      // The shipped config logs errors, warnings and notices only (not the "running" line): wait for the listener.
      const client = await until(
        () => mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'deploy-check', reconnectPeriod: 0, connectTimeout: 1000 }).catch(() => undefined),
        10_000,
        `the broker on port ${port}: ${out}`,
      );
      await client.subscribeAsync('oep/check/pressure', { qos: 1 });
      const got = new Promise<string>((r) => {
        client.once('message', (_t, m) => {
          r(m.toString());
        });
      });
      await client.publishAsync('oep/check/pressure', '{"ts":1,"value":2}', { qos: 1 });
      expect(await got).toBe('{"ts":1,"value":2}');
      await client.endAsync();
    } finally {
      proc.kill('SIGTERM');
      await exited;
    }
    // Persistence where the shipped config puts it (written on a clean stop).
    expect(existsSync(join(dir, 'data', 'mosquitto.db'))).toBe(true);
  });
});

describe('deploy/systemd', () => {
  const unit = join(DEPLOY, 'systemd/oep.service');
  const text = read('deploy/systemd/oep.service');
  const key = (k: string): string[] => [...text.matchAll(new RegExp(`^${k}=(.*)$`, 'gm'))].map((m) => m[1] ?? '');

  function analyze(args: readonly string[]): { status: number | null; out: string } {
    const r = spawnSync('systemd-analyze', args, { encoding: 'utf8' });
    if (r.error !== undefined) throw new Error(`systemd-analyze is missing (apt-get install systemd): ${r.error.message}`);
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }

  it('passes systemd-analyze verify (every key known, the executable present)', () => {
    const r = analyze(['verify', unit]);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  it('is sandboxed: a dedicated user, its own state folder, restart on failure, exposure at most 2.0', () => {
    expect(key('DynamicUser')).toEqual(['yes']);
    expect(key('StateDirectory')).toEqual(['oep']);
    expect(key('Restart')).toEqual(['on-failure']);
    for (const k of ['NoNewPrivileges', 'PrivateTmp', 'PrivateDevices']) expect(key(k), k).toEqual(['yes']);
    expect(key('ProtectSystem')).toEqual(['strict']);
    expect(key('ProtectHome')).toEqual(['yes']);
    const r = analyze(['security', '--offline=yes', unit]);
    const exposure = Number(/Overall exposure level for oep\.service: ([\d.]+)/.exec(r.out)?.[1]);
    expect(exposure, r.out.slice(-400)).toBeLessThanOrEqual(2);
  });

  it("its paths meet the launcher's and the example config's", async () => {
    const exec = key('ExecStart')[0] ?? '';
    expect(exec).toMatch(/^\/usr\/bin\/node \/opt\/oep\/bin\/oep\.js run --config \/etc\/oep\/oep\.yaml$/);
    expect(existsSync(join(ROOT, 'bin/oep.js'))).toBe(true);
    expect(key('ConfigurationDirectory')).toEqual(['oep']); // /etc/oep
    const cfg = await loadConfig(join(ROOT, 'config/oep.example.yaml'), {});
    for (const dir of [cfg.state?.dir, cfg.output?.dir]) expect(dir?.startsWith('/var/lib/oep/'), dir).toBe(true); // StateDirectory=oep
  });

  it('its environment file names only variables oep reads', () => {
    const names = envFileNames(read('deploy/systemd/oep.env.example'));
    expect(names).toContain('OEP_INFLUX_TOKEN');
    const known = oepVariables();
    for (const n of names) expect(known, n).toContain(n);
    expect(key('EnvironmentFile')).toEqual(['-/etc/oep/oep.env']);
  });
});
