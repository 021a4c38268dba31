/**
 * The real daemon as its users run it: `bin/oep.js run --config <file>` (the launcher, which starts the
 * CLI in a child with a bounded heap), its output collected, its child's pid read from the lock file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCK_FILE } from '../../src/adapters/instance-lock.js';
import { until } from './square-cells.js';

const LAUNCHER = fileURLToPath(new URL('../../bin/oep.js', import.meta.url));

export interface DaemonProcess {
  /** The launcher. */
  readonly proc: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** `env.OEP_CPU_PROF = <dir>` runs the CLI directly (no launcher) with `--cpu-prof` into that folder, to find what blocks. */
export function launchDaemon(configPath: string, env: Readonly<Record<string, string>> = {}): DaemonProcess {
  const prof = env.OEP_CPU_PROF;
  const entry =
    prof !== undefined
      ? ['--max-old-space-size=128', '--cpu-prof', `--cpu-prof-dir=${prof}`, fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url))]
      : [LAUNCHER];
  const proc = spawn(process.execPath, [...entry, 'run', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OEP_LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      resolve(code);
    }),
  );
  return { proc, output: () => out, exited };
}

/** Resolves once the daemon says it listens. */
export function listening(d: DaemonProcess, timeout_ms = 20_000): Promise<true> {
  return until(() => Promise.resolve(d.output().includes('listening on') ? true : undefined), timeout_ms, 'the daemon to listen');
}

/** The pid in the lock file of a state folder (the daemon itself, not its launcher). */
export function lockPid(stateDir: string): number | undefined {
  try {
    const o: unknown = JSON.parse(readFileSync(join(stateDir, LOCK_FILE), 'utf8'));
    return typeof o === 'object' && o !== null && 'pid' in o && typeof o.pid === 'number' ? o.pid : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process, bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m?.[1] === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What {@link startProbe} saw. */
export interface ProbeResult {
  readonly probes: number;
  /** Probes that failed or got no answer within the timeout. */
  readonly failures: number;
  /** Probes answered, but later than `slow_ms`. */
  readonly slow: number;
  readonly slowest_ms: number;
  readonly peakRss_bytes: number;
  /** The same probes of a control: a bare Node HTTP server in a process of its own, asked right after each probe. */
  readonly control: { readonly failures: number; readonly slow: number; readonly slowest_ms: number };
}

/**
 * Asks `url` (/healthz) every `every_ms` from a process of its own (counting answers slower than
 * `slow_ms`, and failures: an error, or no answer within `timeout_ms`), so that the test's own work (publishing
 * tens of thousands of messages) does not delay the probe, and samples the RSS of `pid` each time.
 * Each probe is followed by the same probe of a control, a bare HTTP server in a process of its own: on a
 * machine so loaded that any process waits seconds for a CPU, the control is slow too, while a daemon that
 * blocks its own event loop is slow alone. `stop()` ends both and returns what it saw.
 */
export function startProbe(
  url: string,
  pid: number,
  o: { every_ms?: number; slow_ms?: number; timeout_ms?: number } = {},
): { stop: () => Promise<ProbeResult> } {
  const { every_ms = 50, slow_ms = 1_000, timeout_ms = 5_000 } = o;
  const script = `
    const fs = require('node:fs');
    const { spawn } = require('node:child_process');
    const r = { probes: 0, failures: 0, slow: 0, slowest_ms: 0, peakRss_bytes: 0, control: { failures: 0, slow: 0, slowest_ms: 0 } };
    const server = spawn(process.execPath, ['-e', "const s = require('node:http').createServer((q, a) => a.end('ok')).listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port)))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    let on = true;
    process.stdin.on('end', () => { on = false; });
    process.stdin.resume();
    const ask = async (url, into) => {
      const t = performance.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(${timeout_ms}) });
        await res.text();
        if (res.status !== 200) into.failures++;
      } catch { into.failures++; }
      const took = performance.now() - t;
      if (took > ${slow_ms}) into.slow++;
      into.slowest_ms = Math.max(into.slowest_ms, took);
    };
    (async () => {
      const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(String(d))));
      while (on) {
        await ask(${JSON.stringify(url)}, r);
        r.probes++;
        await ask('http://127.0.0.1:' + port + '/', r.control);
        try {
          const m = /VmRSS:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/${pid}/status', 'utf8'));
          if (m) r.peakRss_bytes = Math.max(r.peakRss_bytes, Number(m[1]) * 1024);
        } catch { r.failures++; }
        await new Promise((s) => setTimeout(s, ${every_ms}));
      }
      server.kill();
      process.stdout.write(JSON.stringify(r));
    })();`;
  const proc = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) =>
    proc.on('exit', () => {
      resolve();
    }),
  );
  return {
    stop: async () => {
      proc.stdin?.end();
      await exited;
      // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- the probe script above writes exactly this shape
      return JSON.parse(out) as ProbeResult;
    },
  };
}
