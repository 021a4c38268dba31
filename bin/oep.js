#!/usr/bin/env node
// Launcher. The compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
//
// A daemon that runs for weeks gets a bounded heap: V8 otherwise lets garbage grow the old space far
// beyond the live data (measured: live heap 26-59 MB, RSS over 300 MB unbounded, under 200 MB with a
// 128 MB old space, `npm run bench`). The flag can only be given at start-up, so the launcher starts
// the CLI in a child process with it, unless the caller already chose one (node --max-old-space-size,
// NODE_OPTIONS) or set OEP_MAX_HEAP_MB=0.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('oep: dist/ is missing; run `npm ci` (or `npm run build`) in the oep folder first');
  process.exit(1);
}
const heapMb = Number(process.env.OEP_MAX_HEAP_MB ?? 128);
const chosen = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('max-old-space-size'));
if (chosen || !(heapMb > 0)) {
  await import(cli);
} else {
  // An IPC channel ties the child to the launcher: if the launcher dies, even by SIGKILL, the channel
  // closes and the child shuts down in order (src/cli.ts, 'disconnect'), so no daemon is left orphaned.
  const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, cli, ...process.argv.slice(2)], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
  // The child handles SIGINT/SIGTERM (one orderly shutdown); forward what only the launcher received.
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
