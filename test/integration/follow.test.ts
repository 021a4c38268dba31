/**
 * `oep follow` as a real process against a real Mosquitto, with a subscriber counting rows: an EC-Lab
 * export being appended to (with a partial last line), the bridge killed (SIGKILL) and restarted mid-file,
 * stopped gracefully (SIGTERM), and the file truncated and replaced. Every row is published; none twice,
 * except after a SIGKILL in the middle of a round, where at most that round goes out again.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/square-cells.js';
import { startMosquitto, type MosquittoHandle } from '../support/services.js';
import { spawnTs } from '../support/ts-child.js';

const ROUND = 40;
const T0 = Date.UTC(2024, 0, 15, 10, 0, 0);
const T1 = Date.UTC(2024, 1, 1, 8, 0, 0); // a second experiment, after the first

const header = (acq: string): string =>
  [
    'EC-Lab ASCII FILE',
    'Nb header lines : 5',
    'Galvanostatic Cycling with Potential Limitation',
    `Acquisition started on : ${acq}`,
    'mode\ttime/s\t<I>/mA\tEwe/V\thalf cycle',
  ].join('\r\n') + '\r\n';
/** Row k: 10 s apart, 0.5 mA alternating every 100 rows. */
const row = (k: number): string =>
  `1\t${(k * 10).toFixed(4)}\t${Math.floor(k / 100) % 2 === 0 ? '5.000000000000000E-001' : '-5.000000000000000E-001'}\t${(3.7 + (k % 100) / 1000).toFixed(7)}\t${Math.floor(k / 100)}\r\n`;
const rows = (from: number, to: number): string => Array.from({ length: to - from }, (_, i) => row(from + i)).join('');

