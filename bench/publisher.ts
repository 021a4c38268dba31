/**
 * Benchmark publisher, run in a process of its own (`fork`) so that it shares no event loop with what is
 * measured. It builds every payload first, then publishes them at QoS 1 with a sliding window of
 * unacknowledged messages (a new one goes out as each PUBACK comes back), the half-way marker after the
 * first half (`oep/bench-mid/pressure`), and last the end marker
 * (`oep/bench-end/pressure`, not JSON: the daemon rejects and logs it, the bare subscriber recognizes
 * it); the broker delivers one publisher's messages in order, so the marker arrives after every reading.
 *
 * With a rate, no message goes out before its time (message m at m × readings per message / rate s): a lab's
 * pace, at which the machine is not saturated and what the subscriber's event loop shows is its own.
 *
 * Usage: node publisher.js <broker url> <cells> <messages> <readings per message> <window> <channels,…> <half period s> [readings/s]
 * Reports over IPC (shape.ts PublisherReport): 'start' just before the first message, 'done' once all are acknowledged.
 */
import mqtt from 'mqtt';
import { monotonic_ms } from './proc.js';
import { END_MARKER_TOPIC, MID_MARKER_PAYLOAD, MID_MARKER_TOPIC, parsePublisherArgv, type PublisherArgs, type PublisherReport } from './shape.js';

/** Event time of the first reading: 2026-01-01 (in the past, within the database's retention). */
const T0_MS = Date.UTC(2026, 0, 1);
const SAMPLE_MS = 1_000;

/** Message m goes to cell m mod cells; each cell's channels take turns, each batch `batch` samples 1 s apart. */
function payloads(a: PublisherArgs): { topics: string[]; bodies: Buffer[] } {
  const topics: string[] = [];
  const bodies: Buffer[] = [];
  const half_ms = a.halfPeriod_s * 1000;
  for (let m = 0; m < a.messages; m++) {
    const cell = m % a.cells;
    const k = Math.floor(m / a.cells);
    const channel = a.channels[k % a.channels.length] ?? 'pressure';
    const first = Math.floor(k / a.channels.length) * a.batch;
    const parts: string[] = [];
    for (let j = 0; j < a.batch; j++) {
      const t_ms = (first + j) * SAMPLE_MS;
      const charging = Math.floor(t_ms / half_ms) % 2 === 0;
      const phase = (t_ms % half_ms) / half_ms;
      const value =
        channel === 'pressure'
          ? 15 + (charging ? phase : 1 - phase) * 2
          : channel === 'voltage'
            ? 3.6 + (charging ? phase : 1 - phase) * 0.5
            : charging
              ? 0.65
              : -0.65;
      parts.push(`{"ts":${T0_MS + t_ms},"value":${value}}`);
    }
    topics.push(`oep/b${cell}/${channel}`);
    bodies.push(Buffer.from(`[${parts.join(',')}]`));
  }
  return { topics, bodies };
}

const report = (type: PublisherReport['type']): void => {
  const cpu = process.cpuUsage();
  process.send?.({ type, t_ms: monotonic_ms(), cpu_us: cpu.user + cpu.system } satisfies PublisherReport);
};

async function publishAll(a: PublisherArgs): Promise<void> {
  const { topics, bodies } = payloads(a);
  const client = await mqtt.connectAsync(a.url, { clientId: `bench-pub-${process.pid}`, clean: true });
  let next = 0;
  let acked = 0;
  const rate = a.rate ?? 0;
  let started = 0;
  let paced: NodeJS.Timeout | undefined;
  /** Messages whose time has come (all, without a rate). */
  const due = (): number => (rate > 0 ? Math.floor((((monotonic_ms() - started) / 1000) * rate) / a.batch) + 1 : Infinity);
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      const allowed = due();
      while (next < a.messages && next - acked < a.window && next < allowed) {
        const m = next++;
        client.publish(topics[m] ?? '', bodies[m] ?? Buffer.alloc(0), { qos: 1 }, (e) => {
          if (e instanceof Error) {
            reject(e);
            return;
          }
          acked++;
          if (acked === a.messages) resolve();
          else pump();
        });
        // After the first half and after the last reading, on the same connection: delivered in that order.
        if (next === Math.floor(a.messages / 2)) client.publish(MID_MARKER_TOPIC, MID_MARKER_PAYLOAD, { qos: 1 });
        if (next === a.messages) client.publish(END_MARKER_TOPIC, 'end', { qos: 1 });
      }
      // Held back by the pace (not the window): look again shortly.
      if (next < a.messages && next >= allowed)
        paced ??= setTimeout(() => {
          paced = undefined;
          pump();
        }, 2);
    };
    report('start');
    started = monotonic_ms();
    pump();
  });
  report('done');
  await client.endAsync();
}

const args = parsePublisherArgv(process.argv.slice(2));
if (args === undefined)
  throw new Error('usage: publisher.js <broker url> <cells> <messages> <readings per message> <window> <channels,…> <half period s> [readings/s]');
await publishAll(args);
