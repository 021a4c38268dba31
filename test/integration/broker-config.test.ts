/**
 * The shipped config/mosquitto.conf against the trap it documents: with Mosquitto's default queue (1000
 * messages), a daemon away while 5,000 messages are published gets 1,000 of them (and counts the hole in
 * the cell's current once the next reading comes); with the shipped queue settings it gets a backlog of
 * 50,000, every one, and counts no gap.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { Daemon } from '../../pipelines/daemon.js';
import { createLogger } from '../../src/adapters/log.js';
import { parseConfig } from '../../src/config/schema.js';
import { startMosquitto } from '../support/services.js';
import { T0, until } from '../support/square-cells.js';

const SHIPPED = fileURLToPath(new URL('../../config/mosquitto.conf', import.meta.url));
/** The shipped settings a test broker takes over (its listener and persistence folder stay the test's own). */
const TAKEN = new Set([
  'max_queued_messages',
  'max_queued_bytes',
  'queue_qos0_messages',
  'max_packet_size',
  'autosave_interval',
  'autosave_on_changes',
  'persistence',
]);

function shippedSettings(): string[] {
  return readFileSync(SHIPPED, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && TAKEN.has(l.split(/\s+/)[0] ?? ''));
}

/** Publishes n single readings of one cell, 1 s apart from reading `from` on (one per message, QoS 1). */
async function backlog(url: string, n: number, from = 0): Promise<void> {
  const c = await mqtt.connectAsync(url, { clientId: `pub-${Math.random()}`, clean: true });
  for (let j = 0; j < n; j += 1_000) {
    await Promise.all(
      Array.from({ length: Math.min(1_000, n - j) }, (_, k) =>
        c.publishAsync('oep/b1/current', JSON.stringify({ ts: T0 + (from + j + k) * 1000, value: 0.5 }), { qos: 1 }),
      ),
    );
  }
  await c.endAsync();
}

/**
 * Messages a daemon away while `n` single readings are published gets once it is back, and the gaps it then
 * counts in the cell's current once one more reading, the next after the backlog, arrives.
 */
async function receivedAfterAbsence(extraConfig: readonly string[], n: number, expected: number): Promise<{ received: number; gaps: number; missing: number }> {
  const broker = await startMosquitto({ extraConfig });
  try {
    const config = parseConfig({
      mqtt: { url: broker.url, clientId: 'oep-it-backlog' },
      state: { dir: mkdtempSync(join(tmpdir(), 'oep-backlog-')) },
      alignment: { idleTimeout_ms: 1_000 },
    });
    const first = new Daemon({ config, log: createLogger('silent') });
    await first.start();
    await first.stop();
    await backlog(broker.url, n);
    const second = new Daemon({ config, log: createLogger('silent') });
    await second.start();
    try {
      await until(() => Promise.resolve(second.mqtt.received >= expected ? true : undefined), 60_000, `${expected} messages`);
      await new Promise((r) => setTimeout(r, 1_000)); // nothing more is coming
      const received = second.mqtt.received;
      await backlog(broker.url, 1, n);
      const cell = second.lab.cells.get('b1');
      await until(
        () => Promise.resolve(cell?.counters.accepted === expected + 1 && cell.aligner.buffered === 0 ? true : undefined),
        20_000,
        'the next reading',
      );
      const g = cell === undefined ? undefined : second.lab.gapsOf(cell);
      return { received, gaps: g?.counts.current ?? 0, missing: g?.missing.current ?? 0 };
    } finally {
      await second.stop();
    }
  } finally {
    await broker.stop();
  }
}

describe('the shipped broker config', () => {
  it('parses, and sets persistence and a queue of millions', () => {
    const s = shippedSettings();
    expect(s).toContain('persistence true');
    expect(Number(s.find((l) => l.startsWith('max_queued_messages'))?.split(/\s+/)[1])).toBeGreaterThanOrEqual(1_000_000);
  });

  it("Mosquitto's default queue drops all but 1,000 of what a daemon away misses (the trap), and the daemon counts the gap", async () => {
    expect(await receivedAfterAbsence(['max_queued_messages 1000'], 5_000, 1_000)).toEqual({ received: 1_000, gaps: 1, missing: 4_000 });
  });

  it('with the shipped settings a backlog of 50,000 messages arrives whole', async () => {
    expect(await receivedAfterAbsence(shippedSettings(), 50_000, 50_000)).toEqual({ received: 50_000, gaps: 0, missing: 0 });
  }, 120_000);
});
