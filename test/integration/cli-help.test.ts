/**
 * `oep --help` through the real launcher (bin/oep.js, from dist/ built by `npm test`): every command listed
 * with its line, at most 80 columns; helper modules of src/commands are not commands.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';

const OEP = fileURLToPath(new URL('../../bin/oep.js', import.meta.url));
const oep = (...args: string[]) => spawnSync(process.execPath, [OEP, ...args], { encoding: 'utf8' });

describe('oep --help', () => {
  it('lists every command with its summary, in 80 columns', () => {
    const r = oep('--help');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    for (const c of COMMANDS) expect(lines).toContain(`  oep ${c.name.padEnd(9)} ${c.summary}`);
    expect(lines.filter((l) => l.startsWith('  oep '))).toHaveLength(COMMANDS.length);
  });

  it('a helper module is not a command: usage error, exit 2', () => {
    const r = oep('process-batch');
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('oep: unknown command process-batch');
  });

  it("each command's own help comes from its module", () => {
    for (const c of COMMANDS) {
      const r = oep(c.name, '--help');
      expect(r.status, c.name).toBe(0);
      expect(r.stdout, c.name).toContain(`oep ${c.name}`);
    }
  });
});
