/** Cells under control: which ids come in, the cap on unknown ones, their eviction; rejections create no cell. */
import { describe, expect, it } from 'vitest';
import { CellAdmission, globRegExp, type AdmissionSettings } from '../../src/domain/admission.js';
import { Lab } from '../../src/domain/lab.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';

const T = Date.UTC(2026, 0, 1);
const SETTINGS: AdmissionSettings = { configured: ['c1', 'c2'], cells: 'any', patterns: [], maxUnknown: 2, evictIdle_ms: 60_000 };

function lab(): Lab {
  const cfg = parseConfig({});
  return new Lab((id) => resolveCell(cfg, id));
}

describe('admission', () => {
  it('reads globs literally but for * and ?', () => {
    expect(globRegExp('cell-*').test('cell-07')).toBe(true);
    expect(globRegExp('cell-*').test('xcell-07')).toBe(false);
    expect(globRegExp('a?c').test('abc')).toBe(true);
    expect(globRegExp('a.c').test('abc')).toBe(false);
    expect(globRegExp('(x)+[y]').test('(x)+[y]')).toBe(true);
  });

  it('takes configured cells always, unknown ones up to the cap, and refuses the rest', () => {
    const a = new CellAdmission(SETTINGS);
    const l = lab();
    const events: never[] = [];
    const take = (id: string): string | undefined => {
      const r = a.check(id, l.cells);
      if (r === undefined) l.ingest(id, [{ cell: id, channel: 'current', ts: T, value: 1 }], T, events);
      return r;
    };
    expect(take('u1')).toBeUndefined();
    expect(take('u2')).toBeUndefined();
    expect(take('u3')).toBe('cell_limit');
    expect(take('u1')).toBeUndefined(); // holds state: still in
    expect(take('c1')).toBeUndefined(); // configured: never capped
    expect(a.unknownCount(l.cells)).toBe(2);
  });

  it('under `cells: configured` refuses unknown ids unless a pattern names them', () => {
    const a = new CellAdmission({ ...SETTINGS, cells: 'configured', patterns: ['rig-*'] });
    const l = lab();
    expect(a.check('c2', l.cells)).toBeUndefined();
    expect(a.check('rig-3', l.cells)).toBeUndefined();
    expect(a.check('stranger', l.cells)).toBe('cell_not_allowed');
  });

  it('forgets idle unknown cells that closed no step, and nothing else', () => {
    const a = new CellAdmission(SETTINGS);
    const l = lab();
    for (const id of ['c1', 'u1', 'u2']) l.ingest(id, [{ cell: id, channel: 'current', ts: T, value: 1 }], T, []);
    l.cells.get('u2')!.counters.steps = 1;
    expect(a.idle(l.cells, T + 59_999)).toEqual([]);
    expect(a.idle(l.cells, T + 60_000)).toEqual(['u1']);
  });

  it('a rejection creates no cell: it is counted without one', () => {
    const l = lab();
    l.reject('made-up', 'invalid_json');
    l.reject('made-up-2', 'invalid_json');
    expect(l.cells.size).toBe(0);
    expect(l.unattributed).toEqual({ invalid_json: 2 });
    l.ingest('c1', [{ cell: 'c1', channel: 'current', ts: T, value: 1 }], T, []);
    l.reject('c1', 'schema');
    expect(l.cells.get('c1')!.counters.rejected).toEqual({ schema: 1 });
  });
});
