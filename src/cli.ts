/**
 * `oep <command> …`: each command is one file, `src/commands/<command>.ts`, exporting `command`.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './config/schema.js';
import type { Command } from './commands/types.js';

const COMMANDS_DIR = new URL('./commands/', import.meta.url);
/** Helpers the commands share, not commands themselves. */
const NOT_COMMANDS = new Set(['types', 'shared', 'reader-options', 'progress']);

function commandNames(): string[] {
  return readdirSync(fileURLToPath(COMMANDS_DIR))
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .filter((n) => !NOT_COMMANDS.has(n))
    .sort();
}

async function load(name: string): Promise<Command | undefined> {
  if (!/^[a-z-]+$/.test(name) || NOT_COMMANDS.has(name) || !commandNames().includes(name)) return undefined;
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- a command module exports `command` (src/commands/types.ts)
  return ((await import(new URL(`${name}.js`, COMMANDS_DIR).href)) as { command: Command }).command;
}

async function help(): Promise<string> {
  const lines = ['oep: operando electrochemical pressiometry stream processor', '', 'Commands:'];
  for (const n of commandNames()) lines.push(`  oep ${n.padEnd(10)} ${(await load(n))?.summary ?? ''}`);
  lines.push('', '`oep <command> --help` shows its options.');
  lines.push('Environment: OEP_INFLUX_TOKEN, OEP_MQTT_USERNAME, OEP_MQTT_PASSWORD supply secrets the config leaves out;');
  lines.push('OEP_LOG_LEVEL = debug|info|warn|error.');
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number | 'running'> {
  const [name = 'demo', ...rest] = argv;
  if (name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(await help());
    return 0;
  }
  const cmd = await load(name);
  if (cmd === undefined) {
    process.stderr.write(`oep: unknown command ${name}\n\n${await help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.usage + '\n');
    return 0;
  }
  return cmd.main(rest);
}

// Started by bin/oep.js over an IPC channel: the channel closes when the launcher dies, even by SIGKILL
// (which it cannot forward); then stop as on SIGTERM, so no daemon runs on as an orphan. The channel
// alone does not keep the process alive.
if (process.channel !== undefined) {
  process.channel.unref();
  process.on('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 'running') process.exit(code);
  },
  (e: unknown) => {
    // A stack trace helps a developer, not a researcher: only at OEP_LOG_LEVEL=debug.
    const debug = process.env.OEP_LOG_LEVEL === 'debug';
    if (e instanceof ConfigError || !(e instanceof Error)) process.stderr.write(`oep: ${String(e instanceof Error ? e.message : e)}\n`);
    else process.stderr.write(`oep: ${debug ? (e.stack ?? e.message) : e.message}\n`);
    process.exit(e instanceof ConfigError ? 2 : 1);
  },
);
