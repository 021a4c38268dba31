/**
 * prom-client metrics whose values are read at scrape time: each `collect()` resets the metric and sets it
 * from a reader, so a metric shows what its reader gives now and nothing of earlier scrapes. A metric without
 * labels reads 0 when its reader gives undefined (prom-client always shows an unlabelled series).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** One metric: where it registers, its name and help text. */
export interface ScrapeMetric {
  readonly registers: Registry[];
  readonly name: string;
  readonly help: string;
}

/** A counter without labels, set from `read()` at every scrape. */
export function scrapeCounter(m: ScrapeMetric, read: () => number | undefined): void {
  new Counter({
    ...m,
    collect(this: Counter) {
      this.reset();
      const v = read();
      if (v !== undefined) this.inc(v);
    },
  });
}

/** A gauge without labels, set from `read()` at every scrape. */
export function scrapeGauge(m: ScrapeMetric, read: () => number | undefined): void {
  new Gauge({
    ...m,
    collect(this: Gauge) {
      this.reset();
      const v = read();
      if (v !== undefined) this.set(v);
    },
  });
}

/** A labelled counter: one series per (labels, value) pair `read()` yields at the scrape. */
export function scrapeCounterBy<L extends string>(
  m: ScrapeMetric,
  labelNames: readonly L[],
  read: () => Iterable<readonly [labels: Partial<Record<L, string>>, value: number]>,
): void {
  new Counter<L>({
    ...m,
    labelNames,
    collect(this: Counter<L>) {
      this.reset();
      for (const [labels, v] of read()) this.inc(labels, v);
    },
  });
}

/** A labelled gauge: one series per (labels, value) pair `read()` yields at the scrape. */
export function scrapeGaugeBy<L extends string>(
  m: ScrapeMetric,
  labelNames: readonly L[],
  read: () => Iterable<readonly [labels: Partial<Record<L, string>>, value: number]>,
): void {
  new Gauge<L>({
    ...m,
    labelNames,
    collect(this: Gauge<L>) {
      this.reset();
      for (const [labels, v] of read()) this.set(labels, v);
    },
  });
}
