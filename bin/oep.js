#!/usr/bin/env node
// Launcher. The compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
//
// A daemon that runs for weeks gets a bounded heap: V8 otherwise lets garbage grow the old space far
// beyond the live data (measured: live heap 26-59 MB, RSS over 300 MB unbounded, under 200 MB with a
// 128 MB old space, `npm run bench`). The flag can only be given at start-up, so for the long-running
// commands (run, demo, follow) the launcher starts the CLI in a child process with it, unless the caller
// already chose one (node --max-old-space-size, NODE_OPTIONS) or set OEP_MAX_HEAP_MB=0. Every other
// command (help, version, process, report, ...) runs in this process: no second Node start-up.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('oep: dist/ is missing; run `npm ci` (or `npm run build`) in the oep folder first');
  process.exit(1);
}
const LONG_RUNNING = new Set(['run', 'demo', 'follow']);
/**
 * V8's young generation: two semi-spaces, up to 16 MB each on 64-bit, which a busy daemon fills and keeps
 * resident. At 8 MB each the daemon's peak RSS fell 14-16 MB at 100 and 1,000 cells, CPU per reading within
 * the noise (median of 7 interleaved pairs: +4 % at 100 cells, -1 % at 1,000); at 4 MB, 2-9 MB less again but
 * +11 % CPU at 1,000 cells; 12 MB saved nothing (README, Benchmark). Unless the caller chose a semi-space size.
 */
const SEMI_SPACE_MB = 8;
/** The global options that take a value (src/commands/log-options.ts), skipped to find the command. */
const GLOBAL_WITH_VALUE = new Set(['--log-level', '--log-format']);

/** The command name (the first argument that is neither an option nor a global option's value), and whether help was asked. */
function commandOf(args) {
  let name;
  for (let i = 0; i < args.length && name === undefined; i++) {
    if (GLOBAL_WITH_VALUE.has(args[i])) i++;
    else if (!args[i].startsWith('-')) name = args[i];
  }
  return { name, help: args.includes('--help') || args.includes('-h') };
}

const args = process.argv.slice(2);
const { name, help } = commandOf(args);
const heapMb = Number(process.env.OEP_MAX_HEAP_MB ?? 128);
const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''];
const chosen = given.some((a) => a.includes('max-old-space-size'));
const semiSpace = given.some((a) => a.includes('semi-space-size')) ? [] : [`--max-semi-space-size=${SEMI_SPACE_MB}`];
if (!LONG_RUNNING.has(name) || help || chosen || !(heapMb > 0)) {
  await import(cli);
} else {
  const { spawn } = await import('node:child_process');
  // A lab larger than the cap holds: `oep run` asks over the channel for a larger heap (src/commands/run.ts,
  // heapNeed) and exits; the launcher starts it again with that cap, unless the user chose one (OEP_MAX_HEAP_MB).
  const userChose = process.env.OEP_MAX_HEAP_MB !== undefined;
  let child;
  const start = (mb) => {
    // An IPC channel ties the child to the launcher: if the launcher dies, even by SIGKILL, the channel
    // closes and the child shuts down in order (src/commands/signals.ts), so no daemon is left orphaned.
    const env = mb === heapMb ? process.env : { ...process.env, OEP_HEAP_RAISED_MB: String(mb) };
    child = spawn(process.execPath, [`--max-old-space-size=${mb}`, ...semiSpace, cli, ...args], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env });
    let raiseTo;
    child.on('message', (m) => {
      if (!userChose && typeof m?.oepHeapMb === 'number' && m.oepHeapMb > mb) raiseTo = m.oepHeapMb;
    });
    child.on('exit', (code, signal) => {
      if (raiseTo !== undefined && code === 0 && !stopping) start(raiseTo);
      else process.exit(code ?? (signal ? 1 : 0));
    });
  };
  let stopping = false;
  start(heapMb);
  // A Ctrl-C reaches the child too (same process group); a `kill` may have reached only the launcher. The
  // signal goes over the channel, so the child sees one shutdown request, not two (src/commands/signals.ts).
  for (const sig of ['SIGINT', 'SIGTERM'])
    process.on(sig, () => {
      stopping = true;
      if (child.connected) child.send({ oepSignal: sig }, () => {});
      else child.kill(sig);
    });
}
