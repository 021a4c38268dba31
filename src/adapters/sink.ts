/**
 * The one contract every output of the pipeline implements (InfluxDB, local files, MQTT alerts, the
 * webhook, the alert tally): the daemon and `oep process` hold a list of sinks and hand each batch of lab
 * events to every one of them.
 */
import type { LabEvent } from '../domain/lab.js';
import { errorMessage } from './log-text.js';

/** What a sink says when it closes: what it delivered and what it could not, never hidden. */
export interface SinkReport {
  /** Lines, messages or rows delivered. */
  readonly written: number;
  /** Those accepted by `write` that never arrived (a dead server, a full queue, a failed file). */
  readonly lost: number;
  /** Those not delivered yet but kept on disk for the next start (the InfluxDB outbox). */
  readonly kept?: number;
}

export interface Sink {
  /** Names the sink in reports and logs (`influx`, `files`, `mqtt-alerts`, `webhook`, …). */
  readonly name: string;
  /** Takes a batch of events; never blocks and never throws into the pipeline. */
  write(events: readonly LabEvent[]): void;
  /** Resolves once what was written so far has gone out (or failed, which the report will count). */
  flush(): Promise<void>;
  /** Flushes, releases the sink's resources and reports. Idempotent. */
  close(): Promise<SinkReport>;
}

/**
 * Writes one batch to every sink. A sink that throws all the same (a bug) does not keep the batch from
 * the others, and does not end the pipeline: `onError` hears of it (default: rethrown after the others).
 */
export function writeAll(sinks: readonly Sink[], events: readonly LabEvent[], onError?: (sink: Sink, error: unknown) => void): void {
  if (events.length === 0) return;
  let failure: { error: unknown } | undefined;
  for (const s of sinks) {
    try {
      s.write(events);
    } catch (e) {
      if (onError !== undefined) onError(s, e);
      else failure ??= { error: e };
    }
  }
  if (failure !== undefined) throw failure.error;
}

/** Closes every sink (in order), each failure kept as a message; returns the reports by sink name. */
export async function closeAll(sinks: readonly Sink[]): Promise<{ reports: Record<string, SinkReport>; errors: string[] }> {
  const reports: Record<string, SinkReport> = {};
  const errors: string[] = [];
  for (const s of sinks) {
    try {
      reports[s.name] = await s.close();
    } catch (e) {
      errors.push(`${s.name}: ${errorMessage(e)}`);
    }
  }
  return { reports, errors };
}
