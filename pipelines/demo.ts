/**
 * The embedded default: an in-process MQTT broker (aedes), simulated cells publishing to it, the daemon
 * processing them, and a local sink (CSV + line protocol under an output folder, a live table in the
 * terminal). Nothing to install or configure.
 */
import { startBroker } from '../src/adapters/broker.js';
import { createLogger, type LogFormat, type LogLevel } from '../src/adapters/log.js';
import { parseConfig } from '../src/config/schema.js';
import { LiveTable, TableWriter } from '../src/adapters/live-table.js';
import { demoCells } from '../src/sim/scenarios.js';
import { Daemon, type StopReport } from './daemon.js';
import { runSimulator } from './simulate.js';

export interface DemoOptions {
  readonly outDir: string;
  readonly cells: number;
  /** Simulated seconds per wall second. */
  readonly speed: number;
  readonly cycles: number;
  readonly seed: number;
  /** Stop after this many wall seconds (default: run until interrupted or the simulation ends). */
  readonly duration_s?: number;
  /** Embedded broker port (0 = any free port). */
  readonly port: number;
  readonly table: boolean;
  readonly logLevel: LogLevel;
  readonly logFormat?: LogFormat;
  readonly signal?: AbortSignal;
}

export interface DemoReport {
  readonly stop: StopReport;
  readonly cycles: number;
  readonly steps: number;
  readonly readings: number;
}

/** How often the live table is redrawn, ms. */
export const TABLE_REDRAW_MS = 1_000;

export async function runDemo(o: DemoOptions): Promise<DemoReport> {
  const table = new LiveTable();
  // On a terminal the table is redrawn in place: log lines go under it instead of scrolling it away.
  const inPlace = o.table && process.stdout.isTTY;
  const log = inPlace
    ? createLogger(o.logLevel, (line) => {
        const msg = line.slice(25); // without the timestamp
        // The incident events are noted from the lab's events already.
        if (!/^\w+\s+alert /.test(msg)) table.note(msg);
      })
    : createLogger(o.logLevel, undefined, o.logFormat);
  const broker = await startBroker(o.port);
  const specs = demoCells(o.cells);
  const config = parseConfig({
    mqtt: { url: broker.url, clientId: 'oep-demo', cleanSession: true },
    output: { dir: o.outDir },
    // Simulated time runs ahead of the wall clock: the future-skew guard is for real devices.
    alignment: { maxFutureSkew_ms: 0 },
    defaults: { formationCycles: 3 },
    cells: specs.map((s) => ({ id: s.id, activeMassG: s.activeMass_g, areaMm2: s.area_mm2, nominalCurrent_mA: s.nominalCapacity_mAh * 0.1 })),
  });
  const daemon = new Daemon({
    config,
    log,
    onEvents: (e) => {
      table.onEvents(e);
    },
  });
  await daemon.start();
  log.info(`demo: ${specs.length} simulated cells at ${o.speed}× real time, results under ${o.outDir}`);
  const ac = new AbortController();
  o.signal?.addEventListener('abort', () => {
    ac.abort();
  });
  let timer: NodeJS.Timeout | undefined;
  const writer = new TableWriter(process.stdout);
  if (o.table) {
    timer = setInterval(() => {
      writer.draw(table.render());
    }, TABLE_REDRAW_MS);
  }
  let readings = 0;
  try {
    const sim = await runSimulator({
      url: broker.url,
      topicPrefix: config.mqtt.topicPrefix,
      cells: specs,
      speed: o.speed,
      seed: o.seed,
      startTs: Date.now(),
      cycles: o.cycles,
      signal: ac.signal,
      ...(o.duration_s !== undefined ? { duration_ms: o.duration_s * 1000 } : {}),
      log: (m) => {
        log.info(m);
      },
    });
    readings = sim.readings;
    // Let the last readings through the pipeline.
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    clearInterval(timer);
  }
  const stop = await daemon.stop();
  await broker.close();
  if (o.table) writer.draw(table.render());
  return { stop, cycles: table.cycles, steps: table.steps, readings };
}
