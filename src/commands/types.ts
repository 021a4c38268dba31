/** A CLI command: `oep <name> …` loads `src/commands/<name>.ts` (listed in index.ts) and calls `main`. */
export interface Command {
  /** The command's own usage text (options). */
  readonly usage: string;
  /**
   * Runs the command. Resolves to the exit code, or to `'running'` for a daemon that keeps the
   * process alive until a signal ends it.
   */
  main(args: string[]): Promise<number | 'running'>;
}
