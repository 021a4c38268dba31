/**
 * `oep <command> …`: each command is one file, `src/commands/<command>.ts`, exporting `command`, and one
 * line in `src/commands/index.ts`.
 */
import { COMMANDS } from './commands/index.js';
import { ConfigError } from './config/schema.js';
import type { Command } from './commands/types.js';

async function load(name: string): Promise<Command | undefined> {
  return COMMANDS.find((c) => c.name === name)?.load();
}

function help(): string {
  const lines = ['oep: operando electrochemical pressiometry stream processor', '', 'Commands:'];
  for (const c of COMMANDS) lines.push(`  oep ${c.name.padEnd(9)} ${c.summary}`);
  lines.push('', '`oep <command> --help` shows its options.');
  lines.push('Secrets the config leaves out come from the environment:');
  lines.push('  OEP_INFLUX_TOKEN, OEP_MQTT_USERNAME, OEP_MQTT_PASSWORD.');
  lines.push('Log level: OEP_LOG_LEVEL = debug|info|warn|error.');
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number | 'running'> {
  const [name = 'demo', ...rest] = argv;
  if (name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help());
    return 0;
  }
  const cmd = await load(name);
  if (cmd === undefined) {
    process.stderr.write(`oep: unknown command ${name}\n\n${help()}`);
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
