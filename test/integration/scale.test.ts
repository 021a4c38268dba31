/**
 * A lab's worth of cells in one daemon, as users run it: `bin/oep.js run` (the launcher, with its default
 * heap cap) in its own process, a real Mosquitto, QoS 1 and a persistent session, files and state on.
 * 2,000 square-wave cells, one cycle each, with closed-form truth: every cycle must come out right, and the
 * daemon must stay within its heap cap and under a stated RSS bound (300 MB). Not timed.
 *
 * The daemon runs from dist/ (built by `npm test` before vitest runs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { num, readCsv } from '../support/csv.js';
import { startMosquitto, type MosquittoHandle } from '../support/services.js';
import { MASS_G, until } from '../support/square-cells.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CELLS = 2_000;
const STEP_S = 30; // one current and one pressure sample every 30 s per cell
const BATCH = 16; // readings per message (8 min of one channel)
const K = 1.2; // MPa per mAh stored
const T0 = Math.floor((Date.now() - 10 * 86_400_000) / 1000) * 1000;
/** Charge 1 h, rest 10 min, discharge 1 h, rest 10 min, then 20 min of the next charge (closes the cycle). */
const PROFILE: [sign: number, seconds: number][] = [
  [1, 3600],
  [0, 600],
  [-1, 3600],
  [0, 600],
  [1, 1200],
];
const currentOf = (c: number): number => 0.5 + (c % 7) * 0.05;
const cellId = (c: number): string => `cell-${String(c).padStart(4, '0')}`;

/**
 * One cell's messages: current and pressure every STEP_S, each channel in batches of BATCH readings. Each
 * segment's last instant (1 ms before the switch) is logged too, as a cycler logs the row before a step
 * change, so the integral of the published current is I × 1 h to 3 ppm and the boundary pressures are exact.
 */
function cellMessages(c: number): { topic: string; payload: string; t: number }[] {
  const id = cellId(c);
  const cur: { ts: number; value: number }[] = [];
  const pre: { ts: number; value: number }[] = [];
  let t = 0;
  let stored = 0;
  const I = currentOf(c);
  for (const [sign, dur] of PROFILE) {
    for (let s = 0; s <= dur; s += STEP_S) {
      const at = s === dur ? s - 0.001 : s;
      cur.push({ ts: T0 + Math.round((t + at) * 1000), value: sign * I });
      pre.push({ ts: T0 + Math.round((t + at) * 1000), value: 15 + K * (stored + (sign * I * at) / 3600) });
    }
    stored += (sign * I * dur) / 3600;
    t += dur;
  }
  const out: { topic: string; payload: string; t: number }[] = [];
  for (const [channel, rs] of [
    ['current', cur],
    ['pressure', pre],
  ] as const) {
    for (let j = 0; j < rs.length; j += BATCH) {
      const batch = rs.slice(j, j + BATCH);
      out.push({ topic: `oep/${id}/${channel}`, payload: JSON.stringify(batch), t: batch[0]?.ts ?? 0 });
    }
  }
  return out;
}

