/**
 * `oep <command> …`: each command is one file, `src/commands/<command>.ts`, exporting `command`, and one
 * line in `src/commands/index.ts`. This entry loads only the command it runs (nor zod, nor pino, for
 * `oep --help` and `oep --version`). Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
 */
import { readFileSync } from 'node:fs';
import { COMMANDS } from './commands/index.js';
import { GLOBAL_OPTIONS, takeGlobalOptions } from './commands/log-options.js';
import { forwardedSignals } from './commands/signals.js';
import { didYouMean } from './commands/suggest.js';
import { EXIT, USAGE_ERROR_NAMES, UsageError } from './commands/usage-error.js';
import type { Command } from './commands/types.js';

function help(): string {
  const lines = ['oep: operando electrochemical pressiometry stream processor', '', 'Commands:'];
  for (const c of COMMANDS) lines.push(`  oep ${c.name.padEnd(9)} ${c.summary}`);
  lines.push('', '`oep help <command>` (or `oep <command> --help`): its options and an example.');
  lines.push('`oep --version`: the versions of oep and Node.');
  lines.push('Any command: --log-level debug|info|warn|error|silent, --log-format text|json');
  lines.push('  (or OEP_LOG_LEVEL, OEP_LOG_FORMAT, or the config: log.level, log.format).');
  lines.push('Config: --config, $OEP_CONFIG, ./oep.yaml, /etc/oep/oep.yaml; ${VAR} in values;');
  lines.push('  any key from the environment as OEP_<SECTION>_<KEY> (OEP_INFLUX_TOKEN).');
  lines.push('Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.');
  return lines.join('\n') + '\n';
}

function version(): string {
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- our own package.json, two folders up from dist/src/cli.js and from src/cli.ts's test copy
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `oep ${pkg.version} (node ${process.version})\n`;
}

/** The command called `name`, or a usage error suggesting the nearest one. */
async function load(name: string): Promise<Command> {
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry === undefined) throw new UsageError(`unknown command ${name}${didYouMean(name, [...COMMANDS.map((c) => c.name), 'help', 'version'])}`);
  return entry.load();
}

const commandHelp = (cmd: Command): string => `${cmd.usage}\n\nExample:\n  ${cmd.example}\n`;

/** Node's parseArgs errors (unknown option, missing value, stray argument) as usage errors, an unknown option with the nearest known one. */
function usageErrorOf(name: string, cmd: Command, e: unknown): unknown {
  const code = e instanceof Error && 'code' in e ? e.code : undefined;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_') || !(e instanceof Error)) return e;
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(e.message)?.[1];
  if (unknown === undefined) return new UsageError(`${e.message.split('. ')[0] ?? e.message}; see oep help ${name}`);
  const known = [...new Set([...(cmd.usage.match(/--[a-z][a-z0-9-]*/g) ?? []), '--help', ...GLOBAL_OPTIONS])];
  return new UsageError(`unknown option ${unknown}${didYouMean(unknown, known)}; see oep help ${name}`);
}

/** The command running, for the prefix of its error line (`oep run: …`). */
let running: string | undefined;

async function main(argv: string[]): Promise<number | 'running'> {
  const [name, ...rest] = takeGlobalOptions(argv, process.env);
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? rest[0] : undefined;
    process.stdout.write(topic === undefined ? help() : commandHelp(await load(topic)));
    return EXIT.ok;
  }
  if (name === 'version' || name === '--version' || name === '-V') {
    process.stdout.write(version());
    return EXIT.ok;
  }
  if (name.startsWith('-'))
    throw new UsageError(`unknown option ${name}${didYouMean(name, ['--help', '--version', ...GLOBAL_OPTIONS])}; a command comes first (oep help)`);
  const cmd = await load(name);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(cmd));
    return EXIT.ok;
  }
  running = name;
  try {
    return await cmd.main(rest);
  } catch (e) {
    throw usageErrorOf(name, cmd, e);
  }
}

forwardedSignals();

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 'running') process.exit(code);
  },
  (e: unknown) => {
    const usage = e instanceof Error && USAGE_ERROR_NAMES.has(e.name);
    // A stack trace helps a developer, not a researcher: only at OEP_LOG_LEVEL=debug.
    const debug = process.env.OEP_LOG_LEVEL?.toLowerCase() === 'debug';
    const prefix = running !== undefined ? `oep ${running}:` : 'oep:';
    if (usage || !(e instanceof Error)) process.stderr.write(`${prefix} ${String(e instanceof Error ? e.message : e)}\n`);
    else process.stderr.write(`${prefix} ${debug ? (e.stack ?? e.message) : e.message}\n`);
    if (e instanceof UsageError && e.message.startsWith('unknown command ')) process.stderr.write('Run `oep help` for the list of commands.\n');
    process.exit(usage ? EXIT.usage : EXIT.failure);
  },
);
