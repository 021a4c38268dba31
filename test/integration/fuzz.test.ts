/**
 * Hostile input against the live daemon (the real launcher, bounded heap) through a real Mosquitto:
 * 10,000+ hostile payloads (sizes up to the limit and past it, depths to a million, batch and value
 * counts, every JSON type, broken encodings, bad timestamps and units, ids with control characters) and a
 * flood of 20,000 made-up cell ids, mixed with the readings of one configured, healthy cell. The daemon
 * stays up, its RSS stays under {@link RSS_BOUND_BYTES}, /healthz answers within 1 s throughout, every
 * rejection is counted under its reason, the unknown cells stop at the cap, and the healthy cell's steps
 * and cycles are identical, every field, to a run without the hostile messages.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_UNKNOWN_CELLS } from '../../src/config/schema.js';
import { parseMessage } from '../../src/ingest/payload.js';
import { MOLD_13MM_AREA_MM2 } from '../../src/domain/units.js';
import { launchDaemon, listening, lockPid, startProbe, type DaemonProcess, type ProbeResult } from '../support/daemon-process.js';
import { badIdMessages, heavyMessages, hostileMessages, oversized, rng, strangerMessages, type HostileMessage } from '../support/hostile.js';
import { parsePrometheus, type PromScrape } from '../support/prometheus.js';
import { freePort, startMosquitto, type MosquittoHandle } from '../support/services.js';
import { MASS_G, messagesFor, T0, until, type CellPlan } from '../support/square-cells.js';

/** The bound the daemon's RSS must stay under during the whole run, bytes (measured peak: see the README). */
const RSS_BOUND_BYTES = 300 * 1024 * 1024;
const HEALTHY: CellPlan = { id: 'healthy', current_mA: 0.65, unit: 'MPa', batch: 20, jitter_ms: 10, duplicateEvery: 0, swapEvery: 0 };
const HOSTILE = 10_000;
const STRANGERS = 20_000;

interface Run {
  readonly daemon: DaemonProcess;
  readonly pid: number;
  readonly outDir: string;
  readonly healthUrl: string;
}

interface Mixed {
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly expect?: string;
  readonly count?: number;
}

/** Non-healthy messages shuffled, the healthy cell's messages spread among them in their own order. */
function mix(healthy: readonly { topic: string; payload: string }[], others: readonly HostileMessage[]): Mixed[] {
  const r = rng(7);
  const o: Mixed[] = [...others];
  for (let i = o.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [o[i], o[j]] = [o[j]!, o[i]!];
  }
  const out: Mixed[] = [];
  const every = Math.max(1, Math.floor(o.length / healthy.length));
  let h = 0;
  o.forEach((m, k) => {
    if (k % every === 0 && h < healthy.length) out.push(healthy[h++]!);
    out.push(m);
  });
  while (h < healthy.length) out.push(healthy[h++]!);
  return out;
}

/**
 * The rejections the daemon must count, by reason, for messages delivered in this order: a cell id is
 * checked first, then admission (an unknown cell is refused with cell_limit once the cap is full, before
 * its payload is looked at), then the payload. Only a valid reading creates a cell.
 */
function expectedRejections(all: readonly Mixed[], configured: ReadonlySet<string>, cap: number): Map<string, number> {
  const out = new Map<string, number>();
  const add = (reason: string, n = 1): void => {
    out.set(reason, (out.get(reason) ?? 0) + n);
  };
  const unknown = new Set<string>();
  for (const m of all) {
    if (m.expect === undefined) continue; // the healthy cell's own readings
    const cell = m.topic.split('/')[1] ?? '';
    if (m.expect === 'bad_cell_id' || configured.has(cell) || unknown.has(cell)) {
      if (m.expect !== 'accepted') add(m.expect, m.count);
    } else if (unknown.size >= cap) add('cell_limit');
    else if (m.expect === 'accepted') unknown.add(cell);
    else add(m.expect, m.count);
  }
  return out;
}

/** Publishes in order, QoS 1, in rounds of 500 acknowledged messages (a burst from many devices at once, not a flat-out benchmark). */
async function publish(url: string, msgs: readonly { topic: string; payload: Buffer | string }[]): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `fuzz-pub-${Math.random()}`, clean: true });
  for (let j = 0; j < msgs.length; j += 500) {
    await Promise.all(msgs.slice(j, j + 500).map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })));
    await new Promise((r) => setTimeout(r, 50));
  }
  await client.endAsync();
}

