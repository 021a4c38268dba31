/** A CLI command: `oep <name> …` loads `src/commands/<name>.ts` (listed in index.ts) and calls `main`. */
export interface Command {
  /** The command's own usage text: its synopsis line(s) and every option, one per line. */
  readonly usage: string;
  /** One typical invocation, shown under the usage by `oep help <command>`. */
  readonly example: string;
  /**
   * Runs the command. Resolves to the exit code, or to `'running'` for a daemon that keeps the
   * process alive until a signal ends it.
   */
  main(args: string[]): Promise<number | 'running'>;
}