describe('oep follow (a bridge process) with a real Mosquitto', () => {
  let broker: MosquittoHandle;
  let sub: MqttClient;
  const dir = mkdtempSync(join(tmpdir(), 'oep-follow-'));
  const file = join(dir, 'run.mpt');
  const state = join(dir, 'run.state.json');
  /** ts → how many times a current reading with that ts arrived, and its payloads. */
  const seen = new Map<number, string[]>();
  let steps = 0;
  let child: ChildProcess | undefined;
  let childLog = '';

  const total = (): number => {
    let n = 0;
    for (const v of seen.values()) n += v.length;
    return n;
  };
  const start = (): ChildProcess => {
    const c = spawnTs('test/support/run-command.ts', [
      'follow',
      file,
      '--url',
      broker.url,
      '--cell',
      'f1',
      '--state',
      state,
      '--poll',
      '50',
      '--round',
      String(ROUND),
    ]);
    c.stderr?.on('data', (d: Buffer) => (childLog += d.toString()));
    c.stdout?.on('data', (d: Buffer) => (childLog += d.toString()));
    child = c;
    return c;
  };
  const exited = (c: ChildProcess): Promise<number | null> =>
    new Promise((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) resolve(c.exitCode);
      else
        c.once('exit', (code) => {
          resolve(code);
        });
    });
  // 60 s: the follower is a TypeScript child transpiled on start; beside the heavier integration files on a
  // loaded 2-core machine, it gave no output for 20 s (it starts in a few seconds alone)
  const waitFor = (n: number, what: string): Promise<true> =>
    until(() => Promise.resolve(total() >= n ? true : undefined), 60_000, `${what} (have ${total()} of ${n}); follower log:\n${childLog}`);
  const quiet = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const tsOf = (k: number, t0 = T0): number => t0 + k * 10_000;

  beforeAll(async () => {
    broker = await startMosquitto();
    sub = await mqtt.connectAsync(broker.url, { clientId: 'follow-counter', clean: true });
    await sub.subscribeAsync('oep/f1/+', { qos: 1 });
    sub.on('message', (topic, payload) => {
      const arr = JSON.parse(payload.toString()) as { ts: number; value: number }[];
      if (topic.endsWith('/step')) steps += arr.length;
      if (!topic.endsWith('/current')) return;
      for (const r of arr) seen.set(r.ts, [...(seen.get(r.ts) ?? []), JSON.stringify(r)]);
    });
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await sub?.endAsync();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends, a partial last line, SIGKILL and restart, SIGTERM: every row exactly once', async () => {
    writeFileSync(file, header('01/15/2024 10:00:00.000') + rows(0, 100));
    start();
    await waitFor(100, 'the first 100 rows');

    // 50 more rows and half a line: the half line waits for its newline.
    appendFileSync(file, rows(100, 150) + row(150).slice(0, 9));
    await waitFor(150, '150 rows');
    await quiet(400);
    expect(total()).toBe(150);
    appendFileSync(file, row(150).slice(9) + rows(151, 200));
    await waitFor(200, '200 rows');

    // Killed while idle, rows appended while it is down: the saved offset picks up exactly there.
    child!.kill('SIGKILL');
    await exited(child!);
    appendFileSync(file, rows(200, 300));
    start();
    await waitFor(300, '300 rows after the restart');
    await quiet(300);
    expect(total()).toBe(300);
    for (let k = 0; k < 300; k++) expect(seen.get(tsOf(k)), `row ${k}`).toHaveLength(1);

    // Killed in the middle of publishing a burst: nothing skipped, at most the round in flight again.
    appendFileSync(file, rows(300, 1300));
    await waitFor(300 + 2 * ROUND + 5, 'the burst to start');
    child!.kill('SIGKILL');
    await exited(child!);
    start();
    await until(() => Promise.resolve(seen.size >= 1300 ? true : undefined), 30_000, `all 1300 rows; log:\n${childLog}`);
    await quiet(300);
    for (let k = 0; k < 1300; k++) expect(seen.has(tsOf(k)), `row ${k}`).toBe(true);
    const dups = [...seen.values()].filter((v) => v.length > 1);
    expect(dups.length).toBeLessThanOrEqual(ROUND);
    for (const d of dups) expect(new Set(d).size).toBe(1); // a repeat is the identical reading

    // SIGTERM: the round in flight is finished and the position saved; a restart publishes only new rows.
    const before = total();
    child!.kill('SIGTERM');
    expect(await exited(child!)).toBe(0);
    const saved = JSON.parse(readFileSync(state, 'utf8')) as { offset: number; line: number };
    expect(saved.offset).toBe(readFileSync(file).length);
    expect(saved.line).toBe(5 + 1300);
    appendFileSync(file, rows(1300, 1310));
    start();
    await waitFor(before + 10, 'the 10 rows after SIGTERM');
    await quiet(300);
    expect(total()).toBe(before + 10);
    // The step index: one `step` reading per half cycle change, plus the first.
    expect(steps).toBeGreaterThanOrEqual(14);
  }, 240_000);

  it('truncated in place and rewritten with a new experiment: the new rows go out; replaced by rename with the old rows and more: only the new rows', async () => {
    expect(child?.exitCode).toBeNull();
    const before = total();
    // A new run in the same file (EC-Lab restarted): truncation, a new header, a later clock.
    truncateSync(file, 0);
    writeFileSync(file, header('02/01/2024 08:00:00.000') + rows(0, 60));
    await waitFor(before + 60, 'the new experiment');
    for (let k = 0; k < 60; k++) expect(seen.get(tsOf(k, T1)), `new row ${k}`).toHaveLength(1);

    // The same export saved again with 20 more rows, written beside it and renamed over it (a new inode).
    const tmp = join(dir, 'run.mpt.tmp');
    writeFileSync(tmp, header('02/01/2024 08:00:00.000') + rows(0, 80));
    renameSync(tmp, file);
    await waitFor(before + 80, 'the 20 rows after the replacement');
    await quiet(400);
    expect(total()).toBe(before + 80);
    for (let k = 0; k < 80; k++) expect(seen.get(tsOf(k, T1)), `row ${k} of the replaced file`).toHaveLength(1);
    expect(childLog).toMatch(/truncated/);
    expect(childLog).toMatch(/replaced/);
    child!.kill('SIGTERM');
    expect(await exited(child!)).toBe(0);
    expect(existsSync(state)).toBe(true);
  }, 240_000);
});
