/** A small leveled logger to stderr, and a rate limiter so a flood of bad payloads cannot flood the log. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** The message of anything thrown (an Error's message, or the value itself as text). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A URL fit for a log line: user name and password replaced by `***`, and so are the values of query
 * parameters that look like secrets (token, password, key, secret). Text that is not a URL is returned
 * with anything between `//` and `@` masked.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//***@');
  }
  if (u.username !== '') u.username = '***';
  if (u.password !== '') u.password = '***';
  for (const k of [...u.searchParams.keys()]) if (/token|pass|secret|key|auth/i.test(k)) u.searchParams.set(k, '***');
  return u.toString();
}

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const at = (l: LogLevel) => (msg: string) => {
    if (ORDER[l] >= ORDER[level]) write(`${new Date().toISOString()} ${l.toUpperCase().padEnd(5)} ${msg}`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * Lets one message per key through every `window_ms`, and says how many were held back in between.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly log: (msg: string) => void,
    private readonly window_ms: number,
    private readonly now: () => number = Date.now,
  ) {}

  report(key: string, msg: string): void {
    const t = this.now();
    const e = this.last.get(key);
    if (e !== undefined && t - e.at < this.window_ms) {
      e.suppressed++;
      return;
    }
    const extra = e !== undefined && e.suppressed > 0 ? ` (+${e.suppressed} more since last report)` : '';
    this.last.set(key, { at: t, suppressed: 0 });
    this.log(msg + extra);
  }
}
