/** Helpers the commands share: signal handling and option parsing. */
import { onceOnSignals } from './signals.js';
import { ConfigError } from '../config/defaults.js';

/**
 * The first SIGINT/SIGTERM starts one orderly shutdown; a second one while it runs does not start
 * another. The process exits with `process.exitCode` once `stop` resolves.
 */
export function onSignals(stop: () => Promise<void>): void {
  onceOnSignals(
    () => {
      stop().then(
        () => process.exit(process.exitCode ?? 0),
        (e: unknown) => {
          process.stderr.write(`oep: shutdown failed: ${String(e)}\n`);
          process.exit(1);
        },
      );
    },
    (sig) => process.stderr.write(`oep: ${sig} again; shutdown already in progress\n`),
  );
}

/** An abort signal tripped by the first SIGINT/SIGTERM (for commands that finish by themselves). */
export function abortOnSignals(): AbortSignal {
  const ac = new AbortController();
  onceOnSignals(
    () => {
      ac.abort();
    },
    () => process.stderr.write('oep: already stopping\n'),
  );
  return ac.signal;
}

/** A non-negative number option; `max` means Infinity. */
export function numberOption(v: string | undefined, def: number, name: string): number {
  if (v === undefined) return def;
  if (v === 'max') return Infinity;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`--${name} must be a non-negative number, got ${v}`);
  return n;
}

/** The simulation's options, shared by `oep demo` and `oep simulate`. */
export const SIM_OPTIONS = {
  cells: { type: 'string' },
  speed: { type: 'string' },
  cycles: { type: 'string' },
  duration: { type: 'string' },
  seed: { type: 'string' },
} as const;

export const SIM_USAGE = `      --cells <n>        simulated cells (default 4)
      --speed <x|max>    simulated seconds per wall second (default 3600; max = as fast as the broker takes)
      --cycles <n>       cycles per cell (default 60)
      --duration <s>     stop after s wall seconds (default: until Ctrl-C or the end of the simulation)
      --seed <n>         random seed (default 1)`;

/** What the simulation options say. */
export interface SimArgs {
  /** How many of the demo lab's cells. */
  readonly cells: number;
  readonly speed: number;
  readonly cycles: number;
  readonly seed: number;
  readonly duration_s?: number;
}

export function simArgs(values: { readonly [K in keyof typeof SIM_OPTIONS]?: string | undefined }): SimArgs {
  return {
    cells: numberOption(values.cells, 4, 'cells'),
    speed: numberOption(values.speed, 3600, 'speed'),
    cycles: numberOption(values.cycles, 60, 'cycles'),
    seed: numberOption(values.seed, 1, 'seed'),
    ...(values.duration !== undefined ? { duration_s: numberOption(values.duration, 0, 'duration') } : {}),
  };
}

/** A finite number option (undefined when not given). */
export function finiteOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(`--${name} must be a number, got ${v}`);
  return n;
}
