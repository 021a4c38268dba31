/**
 * A command run to completion in a child process, timed from spawn to exit, with the peak RSS of the
 * process doing the work (for `bin/oep.js`: the launcher's child, the CLI), polled from /proc.
 */
import { spawn } from 'node:child_process';
import { childrenOf, monotonic_ms, peakRss_MB } from './proc.js';

export interface ChildRun {
  readonly wall_s: number;
  readonly code: number | null;
  /** Peak RSS (VmHWM) of the deepest process seen (the launcher's child if it has one), MB; read every 20 ms, so a lower bound. */
  readonly peakRss_MB: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runChild(args: readonly string[]): Promise<ChildRun> {
  const t0 = monotonic_ms();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (c: string) => (stdout = (stdout + c).slice(-8192)));
  child.stderr.on('data', (c: string) => (stderr = (stderr + c).slice(-8192)));
  const pid = child.pid ?? 0;
  let peak = 0;
  const poll = setInterval(() => {
    const worker = childrenOf(pid)[0] ?? pid;
    peak = Math.max(peak, peakRss_MB(worker) ?? 0);
  }, 20);
  const code = await new Promise<number | null>((resolve) =>
    child.once('exit', (c) => {
      resolve(c);
    }),
  );
  const wall_s = (monotonic_ms() - t0) / 1000;
  clearInterval(poll);
  return { wall_s, code, peakRss_MB: peak, stdout, stderr };
}
