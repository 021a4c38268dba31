/**
 * `oep replay`: publishes recorded files (cycler exports and load-cell logs, several cells at once) to an
 * MQTT broker under the wire contract, in event-time order across all files, at real time, N times real
 * time, or as fast as the broker accepts. A lab rehearses dashboards and alerts on a past experiment.
 *
 * Pacing: the window ending at event time T is sent at wall time start + (T − T0) / speed. Readings keep
 * their own timestamps (event time): the daemon sees the experiment as it was recorded.
 */
import { basename, extname } from 'node:path';
import mqtt from 'mqtt';
import type { FormatName, ReaderOptions } from '../src/readers/formats.js';
import { RowsToReadings } from '../src/readers/readings.js';
import { openSource, parsedBatches, type Source } from './files.js';
import { sleep, WindowPublisher, WireSink, wireMerge, type WireItem } from './publish.js';

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


export async function runReplay(o: ReplayOptions): Promise<ReplayReport> {
  const now = o.now ?? Date.now;
  const sources: Source[] = [];
  for (const f of o.files) sources.push(await openSource(f.path, { ...(o.reader ?? {}), oracle: false, pressure: o.pressure ?? {} }, o.format));
  const merge = wireMerge(sources.length);
  const sinks = sources.map((s, i) => new WireSink(merge, o.files[i]!.cell ?? cellFromFile(s.path), i, sources.length, s.fileName));
  const converters = sources.map(() => new RowsToReadings(o.cyclerSteps ?? true));
  const iters = sources.map((s) => parsedBatches(s, o.signal));
  const ended = sources.map(() => false);

  const client = await mqtt.connectAsync(o.url, { clientId: o.clientId ?? `oep-replay-${process.pid}-${Math.round(Math.random() * 1e6)}`, clean: true });
  const wallStart = now();
  let t0 = NaN;
  const pace = async (windowEnd: number): Promise<void> => {
    if (!Number.isFinite(o.speed)) return;
    if (Number.isNaN(t0)) t0 = windowEnd - (o.window_ms ?? 1000);
    await sleep(wallStart + (windowEnd - t0) / o.speed - now(), o.signal);
  };
  const pub = new WindowPublisher(client, { topicPrefix: o.topicPrefix, ...(o.window_ms !== undefined ? { window_ms: o.window_ms } : {}), ...(o.maxBatch !== undefined ? { maxBatch: o.maxBatch } : {}) }, pace);
  let rows = 0;
  let firstTs = Infinity;
  let lastTs = -Infinity;
  const ready: WireItem[] = [];
  try {
    while (!ended.every((e) => e) && o.signal?.aborted !== true) {
      let k = -1;
      for (let i = 0; i < sources.length; i++) if (!ended[i] && (k < 0 || sinks[i]!.newest < sinks[k]!.newest)) k = i;
      const next = await iters[k]!.next();
      if (next.done === true) ended[k] = true;
      else if (next.value.kind === 'cycler') {
        rows += next.value.rows.length;
        converters[k]!.cycler(next.value.rows, sinks[k]!);
      } else {
        const s = sources[k]!;
        if (s.reader.kind === 'pressure') sinks[k]!.pressureUnit = s.reader.parser.unit ?? 'MPa';
        rows += next.value.rows.length;
        RowsToReadings.pressure(next.value.rows, sinks[k]!);
      }
      let horizon = Infinity;
      for (let i = 0; i < sources.length; i++) if (!ended[i] && sinks[i]!.newest < horizon) horizon = sinks[i]!.newest;
      ready.length = 0;
      merge.drain(horizon, ready);
      if (ready.length > 0) {
        if (ready[0]!.ts < firstTs) firstTs = ready[0]!.ts;
        lastTs = ready[ready.length - 1]!.ts;
        await pub.add(ready);
      }
    }
    ready.length = 0;
    merge.drain(Infinity, ready);
    if (ready.length > 0) {
      firstTs = Math.min(firstTs, ready[0]!.ts);
      lastTs = ready[ready.length - 1]!.ts;
      await pub.add(ready);
    }
    await pub.flush();
  } finally {
    await client.endAsync();
  }
  const report = { rows, readings: pub.readings, messages: pub.messages, firstTs, lastTs, wall_ms: now() - wallStart, aborted: o.signal?.aborted === true };
  o.log?.(`replay: ${report.readings} readings from ${rows} rows in ${report.messages} messages`);
  return report;
}
