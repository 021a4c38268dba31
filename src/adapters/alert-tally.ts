/**
 * The one alert counter of the daemon's /metrics: alerts raised (a change to a higher level: ok →
 * warning, ok/warning → critical) by cell, kind and level, counted from the lab's events as a sink.
 */
import type { LabEvent } from '../domain/lab.js';
import type { AlertCount } from './health-source.js';
import { LEVEL_CODE } from './line-protocol.js';
import type { Sink, SinkReport } from './sink.js';

export class AlertTally implements Sink {
  readonly name = 'alert-tally';
  private readonly counts = new Map<string, { cell: string; kind: string; level: string; count: number }>();
  private total = 0;

  write(events: readonly LabEvent[]): void {
    for (const e of events) {
      if (e.type !== 'alert') continue;
      const a = e.alert;
      if (LEVEL_CODE[a.level] <= LEVEL_CODE[a.previous]) continue;
      this.total++;
      const key = `${a.cell}\u0000${a.kind}\u0000${a.level}`;
      const c = this.counts.get(key);
      if (c === undefined) this.counts.set(key, { cell: a.cell, kind: a.kind, level: a.level, count: 1 });
      else c.count++;
    }
  }

  entries(): Iterable<AlertCount> {
    return this.counts.values();
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<SinkReport> {
    return Promise.resolve({ written: this.total, lost: 0 });
  }
}
