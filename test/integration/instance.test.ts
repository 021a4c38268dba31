/**
 * One daemon per client id, and none left orphaned: the real launcher (bin/oep.js, which runs the CLI in
 * a child with a bounded heap) against a real Mosquitto. A second daemon on the same state folder exits
 * with a clear error; a lock left by a killed daemon is taken over; kill -9 of the launcher takes the
 * child down with it (IPC channel), and the child stops in order (it releases its lock).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../../src/adapters/instance-lock.js';
import { startMosquitto, type MosquittoHandle } from '../support/services.js';
import { until } from '../support/square-cells.js';
import { alive, launchDaemon as launch, listening, lockPid, type DaemonProcess } from '../support/daemon-process.js';

describe('one instance, no orphans', () => {
  let broker: MosquittoHandle;
  const runs: DaemonProcess[] = [];
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    for (const r of runs) if (r.proc.exitCode === null && r.proc.pid !== undefined) r.proc.kill('SIGKILL');
    await broker.stop();
  });

  function configIn(dir: string): string {
    const path = join(dir, 'oep.json');
    writeFileSync(
      path,
      JSON.stringify({
        mqtt: { url: broker.url, clientId: `oep-it-instance-${dir.slice(-6)}` },
        state: { dir: join(dir, 'state') },
        output: { dir: join(dir, 'out') },
      }),
    );
    return path;
  }

  it('a second daemon on the same state folder exits with a clear error; the first keeps running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-inst-'));
    const config = configIn(dir);
    const first = launch(config);
    runs.push(first);
    await listening(first);
    const pid = lockPid(join(dir, 'state'));
    expect(pid).toBeDefined();
    expect(statSync(join(dir, 'state', LOCK_FILE)).mode & 0o777).toBe(0o600);

    const second = launch(config);
    runs.push(second);
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/another oep daemon \(pid \d+ .*holds .*oep\.lock/);
    expect(first.proc.exitCode).toBeNull();

    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(existsSync(join(dir, 'state', LOCK_FILE))).toBe(false);
  });

  it('takes over the lock of a daemon that was killed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-inst-'));
    const config = configIn(dir);
    // a pid that existed and is gone
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.on('exit', resolve));
    mkdirSync(join(dir, 'state'), { recursive: true });
    writeFileSync(join(dir, 'state', LOCK_FILE), JSON.stringify({ pid: gone.pid, host: hostname(), clientId: 'x', since: 'then' }));
    const run = launch(config);
    runs.push(run);
    await listening(run);
    expect(lockPid(join(dir, 'state'))).not.toBe(gone.pid);
    run.proc.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('kill -9 of the launcher takes the daemon down, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-inst-'));
    const run = launch(configIn(dir));
    runs.push(run);
    await listening(run);
    const child = lockPid(join(dir, 'state'));
    expect(child).toBeDefined();
    expect(child).not.toBe(run.proc.pid); // the daemon is the launcher's child
    run.proc.kill('SIGKILL');
    await run.exited;
    await until(() => Promise.resolve(alive(child!) ? undefined : true), 10_000, 'the orphaned daemon to exit');
    // it stopped in order: it said so, and released the lock
    expect(run.output()).toMatch(/oep: stopped;.*state saved/);
    expect(existsSync(join(dir, 'state', LOCK_FILE))).toBe(false);
  });
});
