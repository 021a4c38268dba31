/**
 * The embedded default: an in-process MQTT broker (aedes), simulated cells publishing to it, the daemon
 * processing them, and a local sink (CSV + line protocol under an output folder, a live table in the
 * terminal). Nothing to install or configure.
 */
import { startBroker } from '../src/adapters/broker.js';
import { createLogger, type LogLevel } from '../src/adapters/log.js';
import { parseConfig } from '../src/config/schema.js';
import type { LabEvent } from '../src/domain/lab.js';
import type { CycleRecord } from '../src/domain/types.js';
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
  readonly signal?: AbortSignal;
}

export interface DemoReport {
  readonly stop: StopReport;
  readonly cycles: number;
  readonly steps: number;
  readonly readings: number;
}

const fmt = (v: number | undefined, digits: number): string => (v === undefined ? '—' : v.toFixed(digits));

/** The live table: the latest cycle of each cell. */
export class LiveTable {
  private readonly latest = new Map<string, CycleRecord>();
  private readonly stepsSeen = new Map<string, number>();
  private readonly alertLevel = new Map<string, Map<string, string>>();
  cycles = 0;
  steps = 0;

  onEvents(events: readonly LabEvent[]): void {
    for (const e of events) {
      if (e.type === 'cycle') {
        this.cycles++;
        if (e.record.complete) this.latest.set(e.record.cell, e.record);
      } else if (e.type === 'alert') {
        const m = this.alertLevel.get(e.alert.cell) ?? new Map<string, string>();
        this.alertLevel.set(e.alert.cell, m);
        if (e.alert.level === 'ok') m.delete(e.alert.kind);
        else m.set(e.alert.kind, e.alert.level);
      } else if (e.type === 'step') {
        this.steps++;
        this.stepsSeen.set(e.record.cell, (this.stepsSeen.get(e.record.cell) ?? 0) + 1);
      }
    }
  }

  render(): string {
    const head = 'cell      cycle  Q_dis mAh/g   CE      ΔP MPa  Δ(ΔP)  Δ(ΔP_Q) MPa·g/Ah  drift   steps  alerts';
    const rows = [...this.stepsSeen.keys()].sort().map((cell) => {
      const c = this.latest.get(cell);
      return [
        cell.padEnd(9),
        String(c?.cycle ?? '—').padStart(5),
        fmt(c?.qDischarge_mAh_g, 1).padStart(12),
        fmt(c?.ce, 4).padStart(8),
        fmt(c?.dpCum_MPa, 3).padStart(8),
        fmt(c?.ddp_MPa, 3).padStart(7),
        fmt(c?.ddpQ_MPa_g_per_Ah, 2).padStart(18),
        fmt(c?.drift_MPa_g_per_Ah, 2).padStart(7),
        String(this.stepsSeen.get(cell) ?? 0).padStart(7),
        ' ' + ([...(this.alertLevel.get(cell) ?? new Map<string, string>())].map(([k, l]) => `${k}:${l}`).join(' ') || 'ok'),
      ].join(' ');
    });
    return [head, ...rows].join('\n');
  }
}

export async function runDemo(o: DemoOptions): Promise<DemoReport> {
  const log = createLogger(o.logLevel);
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
  const table = new LiveTable();
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
  if (o.table) {
    timer = setInterval(() => {
      const text = table.render();
      if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H' + text + '\n');
      else process.stdout.write(text + '\n\n');
    }, 2_000);
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
  if (o.table) process.stdout.write(table.render() + '\n');
  return { stop, cycles: table.cycles, steps: table.steps, readings };
}
