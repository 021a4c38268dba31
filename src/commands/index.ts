/**
 * The commands of `oep`, each with its line for `oep help`. A command's module is imported only when it
 * runs (or prints its own help), so `oep --help` loads none of them: not the daemon, not the demo's broker.
 */
import type { Command } from './types.js';

export interface CommandEntry {
  readonly name: string;
  /** One line for `oep help` (fits 80 columns after `  oep <name>  `). */
  readonly summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'config', summary: 'config check [file]: validate, print resolved settings per cell', load: async () => (await import('./config-check.js')).command },
  { name: 'demo', summary: 'embedded broker, simulated cells, pipeline, files, live table', load: async () => (await import('./demo.js')).command },
  { name: 'follow', summary: 'tail a cycler export being written; publish new rows to MQTT', load: async () => (await import('./follow.js')).command },
  { name: 'process', summary: 'recorded cycler exports, offline, into steps.csv / cycles.csv', load: async () => (await import('./process.js')).command },
  { name: 'replay', summary: 'publish recorded exports to MQTT (real time, ×N, or max)', load: async () => (await import('./replay.js')).command },
  { name: 'report', summary: 'one self-contained HTML report from an output folder', load: async () => (await import('./report.js')).command },
  { name: 'run', summary: 'the daemon: MQTT in, step/cycle metrics out (InfluxDB, files)', load: async () => (await import('./run.js')).command },
  { name: 'silence', summary: "silence a cell's (or all cells') alerts for a while", load: async () => (await import('./silence.js')).command },
  { name: 'simulate', summary: 'publish simulated cells to any broker (the wire contract)', load: async () => (await import('./simulate.js')).command },
];
