/**
 * A mistake on the command line (unknown command or option, bad value): exit code 2, one line, no stack.
 * Kept apart from the config schema so the CLI's entry can recognise it without loading zod.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit code 2 (usage or configuration) for these errors, by name: ConfigError lives in the config schema, which `oep --help` does not load. */
export const USAGE_ERROR_NAMES: ReadonlySet<string> = new Set(['UsageError', 'ConfigError']);

/** The exit codes of every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
