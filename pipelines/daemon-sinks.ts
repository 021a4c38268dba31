/**
 * Where the daemon's events go: the sinks its config asks for (the alert tally, MQTT alerts, the webhook,
 * InfluxDB with its outbox, the local files), and the log lines an event is worth (a gap, an alert).
 */
import { join } from 'node:path';
import { AlertPublisher } from '../src/adapters/alert-publisher.js';
import type { AlertTally } from '../src/adapters/alert-tally.js';
import { FileSink, type FileOffsets } from '../src/adapters/file-sink.js';
import { InfluxSink } from '../src/adapters/influx-sink.js';
import type { Logger } from '../src/adapters/log.js';
import { errorMessage, redactUrl, type RateLimitedLog } from '../src/adapters/log-text.js';
import type { MqttAdapter } from '../src/adapters/mqtt.js';
import { DiskOutbox } from '../src/adapters/outbox.js';
import { writeAll, type Sink } from '../src/adapters/sink.js';
import { Webhook } from '../src/adapters/webhook.js';
import type { OepConfig } from '../src/config/schema.js';
import type { Lab, LabEvent } from '../src/domain/lab.js';

/** One file of the InfluxDB outbox holds this much before the next one starts (a sent file is deleted whole). */
const OUTBOX_SEGMENT_BYTES = 16 * 1024 * 1024;

export interface SinkInputs {
  readonly config: OepConfig;
  readonly log: Logger;
  readonly lab: Lab;
  readonly mqtt: MqttAdapter;
  readonly alertTally: AlertTally;
  /** Where a sink's errors are reported (rate-limited by kind). */
  readonly rejectLog: RateLimitedLog;
  readonly now: () => number;
  /** The output files' sizes at the checkpoint the daemon resumes from (the files are cut back to them). */
  readonly filesAt: FileOffsets | undefined;
}

export interface DaemonSinks {
  /** In the order they are closed. */
  readonly all: Sink[];
  readonly influx: InfluxSink | undefined;
  readonly files: FileSink | undefined;
}

/** The sinks the config asks for, in the order they are closed. */
export function makeSinks(p: SinkInputs): DaemonSinks {
  const { config: cfg, log } = p;
  const all: Sink[] = [
    p.alertTally,
    new AlertPublisher(p.mqtt, {
      topicPrefix: cfg.mqtt.topicPrefix,
      incidentsOf: (cell) => p.lab.cell(cell).incidents,
      silencedUntil: (cell) => p.lab.silencedUntil(cell, p.now()),
    }),
  ];
  if (cfg.alerts.webhook !== undefined)
    all.push(
      new Webhook({
        ...cfg.alerts.webhook,
        onError: (m) => {
          p.rejectLog.report('webhook', m);
        },
      }),
    );
  let influx: InfluxSink | undefined;
  if (cfg.influx !== undefined) {
    const i = cfg.influx;
    // With a state folder, the lines wait on disk until the database has them (they survive a stop and a crash).
    const outbox =
      cfg.state !== undefined ? new DiskOutbox(join(cfg.state.dir, 'outbox'), { maxBytes: i.outboxMaxBytes, segmentBytes: OUTBOX_SEGMENT_BYTES }) : undefined;
    all.push(
      (influx = new InfluxSink(
        {
          ...i,
          onError: (m) => {
            p.rejectLog.report('influx', m);
          },
          onStateChange: (m) => {
            log.warn(m);
          },
        },
        outbox,
      )),
    );
    if (outbox !== undefined && outbox.pending > 0) log.info(`influx: ${outbox.pending} lines from before the restart wait in ${outbox.dir}`);
    log.info(`influx: writing to ${redactUrl(i.url)} bucket ${i.bucket}`);
  }
  let files: FileSink | undefined;
  if (cfg.output !== undefined) {
    all.push((files = new FileSink(cfg.output.dir, true, p.filesAt)));
    log.info(`output: writing CSV and line protocol under ${cfg.output.dir}`);
  }
  return { all, influx, files };
}

/** Hands a batch of events to every sink (a sink that throws is reported, the others still get it) and logs its gaps and alerts. */
export function writeEvents(sinks: readonly Sink[], events: readonly LabEvent[], log: Logger, rejectLog: RateLimitedLog): void {
  writeAll(sinks, events, (sink, e) => {
    rejectLog.report(`sink/${sink.name}`, `sink ${sink.name} failed to take ${events.length} events: ${errorMessage(e)}`);
  });
  for (const e of events) {
    if (e.type === 'gap') {
      const g = e.gap;
      rejectLog.report(
        `gap/${g.cell}/${g.channel}`,
        `gap ${g.cell}/${g.channel}: no readings for ${((g.to - g.from) / 1000).toFixed(1)} s while current flowed ` +
          `(about ${g.missing} missing at ${g.interval_ms} ms; a broker queue that overflowed, the device, or the network)`,
      );
    }
    if (e.type !== 'alert') continue;
    const a = e.alert;
    if (a.level === 'ok') log.info(`alert ${a.cell}: ${a.message}`);
    else log.warn(`alert ${a.cell}: ${a.message}`);
  }
}
