/**
 * A lab larger than the launcher's heap cap holds (10,000 cells ran out of memory under the default 128 MB
 * cap and ran at 256 MB: README, Benchmark): `oep run` asks the launcher to start it again with a heap that
 * holds the cells named and the unknown ones the edge admits (`edge.maxUnknownCells`), unless the user chose the cap (OEP_MAX_HEAP_MB): then it warns with the value to use.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { heapAdvice, heapNeed, labSize } from '../../src/commands/run.js';
import { parseConfig } from '../../src/config/schema.js';
import { freePort } from '../support/services.js';

const OEP = fileURLToPath(new URL('../../bin/oep.js', import.meta.url));

describe('a heap that holds the lab', () => {
  it('no need for a lab the cap holds; the next 64 MB step that holds it otherwise', () => {
    expect(heapNeed(2_000, 176)).toBeUndefined();
    const n = heapNeed(10_000, 176);
    expect(n?.suggest_MB).toBe(256);
    expect(n && heapAdvice({ named: 10_000, unknown: 0 }, n)).toMatch(
      /10000 cells named need about 236 MB of heap, the limit is 176 MB: start with OEP_MAX_HEAP_MB=256/,
    );
    expect(heapNeed(10_000, 304)).toBeUndefined();
  });

  it('counts the cells the edge admits without a name at their cap, unless it admits only the cells named', () => {
    const cells = [{ id: 'a' }, { id: 'b' }];
    expect(labSize(parseConfig({ cells }))).toEqual({ named: 2, unknown: 256 });
    expect(labSize(parseConfig({ cells, edge: { cells: 'configured' } }))).toEqual({ named: 2, unknown: 0 });
    expect(labSize(parseConfig({ cells, edge: { cells: 'configured', patterns: ['^b[0-9]+$'] } }))).toEqual({ named: 2, unknown: 256 });
    // A lab that names no cell but lets 20,000 in: what ran out of memory at the 128 MB cap.
    const lab = labSize(parseConfig({ edge: { maxUnknownCells: 20_000 } }));
    const n = heapNeed(lab.named + lab.unknown, 152);
    expect(n?.suggest_MB).toBe(448);
    expect(n && heapAdvice(lab, n)).toMatch(
      /heap: 0 cells named and up to 20000 others \(edge.maxUnknownCells\) need about 412 MB of heap, the limit is 152 MB/,
    );
  });

  const run = async (env: NodeJS.ProcessEnv) => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-heap-'));
    const cfg = join(dir, 'oep.yaml');
    const cells = Array.from({ length: 10_000 }, (_, k) => `  - id: c${String(k)}\n`).join('');
    writeFileSync(cfg, `mqtt:\n  url: mqtt://127.0.0.1:${String(await freePort())}\ncells:\n${cells}`);
    const base = { ...process.env, OEP_MAX_HEAP_MB: undefined, NODE_OPTIONS: undefined, OEP_LOG_LEVEL: 'debug' };
    return spawnSync(process.execPath, [OEP, 'run', '--no-output', '--fail-fast', '--config', cfg], {
      encoding: 'utf8',
      env: { ...base, ...env },
      timeout: 60_000,
    });
  };

  it('oep run with 10,000 cells named, through the launcher: starts again with a 256 MB heap, once', async () => {
    const r = await run({});
    expect(r.status).toBe(1); // the broker is not there (--fail-fast), in the second start
    expect(
      r.stderr.match(
        /INFO {2}heap: 10000 cells named and up to 256 others \(edge.maxUnknownCells\) need about 240 MB; starting again with a 256 MB heap \(OEP_MAX_HEAP_MB chooses\)/g,
      ),
    ).toHaveLength(1);
    expect(r.stderr.match(/INFO {2}config: /g)).toHaveLength(2);
    expect(r.stderr).not.toMatch(/WARN {2}heap:/);
  });

  it('a cap the user chose is kept: one warning naming the OEP_MAX_HEAP_MB to use', async () => {
    const r = await run({ OEP_MAX_HEAP_MB: '128' });
    // V8's limit: the 128 MB old space + 3 × the launcher's 8 MB semi-space (bin/oep.js, SEMI_SPACE_MB).
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /WARN {2}heap: 10000 cells named and up to 256 others \(edge.maxUnknownCells\) need about 240 MB of heap, the limit is 152 MB: start with OEP_MAX_HEAP_MB=256/,
    );
    expect(r.stderr).not.toMatch(/starting again/);
    expect((await run({ OEP_MAX_HEAP_MB: '256' })).stderr).not.toMatch(/heap:/);
  });
});
