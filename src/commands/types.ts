/** A CLI command: `oep <name> …` loads `src/commands/<name>.ts` and calls `main`. */
export interface Command {
  /** One line for `oep help`. */
  readonly summary: string;
  /** The command's own usage text (options). */
  readonly usage: string;
  /**
   * Runs the command. Resolves to the exit code, or to `'running'` for a daemon that keeps the
   * process alive until a signal ends it.
   */
  main(args: string[]): Promise<number | 'running'>;
}
