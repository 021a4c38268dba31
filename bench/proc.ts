/**
 * What Linux says about another process (/proc): its CPU time, its peak resident memory, its children. The
 * benchmark reads these from outside, so the measured process runs unchanged (no hooks, no extra timers).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_S = ((): number => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time the process has used so far, µs (resolution 1/USER_HZ: 10 ms); undefined once it is gone. */
export function cpuTime_us(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / TICKS_PER_S;
}

/**
 * User + system CPU time of this process's children that have ended and been waited for (cutime + cstime
 * of /proc/self/stat), µs: the difference around one child's run is that child's CPU, its own children's included.
 */
export function childrenCpuTime_us(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1e6) / TICKS_PER_S;
}

/** A `Vm…:` line of /proc/<pid>/status, MB; undefined once the process is gone. */
function statusMb(pid: number, key: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** Peak resident set size so far (VmHWM), MB. */
export const peakRss_MB = (pid: number): number | undefined => statusMb(pid, 'VmHWM');

/** The process's direct children (its main thread's), by pid. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Waits for the process's first child to appear (the launcher's CLI process), up to `timeout_ms`. */
export async function firstChild(pid: number, timeout_ms = 10_000): Promise<number | undefined> {
  const end = Date.now() + timeout_ms;
  while (Date.now() < end) {
    const c = childrenOf(pid)[0];
    if (c !== undefined) return c;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

/** The monotonic clock shared by every process of the machine (CLOCK_MONOTONIC), ms. */
export const monotonic_ms = (): number => Number(process.hrtime.bigint()) / 1e6;

/** The child of `parentPid` whose command line holds `arg` (e.g. a service's config file). */
export function childWithArg(parentPid: number, arg: string): number | undefined {
  return childrenOf(parentPid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(arg);
    } catch {
      return false;
    }
  });
}
