/**
 * The CLI's conventions through the real launcher (bin/oep.js, from dist/ built by `npm test`), each as
 * the exit code and the line it prints: version, per-command help, usage errors (exit 2) with suggestions,
 * the log level and format, a runtime failure (exit 1), one Ctrl-C = one shutdown, and `oep demo`'s run folder.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { freePort, startMosquitto, type MosquittoHandle } from '../support/services.js';
import { until } from '../support/square-cells.js';

const OEP = fileURLToPath(new URL('../../bin/oep.js', import.meta.url));
// eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- our own package.json
const PKG = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const tmp = (): string => mkdtempSync(join(tmpdir(), 'oep-cli-'));
/** Without the test runner's OEP_LOG_* (a test sets its own). */
const baseEnv = (): NodeJS.ProcessEnv => {
  const { OEP_LOG_LEVEL: _l, OEP_LOG_FORMAT: _f, ...env } = process.env;
  return env;
};
const oep = (args: readonly string[], o: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
  spawnSync(process.execPath, [OEP, ...args], { encoding: 'utf8', env: { ...baseEnv(), ...o.env }, cwd: o.cwd, timeout: 120_000 });
const firstLine = (s: string): string => s.split('\n')[0] ?? '';

/** A config whose broker is a closed port: the daemon logs its start-up lines, then fails to connect. */
async function unreachableConfig(extra = ''): Promise<string> {
  const file = join(tmp(), 'oep.yaml');
  writeFileSync(file, `mqtt:\n  url: mqtt://127.0.0.1:${await freePort()}\n${extra}`);
  return file;
}

describe('oep: version, help, usage errors', () => {
  it('a bare oep prints the general help and exits 0', () => {
    const r = oep([]);
    expect(r.status).toBe(0);
    expect(firstLine(r.stdout)).toBe('oep: operando electrochemical pressiometry stream processor');
  });

  it('--version and `oep version`: oep <package.json version> and the Node version', () => {
    for (const a of ['--version', 'version']) {
      const r = oep([a]);
      expect(r.status, a).toBe(0);
      expect(r.stdout, a).toBe(`oep ${PKG.version} (node ${process.version})\n`);
    }
  });

  it('`oep help <cmd>` is `oep <cmd> --help`: every flag and an example of that command', () => {
    const help = oep(['help', 'run']);
    expect(help.status).toBe(0);
    expect(oep(['run', '--help']).stdout).toBe(help.stdout);
    expect(help.stdout).toContain('--config <file>');
    expect(help.stdout).toContain('--log-level');
    expect(help.stdout).toMatch(/\nExample:\n {2}oep run --config \S+/);
    for (const c of COMMANDS) expect(oep(['help', c.name]).stdout, c.name).toMatch(new RegExp(`\\nExample:\\n {2}oep ${c.name} `));
  });

  it('an unknown command: exit 2, the nearest command suggested', () => {
    const r = oep(['demp']);
    expect(r.status).toBe(2);
    expect(firstLine(r.stderr)).toBe('oep: unknown command demp (did you mean demo?)');
    expect(firstLine(oep(['help', 'proces']).stderr)).toBe('oep: unknown command proces (did you mean process?)');
  });

  it('an unknown flag, a bad value, a missing value: exit 2 (not 1), with the nearest flag', () => {
    const flag = oep(['simulate', '--sped', '3']);
    expect(flag.status).toBe(2);
    expect(firstLine(flag.stderr)).toBe('oep simulate: unknown option --sped (did you mean --speed?); see oep help simulate');
    const value = oep(['simulate', '--cells', 'many']);
    expect(value.status).toBe(2);
    expect(firstLine(value.stderr)).toBe('oep simulate: --cells must be a non-negative number, got many');
    const missing = oep(['report', 'x', '--title']);
    expect(missing.status).toBe(2);
    expect(firstLine(missing.stderr)).toMatch(/^oep report: Option '--title <value>' argument missing; see oep help report$/);
  });
});

/** The modules `bin/oep.js <args>` loads in its own process (a child it spawns is not traced). */
function loadedModules(args: readonly string[]): string[] {
  const trace = join(tmp(), 'modules.txt');
  const hooks = new URL('../../scripts/module-trace-hooks.mjs', import.meta.url).href;
  const r = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,import { register } from "node:module"; register(${JSON.stringify(hooks)});`, OEP, ...args],
    {
      encoding: 'utf8',
      env: { ...baseEnv(), OEP_TRACE_FILE: trace },
      timeout: 60_000,
    },
  );
  expect(r.status, r.stderr).toBe(0);
  return [...new Set(readFileSync(trace, 'utf8').trim().split('\n'))].filter((u) => !u.startsWith('node:'));
}

describe('oep: fast start', () => {
  it("--help and --version run in the launcher's process and load no command, no dependency (not pino, not zod)", () => {
    for (const a of ['--help', '--version']) {
      const mods = loadedModules([a]);
      expect(
        mods.some((u) => u.endsWith('/dist/src/cli.js')),
        a,
      ).toBe(true);
      expect(
        mods.filter((u) => u.includes('/node_modules/') || u.includes('/dist/pipelines/') || COMMANDS.some((c) => u.endsWith(`/commands/${c.name}.js`))),
        a,
      ).toEqual([]);
    }
  });

  it("a command's help loads that command, not the logger; only run, demo and follow start a child with the heap cap", () => {
    const help = loadedModules(['process', '--help']);
    expect(help.some((u) => u.endsWith('/dist/src/commands/process.js'))).toBe(true);
    expect(help.filter((u) => u.includes('/node_modules/pino/'))).toEqual([]);
    expect(loadedModules(['run', '--help']).some((u) => u.endsWith('/dist/src/cli.js'))).toBe(true);
    // `oep demo` proper: the launcher loads no CLI module itself, the child does (and the child is not traced)
    const demo = loadedModules(['demo', '--cells', '1', '--duration', '0', '--no-table', '--out', join(tmp(), 'd')]);
    expect(demo.filter((u) => u.includes('/dist/'))).toEqual([]);
  });
});

describe('oep process: start-up', () => {
  it('a file without a config file loads no zod (the config schema, the MQTT payload schema, the column mapping)', () => {
    const file = fileURLToPath(new URL('../fixtures/formats/eclab_plain_fr.mpt', import.meta.url));
    const args = ['process', file, '--cell', 'c', '--out', join(tmp(), 'out'), '--start', '2024-05-01T00:00:00Z', '--active-mass-g', '0.012', '--no-progress'];
    const mods = loadedModules(args);
    expect(mods.some((u) => u.endsWith('/dist/pipelines/process.js'))).toBe(true);
    expect(mods.filter((u) => u.includes('/node_modules/zod/'))).toEqual([]);
    // With a config file the schema checks it (and a bad value on the command line is the schema's message).
    const config = join(tmp(), 'oep.yaml');
    writeFileSync(config, 'defaults: { areaMm2: 100 }\n');
    expect(loadedModules([...args, '--force', '--config', config]).some((u) => u.includes('/node_modules/zod/'))).toBe(true);
    const bad = oep([...args, '--force', '--area-mm2=-3']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/areaMm2/);
  });
});

describe('oep: log level and format', () => {
  it('--log-level verbose: exit 2, one line naming the levels and a suggestion; so for OEP_LOG_LEVEL and log.level', async () => {
    const cfg = await unreachableConfig();
    const flag = oep(['run', '--no-output', '--fail-fast', '--config', cfg, '--log-level', 'verbose']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toBe("oep: --log-level must be one of debug, info, warn, error, silent; got 'verbose' (did you mean debug?)\n");
    const env = oep(['run', '--no-output', '--fail-fast', '--config', cfg], { env: { OEP_LOG_LEVEL: 'infoo' } });
    expect(env.status).toBe(2);
    expect(env.stderr).toBe("oep run: OEP_LOG_LEVEL must be one of debug, info, warn, error, silent; got 'infoo' (did you mean info?)\n");
    const config = oep(['run', '--no-output', '--fail-fast', '--config', await unreachableConfig('log:\n  level: verbose\n')]);
    expect(config.status).toBe(2);
    expect(config.stderr).toContain('→ at log.level');
  });

  it('OEP_LOG_LEVEL=DEBUG (any case) says how it connects; a broker that is not there is a runtime failure (exit 1)', async () => {
    const r = oep(['run', '--no-output', '--fail-fast', '--config', await unreachableConfig()], { env: { OEP_LOG_LEVEL: 'DEBUG' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z DEBUG mqtt: mqtt:\/\/127\.0\.0\.1:\d+ client id oep-daemon, QoS 1, persistent session, TLS off/m);
  });

  it('the flag wins over the environment, which wins over the config; --log-format json: one JSON object per line', async () => {
    const cfg = await unreachableConfig('log:\n  level: error\n  format: text\n');
    const r = oep(['run', '--no-output', '--fail-fast', '--config', cfg, '--log-level', 'Debug'], { env: { OEP_LOG_LEVEL: 'warn', OEP_LOG_FORMAT: 'JSON' } });
    expect(r.status).toBe(1);
    const logged = r.stderr.split('\n').filter((l) => l.startsWith('{'));
    expect(logged.length).toBeGreaterThanOrEqual(2);
    for (const l of logged) expect(Object.keys(JSON.parse(l) as object)).toEqual(expect.arrayContaining(['level', 'time', 'msg']));
    expect(logged.map((l) => (JSON.parse(l) as { level: string }).level)).toContain('debug');
    // without the flag, the environment (warn) silences the debug and info lines
    expect(oep(['run', '--no-output', '--fail-fast', '--config', cfg], { env: { OEP_LOG_LEVEL: 'warn' } }).stderr).not.toMatch(/DEBUG|INFO/);
  });
});

describe('oep run through the launcher, a real Mosquitto', () => {
  let broker: MosquittoHandle;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('logs a new cell with its settings; one Ctrl-C (to the process group, as a terminal sends it) = one clean shutdown, exit 0', async () => {
    const dir = tmp();
    const cfg = join(dir, 'oep.yaml');
    writeFileSync(
      cfg,
      `mqtt:\n  url: ${broker.url}\n  clientId: cli-test\noutput:\n  dir: ${join(dir, 'out')}\ncells:\n  - id: cell-01\n    activeMassG: 0.0179\n`,
    );
    // detached: its own process group, which the test signals whole, as a terminal's Ctrl-C does
    const d = spawn(process.execPath, [OEP, 'run', '--config', cfg], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: baseEnv() });
    let err = '';
    d.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => d.on('exit', resolve));
    await until(() => Promise.resolve(err.includes('listening on') || undefined), 30_000, 'the daemon to listen');
    const sim = oep(['simulate', '--url', broker.url, '--cells', '1', '--speed', '600', '--duration', '2']);
    expect(sim.status, sim.stderr).toBe(0);
    await until(() => Promise.resolve(err.includes('new cell cell-01:') || undefined), 30_000, 'the new cell line');
    expect(err).toMatch(/INFO {2}new cell cell-01: normalization mass \(active mass 0\.0179 g\), cell area [\d.]+ mm², reference cycle \d+ \(cycles auto/);
    if (d.pid === undefined) throw new Error('no pid');
    process.kill(-d.pid, 'SIGINT');
    expect(await exited).toBe(0);
    expect(err.match(/shutting down/g)).toHaveLength(1);
    expect(err).toMatch(/INFO {2}oep: stopped; files: \d+ lines; state not kept/);
    expect(err).not.toMatch(/again|already/);
  });

  it('a SIGTERM to the launcher alone (kill <pid>) reaches the daemon over the channel: one clean shutdown, exit 0', async () => {
    const cfg = join(tmp(), 'oep.yaml');
    writeFileSync(cfg, `mqtt:\n  url: ${broker.url}\n  clientId: cli-test-term\n`);
    const d = spawn(process.execPath, [OEP, 'run', '--no-output', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'], env: baseEnv() });
    let err = '';
    d.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => d.on('exit', resolve));
    await until(() => Promise.resolve(err.includes('listening on') || undefined), 30_000, 'the daemon to listen');
    d.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err.match(/shutting down/g)).toHaveLength(1);
    expect(err).toMatch(/INFO {2}oep: stopped; state not kept/);
  });
});

describe('oep demo: a fresh run folder', () => {
  it('refuses an output folder holding an earlier run (exit 2, one line with the way out)', () => {
    const out = tmp();
    writeFileSync(join(out, 'steps.csv'), 'x\n');
    const r = oep(['demo', '--out', out, '--no-table']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`oep demo: ${out} already holds steps.csv from an earlier run; choose another --out or pass --force to replace them\n`);
  });

  it('by default writes a new timestamped folder, and says where and which `oep report` to run next', () => {
    const cwd = tmp();
    const r = oep(['demo', '--cells', '1', '--duration', '2', '--no-table'], { cwd });
    expect(r.status, r.stderr).toBe(0);
    const [dir, ...more] = readdirSync(cwd);
    expect(more).toEqual([]);
    expect(dir).toMatch(/^oep-demo-\d{8}-\d{6}$/);
    expect(firstLine(r.stderr)).toBe(`oep demo: results go to ${dir ?? ''}/ (steps.csv, cycles.csv, points.lp, alerts.csv)`);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(`oep demo: results in ${dir ?? ''}/; next: oep report ${dir ?? ''}`);
    expect(existsSync(join(cwd, dir ?? '', 'steps.csv'))).toBe(true);
  });
});
