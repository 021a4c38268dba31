/**
 * The log level and format: `--log-level` / `--log-format` (any command), then OEP_LOG_LEVEL / OEP_LOG_FORMAT,
 * then the config's `log:` section, then `info` and `text`. Values are case-insensitive; anything else is a
 * usage error naming the allowed values. No logging library is loaded here (`oep --help` stays light).
 */
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../adapters/log-text.js';
import { didYouMean } from './suggest.js';
import { UsageError } from './usage-error.js';

/** Names other tools use for a level, read as ours (the error message suggests them too). */
const SYNONYMS: Readonly<Record<string, LogLevel>> = {
  verbose: 'debug',
  trace: 'debug',
  warning: 'warn',
  fatal: 'error',
  quiet: 'silent',
  off: 'silent',
  none: 'silent',
};

function pick<T extends string>(allowed: readonly T[], raw: string, what: string, synonyms: Readonly<Record<string, T>> = {}): T {
  const v = raw.trim().toLowerCase();
  const hit = allowed.find((a) => a === v);
  if (hit !== undefined) return hit;
  const syn = synonyms[v];
  const hint = syn !== undefined ? ` (did you mean ${syn}?)` : didYouMean(v, allowed);
  throw new UsageError(`${what} must be one of ${allowed.join(', ')}; got '${raw}'${hint}`);
}

export const parseLogLevel = (raw: string, what: string): LogLevel => pick(LOG_LEVELS, raw, what, SYNONYMS);
export const parseLogFormat = (raw: string, what: string): LogFormat => pick(LOG_FORMATS, raw, what);

/** The global options every command takes (taken out of the arguments before the command parses them). */
export const GLOBAL_OPTIONS = ['--log-level', '--log-format'] as const;

/**
 * Takes `--log-level <l>` / `--log-format <f>` (or `--opt=value`) out of `args`, anywhere before `--`, checks
 * them, and records them as OEP_LOG_LEVEL / OEP_LOG_FORMAT in `env` (so a flag wins over the environment, and
 * a child process sees the same). Returns the remaining arguments.
 */
export function takeGlobalOptions(args: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') {
      rest.push(...args.slice(i));
      break;
    }
    const [name = '', inline] = a.startsWith('--') ? a.split(/=(.*)/s, 2) : [a];
    if (name !== '--log-level' && name !== '--log-format') {
      rest.push(a);
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined || value.startsWith('--'))
      throw new UsageError(`${name} needs a value (${(name === '--log-level' ? LOG_LEVELS : LOG_FORMATS).join('|')})`);
    if (name === '--log-level') env.OEP_LOG_LEVEL = parseLogLevel(value, name);
    else env.OEP_LOG_FORMAT = parseLogFormat(value, name);
  }
  return rest;
}

export interface LogSettings {
  readonly level: LogLevel;
  readonly format: LogFormat;
}

/** The environment (where a flag was recorded) over the config over the defaults. Throws a UsageError on a bad value. */
export function logSettings(env: NodeJS.ProcessEnv = process.env, config?: { readonly level?: LogLevel; readonly format?: LogFormat }): LogSettings {
  const lv = env.OEP_LOG_LEVEL;
  const fm = env.OEP_LOG_FORMAT;
  return {
    level: lv !== undefined && lv !== '' ? parseLogLevel(lv, 'OEP_LOG_LEVEL') : (config?.level ?? 'info'),
    format: fm !== undefined && fm !== '' ? parseLogFormat(fm, 'OEP_LOG_FORMAT') : (config?.format ?? 'text'),
  };
}
