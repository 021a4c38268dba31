/**
 * The daemon as users run it: `node bin/oep.js run --config <file>` in a process of its own, through the
 * launcher (which starts the CLI in a child process with its heap cap). The config is the bench's
 * production-shaped one (daemon-config.ts), written to a file. The bench watches the daemon's log on stderr
 * and reads the CLI process's CPU time and memory from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstChild, monotonic_ms } from './proc.js';

/** bin/oep.js, from dist/bench/ (the bench runs compiled). */
export const LAUNCHER = fileURLToPath(new URL('../../bin/oep.js', import.meta.url));

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface DaemonProcess {
  /** The CLI process: the launcher's child (or the launcher itself when it runs the CLI in-process). */
  readonly pid: number;
  readonly launcherPid: number;
  /** Resolves with the exit of the launcher (which exits with its child's code). */
  readonly exited: Promise<Exit>;
  /** Resolves with the time (monotonic, ms) a stderr line matching `re` arrived, or undefined if the daemon exits first. */
  line(re: RegExp): Promise<number | undefined>;
  /** The last 4 KB of stderr. */
  stderrTail(): string;
  /** SIGTERM to the launcher (forwarded to the CLI: the orderly shutdown), SIGKILL after `grace_ms`. */
  stop(grace_ms?: number): Promise<Exit>;
}

/** A child process's stderr as lines, each stamped with its arrival time. */
function watchLines(child: ChildProcess, exited: Promise<Exit>): { line: DaemonProcess['line']; tail: () => string } {
  let tail = '';
  let partial = '';
  const waiters: { re: RegExp; resolve: (t: number | undefined) => void }[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    const t = monotonic_ms();
    tail = (tail + chunk).slice(-4096);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines)
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i];
        if (!w?.re.test(l)) continue;
        waiters.splice(i, 1);
        w.resolve(t);
      }
  });
  void exited.then(() => {
    for (const w of waiters.splice(0)) w.resolve(undefined);
  });
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    line: (re) =>
      gone
        ? Promise.resolve(undefined)
        : new Promise((resolve) => {
            waiters.push({ re, resolve });
          }),
    tail: () => tail,
  };
}

/**
 * Starts `oep run` with `config` (written to `dir`/oep.json) and resolves once it is subscribed. The log level
 * is `info` (the default) whatever OEP_LOG_LEVEL says: the bench reads the start-up and rejection lines.
 */
export async function startDaemon(config: unknown, dir: string): Promise<DaemonProcess> {
  const env = { ...process.env, OEP_LOG_LEVEL: 'info' };
  // OEP_BENCH_NODE_ARGS: Node flags for the daemon (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof --max-old-space-size=128`;
  // with a heap size of its own the launcher runs the CLI in its process, so the flags reach it).
  const nodeArgs = (process.env.OEP_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const file = join(dir, 'oep.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  // OEP_BENCH_DAEMON_STDOUT: a file the daemon's stdout is appended to (what `--trace-gc` in OEP_BENCH_NODE_ARGS prints).
  const stdoutFile = process.env.OEP_BENCH_DAEMON_STDOUT;
  const stdout = stdoutFile !== undefined && stdoutFile !== '' ? openSync(stdoutFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [...nodeArgs, LAUNCHER, 'run', '--config', file], { stdio: ['ignore', stdout, 'pipe'], env });
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    }),
  );
  const { line, tail } = watchLines(child, exited);
  const launcherPid = child.pid ?? 0;
  const listening = await Promise.race([
    line(/oep: listening on/),
    new Promise<undefined>((r) =>
      setTimeout(() => {
        r(undefined);
      }, 60_000).unref(),
    ),
  ]);
  if (listening === undefined) {
    child.kill('SIGKILL');
    throw new Error(`oep run did not start: ${tail()}`);
  }
  const pid = (await firstChild(launcherPid, 1_000)) ?? launcherPid;
  const stop = async (grace_ms = 120_000): Promise<Exit> => {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), grace_ms);
    const e = await exited;
    clearTimeout(timer);
    return e;
  };
  return { pid, launcherPid, exited, line, stderrTail: tail, stop };
}

/** One value of the daemon's /metrics, summed over its series (e.g. over cells). */
export async function scrapeSum(healthUrl: string, names: readonly string[]): Promise<Record<string, number>> {
  const text = await (await fetch(`${healthUrl}/metrics`, { signal: AbortSignal.timeout(60_000) })).text();
  const sums: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const l of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)$/.exec(l);
    if (m?.[1] !== undefined && m[1] in sums) sums[m[1]] = (sums[m[1]] ?? 0) + Number(m[2]);
  }
  return sums;
}
