/**
 * The parts of logging that need no logging library (levels, formats, redaction, rate limiting): commands
 * that only format an error message import these without loading pino.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** `text`: `<ISO time> <LEVEL> <message>` lines; `json`: one JSON object per line (pino's shape). */
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

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
