/**
 * Alert latency: from publishing the reading that crosses a threshold to receiving the alert on
 * `oep/<cell>/alerts`, through a real Mosquitto, with devices publishing in real time (pressure 10 Hz,
 * current and voltage 1 Hz) and the default lateness bound (2 s). Each cell's voltage falls by 300 mV
 * for one sample every 5 s during a constant-current charge (a hard-short signature). The daemon runs as
 * in the end-to-end benchmark: `bin/oep.js run` in its own process, with the production-shaped config.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { DEFAULT_LATENESS_MS } from '../src/domain/align.js';
import { freePort, startMosquitto, type VmHandle } from '../test/support/services.js';
import { mergeConfig, productionConfig } from './daemon-config.js';
import { startDaemon } from './daemon-process.js';

export async function alertLatency(vm: VmHandle, cells = 20, duration_s = 40): Promise<string> {
  const broker = await startMosquitto({ extraConfig: ['max_inflight_messages 0'] });
  const dir = mkdtempSync(join(tmpdir(), 'oep-bench-latency-'));
  const base = productionConfig({ brokerUrl: broker.url, influxUrl: vm.url, healthPort: await freePort(), clientId: 'bench-latency' }, dir);
  // Every crossing opens an incident of its own: resolved as soon as the voltage is back (no cycles here).
  const daemon = await startDaemon(mergeConfig(base, { alerts: { clearDwell_s: 1, resolveAfterCycles: 0 }, defaults: { minStepDuration_s: 1 } }), dir);
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const watcher = mqtt.connect(broker.url, { clientId: 'bench-latency-watch', clean: true });
  watcher.on('message', (_topic, payload) => {
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- the daemon's own alert events (src/adapters/alert-publisher.ts)
    const a = JSON.parse(payload.toString()) as { cell: string; kind: string; level: string; t: number };
    if (a.kind !== 'hard_short' || a.level !== 'critical') return;
    const at = sent.get(`${a.cell}/${a.t}`);
    if (at !== undefined) latencies.push(performance.now() - at);
  });
  await new Promise<void>((r) =>
    watcher.once('connect', () => {
      r();
    }),
  );
  await watcher.subscribeAsync('oep/+/alerts', { qos: 1 });
  const pub = await mqtt.connectAsync(broker.url, { clientId: 'bench-latency-pub', clean: true });
  const start = Date.now();
  const end = start + duration_s * 1000;
  let tick = 0;
  while (Date.now() < end) {
    // Devices sample on their own clock grid (10 Hz, 1 Hz) and publish right away.
    const ts = start + tick * 100;
    const sends: Promise<unknown>[] = [];
    for (let c = 0; c < cells; c++) {
      const cell = `lat${c}`;
      sends.push(pub.publishAsync(`oep/${cell}/pressure`, JSON.stringify({ ts, value: 15 + tick * 1e-5 }), { qos: 1 }));
      if (tick % 10 === c % 10) {
        const second = Math.floor(tick / 10);
        const drop = second % 5 === 2 && second > 70 / 10;
        sends.push(pub.publishAsync(`oep/${cell}/current`, JSON.stringify({ ts, value: 1.0 }), { qos: 1 }));
        if (drop) sent.set(`${cell}/${ts}`, performance.now());
        sends.push(pub.publishAsync(`oep/${cell}/voltage`, JSON.stringify({ ts, value: drop ? 3.7 : 4.0 }), { qos: 1 }));
      }
    }
    await Promise.all(sends);
    tick++;
    const next = start + tick * 100;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  await new Promise((r) => setTimeout(r, DEFAULT_LATENESS_MS + 2_000));
  await pub.endAsync();
  await watcher.endAsync();
  const exit = await daemon.stop();
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
  if (exit.code !== 0) throw new Error(`oep run exited ${String(exit.code ?? exit.signal)}: ${daemon.stderrTail()}`);
  const s = [...latencies].sort((a, b) => a - b);
  const q = (f: number): number => Math.round(s[Math.min(s.length - 1, Math.floor(f * s.length))] ?? NaN);
  return [
    `Alert latency, publishing the crossing reading → the alert on oep/<cell>/alerts: ${cells} cells publishing`,
    `in real time, lateness bound ${DEFAULT_LATENESS_MS} ms (target ≤ ${DEFAULT_LATENESS_MS + 1000} ms): ${s.length} of ${sent.size} crossings alerted;`,
    `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${Math.round(s[s.length - 1] ?? NaN)} ms`,
  ].join('\n');
}