/** Peak resident set of a process, MB (VmHWM). */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The launcher re-spawns the CLI with a heap cap: the daemon is its only child. */
async function daemonPid(launcher: ChildProcess): Promise<number> {
  return until(
    () => {
      const kids = readFileSync(`/proc/${String(launcher.pid)}/task/${String(launcher.pid)}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean);
      return Promise.resolve(kids.length > 0 ? Number(kids[0]) : undefined);
    },
    10_000,
    'the daemon process',
  );
}

describe('2,000 cells in one daemon (default heap)', () => {
  let broker: MosquittoHandle | undefined;
  let daemon: ChildProcess | undefined;
  afterAll(async () => {
    daemon?.kill('SIGKILL');
    await broker?.stop();
  });

  it('computes every cycle right and stays within the memory budget', { timeout: 600_000 }, async () => {
    expect(existsSync(join(ROOT, 'dist/src/cli.js')), 'dist/ is built by npm test before vitest').toBe(true);
    broker = await startMosquitto();
    const dir = mkdtempSync(join(tmpdir(), 'oep-scale-'));
    const config = join(dir, 'oep.json');
    writeFileSync(
      config,
      JSON.stringify({
        mqtt: { url: broker.url, clientId: 'oep-scale' },
        output: { dir: join(dir, 'out') },
        state: { dir: join(dir, 'state'), interval_s: 30 },
        alignment: { lateness_ms: 600_000, idleTimeout_ms: 5_000 },
        defaults: { activeMassG: MASS_G, formationCycles: 0 },
        // A lab's cells are named in its config (unknown ids are capped at the edge).
        cells: Array.from({ length: CELLS }, (_, c) => ({ id: cellId(c) })),
      }),
    );
    const env: NodeJS.ProcessEnv = { ...process.env, OEP_LOG_LEVEL: 'info' };
    delete env.OEP_MAX_HEAP_MB;
    delete env.NODE_OPTIONS;
    const proc = spawn(process.execPath, [join(ROOT, 'bin/oep.js'), 'run', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    daemon = proc;
    let stderr = '';
    let listening = false;
    proc.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('oep: listening on')) listening = true;
    });
    proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<number | null>((r) =>
      proc.on('exit', (code) => {
        r(code);
      }),
    );
    const pid = await daemonPid(proc);
    // The persistent session exists once the daemon has subscribed: wait for it before publishing.
    await until(() => Promise.resolve(listening || stderr.includes('oep: listening on') ? true : undefined), 30_000, 'the daemon to listen');
    const msgs: { topic: string; payload: string; t: number }[] = [];
    for (let c = 0; c < CELLS; c++) for (const m of cellMessages(c)) msgs.push(m);
    msgs.sort((a, b) => a.t - b.t);
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'scale-pub', clean: true });
    for (let j = 0; j < msgs.length; j += 1000) {
      await Promise.all(msgs.slice(j, j + 1000).map((m) => pub.publishAsync(m.topic, m.payload, { qos: 1 })));
    }
    await pub.endAsync();

    const cyclesCsv = join(dir, 'out/cycles.csv');
    await until(
      () => Promise.resolve(existsSync(cyclesCsv) && readCsv(cyclesCsv).rows.length >= CELLS ? true : undefined),
      300_000,
      `${String(CELLS)} cycles in cycles.csv (daemon stderr: ${stderr})`,
    );
    const peak = peakRssMb(pid);
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);

    const rows = readCsv(cyclesCsv).rows;
    expect(rows).toHaveLength(CELLS);
    const seen = new Set<string>();
    for (const r of rows) {
      const cell = String(r.cell);
      seen.add(cell);
      const I = currentOf(Number(cell.slice(5)));
      expect(num(r, 'cycle')).toBe(1);
      expect(num(r, 'q_charge_mAh') / I).toBeCloseTo(1, 6);
      expect(num(r, 'q_discharge_mAh') / I).toBeCloseTo(1, 6);
      expect(num(r, 'ddp_MPa') / (K * I)).toBeCloseTo(1, 6);
      expect(num(r, 'ce')).toBeCloseTo(1, 6);
    }
    expect(seen.size).toBe(CELLS);
    // Measured 196-202 MB on this 2-core machine at load 5-6 (241-242 MB before the pressure track was trimmed,
    // mqtt-packet's number cache dropped and the semi-spaces halved; 239-325 MB earlier). Before the aligner
    // compacted promptly, the daemon ran out of heap at 250 cells. Issue 13's target (120 MB + 20 KB per cell
    // = 159 MB here) is not met yet: the duplicate-detection rings are most of the rest (README, Benchmark).
    console.log(`2,000 cells: daemon peak RSS ${peak.toFixed(0)} MB`);
    expect(peak).toBeLessThan(300);
  });
});