async function scrape(healthUrl: string): Promise<PromScrape> {
  const res = await fetch(`${healthUrl}/metrics`);
  return parsePrometheus(await res.text());
}

const sum = (s: PromScrape, name: string, labels: Record<string, string> = {}): number => s.all(name, labels).reduce((a, x) => a + x.value, 0);

/** The healthy cell's rows of one output CSV (header first). */
function rowsOf(dir: string, file: string): string[] {
  const lines = readFileSync(join(dir, file), 'utf8').split('\n');
  const cell = (lines[0] ?? '').split(',').indexOf('cell');
  return [lines[0] ?? '', ...lines.filter((l) => l.split(',')[cell] === HEALTHY.id)];
}

describe('fuzz: hostile payloads and a flood of strangers against the live daemon', () => {
  let broker: MosquittoHandle;
  const daemons: DaemonProcess[] = [];
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    for (const d of daemons) if (d.proc.exitCode === null) d.proc.kill('SIGKILL');
    await broker.stop();
  });

  async function start(name: string): Promise<Run> {
    const dir = mkdtempSync(join(tmpdir(), `oep-fuzz-${name}-`));
    const port = await freePort();
    const config = join(dir, 'oep.json');
    writeFileSync(
      config,
      JSON.stringify({
        mqtt: { url: broker.url, clientId: `oep-it-fuzz-${name}` },
        state: { dir: join(dir, 'state'), interval_s: 3600 },
        output: { dir: join(dir, 'out') },
        health: { port },
        alignment: { lateness_ms: 60_000, idleTimeout_ms: 30_000 },
        defaults: { activeMassG: MASS_G, formationCycles: 0 },
        cells: [{ id: HEALTHY.id }],
      }),
    );
    const daemon = launchDaemon(config, process.env.OEP_FUZZ_PROFILE !== undefined && name === 'fuzz' ? { OEP_CPU_PROF: process.env.OEP_FUZZ_PROFILE } : {});
    daemons.push(daemon);
    await listening(daemon);
    const pid = lockPid(join(dir, 'state'));
    if (pid === undefined) throw new Error('no lock file');
    return { daemon, pid, outDir: join(dir, 'out'), healthUrl: `http://127.0.0.1:${port}` };
  }

  async function stop(run: Run): Promise<void> {
    run.daemon.proc.kill('SIGTERM');
    expect(await run.daemon.exited).toBe(0);
  }

  it('every generated message gets the reason it was made for (the generator is right)', () => {
    const settings = {
      areaMm2: MOLD_13MM_AREA_MM2,
      currentSign: 1 as const,
      defaultPressureUnit: 'MPa' as const,
      defaultCurrentUnit: 'mA' as const,
      defaultVoltageUnit: 'V' as const,
    };
    for (const m of [...hostileMessages(2_000, ['a', 'b'], T0, 3), ...heavyMessages('a', T0), oversized('a'), ...badIdMessages(20, T0)]) {
      const r = parseMessage(m.topic, m.payload, T0, 'oep', () => settings);
      expect(r.readings).toEqual([]);
      expect(r.rejections.map((x) => x.reason)).toEqual(Array.from({ length: m.count ?? 1 }, () => m.expect));
    }
  });

  it('stays up, bounded, responsive and exact', async () => {
    const healthy = messagesFor(HEALTHY);

    // The reference: the healthy cell alone.
    const clean = await start('clean');
    await publish(broker.url, healthy);
    await until(
      async () => ((await scrape(clean.healthUrl)).value('oep_mqtt_messages_received_total') === healthy.length ? true : undefined),
      30_000,
      'clean run received',
    );
    await stop(clean);

    // The same readings among hostile messages and strangers.
    const hostile = [
      ...hostileMessages(HOSTILE, [HEALTHY.id, 'ghost-1', 'ghost-2'], T0),
      ...heavyMessages(HEALTHY.id, T0),
      oversized(HEALTHY.id),
      oversized('ghost-3'),
      // Mosquitto refuses topics with control characters itself (it drops the publisher): only long ids reach the daemon
      ...badIdMessages(300, T0, ['x'.repeat(129), 'y'.repeat(1000)]),
    ];
    const strangers = strangerMessages(STRANGERS, T0);
    const all = mix(healthy, [...hostile, ...strangers]);
    const run = await start('fuzz');
    const probe = startProbe(`${run.healthUrl}/healthz`, run.pid);
    let seen: ProbeResult;
    let lagMax_s = 0;
    try {
      await publish(broker.url, all);
      await until(
        async () => {
          const x = await scrape(run.healthUrl);
          // prom-client resets the event loop histogram at each scrape: the max over the scrapes covers the whole run
          lagMax_s = Math.max(lagMax_s, x.value('nodejs_eventloop_lag_max_seconds') ?? 0);
          return x.value('oep_mqtt_messages_received_total') === all.length ? true : undefined;
        },
        45_000,
        'fuzz run received',
      );
    } finally {
      seen = await probe.stop();
    }
    const m = await scrape(run.healthUrl);

    // Every rejection counted under its reason: on the healthy cell, or without a cell.
    const expected = expectedRejections(all, new Set([HEALTHY.id]), DEFAULT_MAX_UNKNOWN_CELLS);
    expect(expected.get('cell_limit')).toBeGreaterThanOrEqual(STRANGERS - DEFAULT_MAX_UNKNOWN_CELLS);
    const counted = new Map<string, number>();
    for (const x of [...m.all('oep_readings_rejected_total'), ...m.all('oep_messages_rejected_unattributed_total')])
      counted.set(x.labels.reason ?? '?', (counted.get(x.labels.reason ?? '?') ?? 0) + x.value);
    expect(Object.fromEntries(counted)).toEqual(Object.fromEntries(expected));
    for (const [reason, n] of expected) {
      expect(sum(m, 'oep_readings_rejected_total', { reason }) + sum(m, 'oep_messages_rejected_unattributed_total', { reason }), reason).toBe(n);
    }
    // The strangers stop at the cap; the made-up ids of rejected messages hold no state.
    expect(m.value('oep_cells', { kind: 'unknown' })).toBe(DEFAULT_MAX_UNKNOWN_CELLS);
    expect(m.value('oep_cells', { kind: 'configured' })).toBe(1);
    expect(m.all('oep_readings_accepted_total').map((s) => s.labels.cell)).not.toContain('ghost-1');
    // One log line per reason and window for the flood, not one per id.
    const floodLines = run.daemon
      .output()
      .split('\n')
      .filter((l) => l.includes('cell_limit'));
    expect(floodLines.length).toBeGreaterThan(0);
    expect(floodLines.length).toBeLessThan(10);
    expect(
      Math.max(
        ...run.daemon
          .output()
          .split('\n')
          .map((l) => l.length),
      ),
    ).toBeLessThan(1_000);

    await stop(run);
    process.stderr.write(
      `fuzz: ${all.length} messages (${hostile.length} hostile, ${STRANGERS} strangers); ${seen.probes} probes; peak RSS ${(seen.peakRss_bytes / 2 ** 20).toFixed(0)} MiB; slowest /healthz ${seen.slowest_ms.toFixed(0)} ms, ${seen.slow} over 1 s (control: slowest ${seen.control.slowest_ms.toFixed(0)} ms, ${seen.control.slow} over 1 s); load average ${loadavg()[0]?.toFixed(1)}; daemon event loop lag max ${(Math.max(lagMax_s, m.value('nodejs_eventloop_lag_max_seconds') ?? 0) * 1000).toFixed(0)} ms, CPU ${m.value('process_cpu_seconds_total')?.toFixed(1)} s\n`,
    );
    expect(seen.probes).toBeGreaterThan(5);
    // Every probe answered, within 1 s but when the machine itself stalls: a probe of a bare Node HTTP
    // server right after each one is then slow too (one stall may catch one probe alone)
    expect(seen.failures).toBe(0);
    expect(seen.slow).toBeLessThanOrEqual(seen.control.slow + 1);
    expect(seen.peakRss_bytes).toBeLessThan(RSS_BOUND_BYTES);

    // The healthy cell: identical steps and cycles, every field.
    const cycles = rowsOf(run.outDir, 'cycles.csv');
    expect(cycles.length).toBe(4); // header + 3 cycles
    expect(cycles).toEqual(rowsOf(clean.outDir, 'cycles.csv'));
    expect(rowsOf(run.outDir, 'steps.csv')).toEqual(rowsOf(clean.outDir, 'steps.csv'));
  }, 120_000);
});
