/**
 * Benchmark publisher (a child process, so it does not share the event loop it measures): publishes
 * `messages` payloads of `batch` readings each, for `cells` cells, QoS 1, as fast as the broker takes.
 * Usage: node publisher.js <url> <messages> <batch> <cells>
 */
import mqtt from 'mqtt';

const [url, messagesArg, batchArg, cellsArg] = process.argv.slice(2);
const messages = Number(messagesArg);
const batch = Number(batchArg);
const cells = Number(cellsArg);
const T0 = Date.UTC(2026, 0, 1);

if (url === undefined) throw new Error('usage: publisher.js <broker url> <messages> <batch> <cells>');
const client = await mqtt.connectAsync(url, { clientId: `bench-pub-${process.pid}`, clean: true });
const WINDOW = 2_000;
let inflight: Promise<unknown>[] = [];
for (let m = 0; m < messages; m++) {
  const cell = m % cells;
  const k = Math.floor(m / cells);
  const channel = k % 2 === 0 ? 'pressure' : 'current';
  // 1 s between readings; current is a 1 h / 1 h square wave so that steps and cycles are cut.
  const base = T0 + Math.floor(k / 2) * batch * 1000;
  const arr: { ts: number; value: number }[] = [];
  for (let j = 0; j < batch; j++) {
    const ts = base + j * 1000;
    const charging = Math.floor((ts - T0) / 3_600_000) % 2 === 0;
    const phase = ((ts - T0) % 3_600_000) / 3_600_000;
    const value = channel === 'pressure' ? 15 + (charging ? phase : 1 - phase) * 2 : charging ? 0.65 : -0.65;
    arr.push({ ts, value });
  }
  inflight.push(client.publishAsync(`oep/b${cell}/${channel}`, JSON.stringify(arr), { qos: 1 }));
  if (inflight.length >= WINDOW) {
    await Promise.all(inflight);
    inflight = [];
  }
}
await Promise.all(inflight);
await client.endAsync();
