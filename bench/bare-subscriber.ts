/**
 * The baseline: a plain MQTT.js subscriber in a process of its own, connected as the daemon connects (fixed
 * client id, persistent session, QoS 1, the same four input topics), that parses each payload's JSON and
 * counts the readings; nothing else. Reports over IPC: { type: 'ready' } once subscribed, { type: 'end',
 * readings, loopMax_ms, loopP99_ms } when the end marker arrives, { type: 'mid', readings } at the half-way
 * marker. Its event loop's delay since the half-way marker is measured as the daemon's is (prom-client's
 * way: monitorEventLoopDelay at 10 ms resolution): on a loaded 2-core machine, the part of the daemon's
 * that is the machine's.
 *
 * Usage: node bare-subscriber.js <broker url> <client id>
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { END_MARKER_TOPIC, MID_MARKER_TOPIC } from './shape.js';

const [url, clientId] = process.argv.slice(2);
if (url === undefined || clientId === undefined) throw new Error('usage: bare-subscriber.js <broker url> <client id>');
const client = await mqtt.connectAsync(url, { clientId, clean: false, reconnectPeriod: 1_000 });
let readings = 0;
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
client.on('message', (topic, payload) => {
  if (topic === END_MARKER_TOPIC) {
    process.send?.({ type: 'end', readings, loopMax_ms: loop.max / 1e6, loopP99_ms: loop.percentile(99) / 1e6 });
    return;
  }
  if (topic === MID_MARKER_TOPIC) {
    loop.reset();
    process.send?.({ type: 'mid', readings });
    return;
  }
  const batch: unknown = JSON.parse(payload.toString());
  readings += Array.isArray(batch) ? batch.length : 1;
});
const topics = Object.fromEntries(['pressure', 'current', 'voltage', 'step'].map((c) => [`oep/+/${c}`, { qos: 1 as const }]));
await client.subscribeAsync(topics);
process.send?.({ type: 'ready' });
process.on('disconnect', () => {
  void client.endAsync().then(() => process.exit(0));
});
