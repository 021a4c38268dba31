/**
 * `oep replay`: publishes recorded files (cycler exports and load-cell logs, several cells at once) to an
 * MQTT broker under the wire contract, in event-time order across all files, at real time, N times real
 * time, or as fast as the broker accepts. A lab rehearses dashboards and alerts on a past experiment.
 *
 * Pacing: the window ending at event time T is sent at wall time start + (T − T0) / speed. Readings keep
 * their own timestamps (event time): the daemon sees the experiment as it was recorded.
 */
import { basename, extname } from 'node:path';
import { openSource, type Source } from '../src/adapters/files.js';
import { connectMqtt } from '../src/adapters/mqtt-client.js';
import { checkWireTime, sleep, WindowPublisher } from '../src/adapters/mqtt-publisher.js';
import { recordedReadings } from '../src/adapters/recorded.js';
import type { FormatName, ReaderOptions } from '../src/readers/formats.js';

export interface ReplayFile {
  readonly path: string;
  /** Cell id; default: the file name without its extension. */
  readonly cell?: string | undefined;
}

export interface ReplayOptions {
  readonly url: string;
  readonly topicPrefix: string;
  readonly files: readonly ReplayFile[];
  /** Format of every file (default: detected per file). */
  readonly format?: FormatName | undefined;
  readonly reader?: Omit<ReaderOptions, 'fileName' | 'pressure'>;
  readonly pressure?: ReaderOptions['pressure'];
  /** Publish the cycler's step/cycle index on `step` (default true). */
  readonly cyclerSteps?: boolean;
  /** Event time per wall time; Infinity = as fast as the broker accepts. */
  readonly speed: number;
  /** Event-time span of one publish window, ms (≤ the daemon's alignment.lateness_ms). */
  readonly window_ms?: number;
  readonly maxBatch?: number;
  readonly clientId?: string;
  readonly signal?: AbortSignal;
  readonly log?: (m: string) => void;
  /** Wall clock (tests). */
  readonly now?: () => number;
}

export interface ReplayReport {
  readonly rows: number;
  readonly readings: number;
  readonly messages: number;
  readonly firstTs: number;
  readonly lastTs: number;
  readonly wall_ms: number;
  readonly aborted: boolean;
}

/** A cell id from a file name: the base name without extension, with characters MQTT topics cannot carry replaced. */
export function cellFromFile(path: string): string {
  return basename(path, extname(path)).replace(/[/+#\s]/g, '_');
}

/**
 * The merged stream of the files (the same `recordedReadings` that `oep process` feeds the lab) onto the
 * wire, window by window. Consumed with `for await`, not RxJS: publishing waits (pacing, PUBACKs), and
 * the next file batch must not be read before the last one is out, or a real-time replay of a large
 * file would hold it all in memory.
 */
export async function runReplay(o: ReplayOptions): Promise<ReplayReport> {
  const now = o.now ?? Date.now;
  const sources: Source[] = [];
  for (const f of o.files) sources.push(await openSource(f.path, { ...(o.reader ?? {}), oracle: false, pressure: o.pressure ?? {} }, o.format));
  let rows = 0;
  const recorded = recordedReadings(
    sources.map((source, i) => ({ source, cell: o.files[i]?.cell ?? cellFromFile(source.path) })),
    { withSteps: o.cyclerSteps ?? true, signal: o.signal, onRead: (r) => (rows += r.rows) },
  );
  const client = await connectMqtt({ url: o.url, clientId: o.clientId ?? `oep-replay-${process.pid}-${Math.round(Math.random() * 1e6)}`, clean: true });
  const wallStart = now();
  let t0 = NaN;
  const pace = async (windowEnd: number): Promise<void> => {
    if (!Number.isFinite(o.speed)) return;
    if (Number.isNaN(t0)) t0 = windowEnd - (o.window_ms ?? 1000);
    await sleep(wallStart + (windowEnd - t0) / o.speed - now(), o.signal);
  };
  const pub = new WindowPublisher(
    client,
    {
      topicPrefix: o.topicPrefix,
      ...(o.window_ms !== undefined ? { window_ms: o.window_ms } : {}),
      ...(o.maxBatch !== undefined ? { maxBatch: o.maxBatch } : {}),
    },
    pace,
  );
  let firstTs = Infinity;
  let lastTs = -Infinity;
  try {
    for await (const chunk of recorded) {
      for (const r of chunk) checkWireTime(r.ts, sources[r.source]?.fileName ?? '?');
      firstTs = Math.min(firstTs, chunk[0]?.ts ?? Infinity);
      lastTs = chunk[chunk.length - 1]?.ts ?? lastTs;
      await pub.add(chunk);
    }
    await pub.flush();
  } finally {
    await client.endAsync();
  }
  const report = { rows, readings: pub.readings, messages: pub.messages, firstTs, lastTs, wall_ms: now() - wallStart, aborted: o.signal?.aborted === true };
  o.log?.(`replay: ${report.readings} readings from ${rows} rows in ${report.messages} messages`);
  return report;
}
