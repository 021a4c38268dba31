/**
 * A lab larger than the launcher's heap cap holds: `oep run` says so at start, with the OEP_MAX_HEAP_MB to use
 * (10,000 cells ran out of memory under the default 128 MB cap and ran at 256 MB: README, Benchmark).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { heapAdvice } from '../../src/commands/run.js';
import { freePort } from '../support/services.js';

const OEP = fileURLToPath(new URL('../../bin/oep.js', import.meta.url));

describe('heap advice at start', () => {
  it('none for a lab the cap holds; the next 64 MB step that holds it otherwise', () => {
    expect(heapAdvice(2_000, 176)).toBeUndefined();
    expect(heapAdvice(10_000, 176)).toMatch(/10000 cells named need about 236 MB of heap, the limit is 176 MB: start with OEP_MAX_HEAP_MB=256/);
    expect(heapAdvice(10_000, 304)).toBeUndefined();
  });

  it('oep run with 10,000 cells named, through the launcher: one warning line naming OEP_MAX_HEAP_MB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-heap-'));
    const cfg = join(dir, 'oep.yaml');
    const cells = Array.from({ length: 10_000 }, (_, k) => `  - id: c${String(k)}\n`).join('');
    writeFileSync(cfg, `mqtt:\n  url: mqtt://127.0.0.1:${String(await freePort())}\ncells:\n${cells}`);
    const env = { ...process.env, OEP_MAX_HEAP_MB: undefined, NODE_OPTIONS: undefined };
    const r = spawnSync(process.execPath, [OEP, 'run', '--no-output', '--fail-fast', '--config', cfg], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status).toBe(1); // the broker is not there (--fail-fast)
    expect(r.stderr).toMatch(/WARN {2}heap: 10000 cells named need about 236 MB of heap, the limit is 17\d MB: start with OEP_MAX_HEAP_MB=256/);
    const big = spawnSync(process.execPath, [OEP, 'run', '--no-output', '--fail-fast', '--config', cfg], {
      encoding: 'utf8',
      env: { ...env, OEP_MAX_HEAP_MB: '256' },
      timeout: 60_000,
    });
    expect(big.stderr).not.toMatch(/heap:/);
  });
});
