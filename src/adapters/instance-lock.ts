/**
 * One daemon per state folder (and so per MQTT client id): two daemons with the same client id kick each
 * other off the broker once a second and both write the same state. The first to start creates
 * `oep.lock` in the state folder (exclusively, mode 0600) with its pid; a second one finds it, sees
 * that the pid is alive, and fails with a clear error. A lock left by a killed daemon (its pid is gone)
 * is taken over.
 */
import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = 'oep.lock';

interface LockContent {
  readonly pid: number;
  readonly host: string;
  readonly clientId: string;
  readonly since: string;
}

export class InstanceLockError extends Error {
  override readonly name = 'InstanceLockError';
}

/** Whether process `pid` exists on this host (EPERM: it does, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e instanceof Error && 'code' in e && e.code === 'EPERM';
  }
}

function readLock(path: string): LockContent | undefined {
  try {
    const o: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof o !== 'object' || o === null) return undefined;
    const pid = 'pid' in o && typeof o.pid === 'number' ? o.pid : NaN;
    const host = 'host' in o && typeof o.host === 'string' ? o.host : '';
    const clientId = 'clientId' in o && typeof o.clientId === 'string' ? o.clientId : '?';
    const since = 'since' in o && typeof o.since === 'string' ? o.since : '?';
    return Number.isInteger(pid) ? { pid, host, clientId, since } : undefined;
  } catch {
    return undefined;
  }
}

export class InstanceLock {
  private released = false;
  private constructor(readonly path: string) {}

  /**
   * Takes the lock of `dir` for this process, or throws {@link InstanceLockError} naming the daemon
   * that holds it. A lock whose pid is no longer alive on this host (or that cannot be read) is stale
   * and taken over.
   */
  static acquire(dir: string, clientId: string, dirMode = 0o700): InstanceLock {
    mkdirSync(dir, { recursive: true, mode: dirMode });
    const path = join(dir, LOCK_FILE);
    const content: LockContent = { pid: process.pid, host: hostname(), clientId, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, JSON.stringify(content) + '\n');
        closeSync(fd);
        return new InstanceLock(path);
      } catch (e) {
        if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
      }
      const held = readLock(path);
      if (held !== undefined && held.pid !== process.pid && (held.host !== content.host || alive(held.pid))) {
        throw new InstanceLockError(
          `another oep daemon (pid ${held.pid} on ${held.host}, client id ${held.clientId}, since ${held.since}) holds ${path}: ` +
            'stop it first (two daemons with one client id take the broker session from each other)',
        );
      }
      unlinkSync(path); // stale: its daemon is gone
    }
    throw new InstanceLockError(`could not take ${path}: another process keeps creating it`);
  }

  /** Gives the lock up (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      if (readLock(this.path)?.pid === process.pid) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}
