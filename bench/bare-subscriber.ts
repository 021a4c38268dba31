/**
 * The baseline: a plain MQTT.js subscriber in a process of its own, connected as the daemon connects (fixed
 * client id, persistent session, QoS 1, the same four input topics), that parses each payload's JSON and
 * counts the readings; nothing else. Reports over IPC: { type: 'ready' } once subscribed, { type: 'end',
 * readings } when the end marker arrives, { type: 'mid', readings } at the half-way marker.
 *
 * Usage: node bare-subscriber.js <broker url> <client id>
 */
import mqtt from 'mqtt';
import { END_MARKER_TOPIC, MID_MARKER_TOPIC } from './shape.js';

const [url, clientId] = process.argv.slice(2);
if (url === undefined || clientId === undefined) throw new Error('usage: bare-subscriber.js <broker url> <client id>');
const client = await mqtt.connectAsync(url, { clientId, clean: false, reconnectPeriod: 1_000 });
let readings = 0;
client.on('message', (topic, payload) => {
  if (topic === END_MARKER_TOPIC) {
    process.send?.({ type: 'end', readings });
    return;
  }
  if (topic === MID_MARKER_TOPIC) {
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
