/**
 * The daemon's logger: pino, writing to stderr either text lines (`<ISO time> <LEVEL> <message>`, the
 * default, for a terminal or journald) or one JSON object per line (`--log-format json`, for Loki, Elastic,
 * `jq`). Callers see only `Logger`; a structured field object may follow the message (kept in JSON, left
 * out of the text line, whose message says the same).
 */
import { pino, stdTimeFunctions, type DestinationStream } from 'pino';
import type { LogFormat, LogLevel } from './log-text.js';

export { errorMessage, LOG_FORMATS, LOG_LEVELS, RateLimitedLog, redactUrl, type LogFormat, type LogLevel } from './log-text.js';

/** Structured fields of a log line (JSON format only). */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether a level would be written (to skip building a costly debug message). */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean;
}

interface PinoLine {
  readonly time?: string;
  readonly level?: string;
  readonly msg?: string;
}

/** A pino record (one JSON line) as the text line `<ISO time> <LEVEL> <message>`. */
function textLine(json: string): string {
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- pino writes the object its own options shape (time, level label, msg)
  const o = JSON.parse(json) as PinoLine;
  return `${o.time ?? ''} ${(o.level ?? '').toUpperCase().padEnd(5)} ${o.msg ?? ''}`;
}

/**
 * A logger at `level`. Lines go to `write` (one line, no newline) when given, else to stderr, written
 * synchronously so the last lines before an exit are not lost.
 */
export function createLogger(level: LogLevel = 'info', write?: (line: string) => void, format: LogFormat = 'text'): Logger {
  const out = write ?? ((l: string) => process.stderr.write(l + '\n'));
  const stream: DestinationStream = {
    write: (s: string) => {
      const json = s.endsWith('\n') ? s.slice(0, -1) : s;
      out(format === 'json' ? json : textLine(json));
    },
  };
  const p = pino(
    {
      level,
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  const at =
    (l: Exclude<LogLevel, 'silent'>) =>
    (msg: string, fields?: LogFields): void => {
      if (fields === undefined) p[l](msg);
      else p[l](fields, msg);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), enabled: (l) => p.isLevelEnabled(l) };
}
