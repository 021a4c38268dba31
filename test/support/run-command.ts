/**
 * Child-process entry for tests: `node <ts hooks> test/support/run-command.ts <command> args…` runs one
 * `oep` command from its TypeScript source, as the CLI would (exit code = what `main` resolves to).
 */
const [name, ...args] = process.argv.slice(2);
if (name === undefined || !/^[a-z-]+$/.test(name)) {
  process.stderr.write('usage: run-command.ts <command> [args…]\n');
  process.exit(2);
}
const { command } = (await import(`../../src/commands/${name}.js`)) as { command: import('../../src/commands/types.js').Command };
try {
  const code = await command.main(args);
  if (code !== 'running') process.exit(code);
} catch (e) {
  process.stderr.write(`oep ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
