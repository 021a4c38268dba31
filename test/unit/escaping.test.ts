/** Output integrity: no text can break a line of line protocol, credentials never reach a log line, state is private. */
import fc from 'fast-check';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertEvent } from '../../src/domain/alerts/incidents.js';
import { describe, expect, it } from 'vitest';
import { alertLine, escapeTag, lateLine, quoteField } from '../../src/adapters/line-protocol.js';
import { redactUrl } from '../../src/adapters/log.js';
import { STATE_DIR_MODE, STATE_FILE_MODE, StateStore } from '../../src/adapters/state-store.js';
import { Lab } from '../../src/domain/lab.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';

/** The parts of a line split at the spaces line protocol itself reads as separators (unescaped, outside a quoted field). */
function sections(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (c === '\\') {
      cur += c + line.charAt(i + 1);
      i++;
    } else if (c === '"' && out.length > 0) {
      // Quotes delimit string field values only: in the measurement and the tags a quote is a literal character.
      quoted = !quoted;
      cur += c;
    } else if (c === ' ' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** An incident-opening alert of a cell with any id and message. */
function alertOf(cell: string, message: string): AlertEvent {
  const incident = {
    id: `${cell}-silence-1`,
    kind: 'silence' as const,
    level: 'warning' as const,
    openedT: 1,
    openedCycle: 1,
    lastSeenT: 1,
    lastSeenCycle: 1,
    peak: 1,
    unit: 's',
    lastValue: 1,
    lastWarn: 2,
    recurrences: 0,
    silenced: false,
  };
  return {
    t: 1,
    cell,
    kind: 'silence',
    level: 'warning',
    previous: 'ok',
    value: 1,
    threshold: 2,
    unit: 's',
    message,
    action: 'open',
    incident,
    cycle: 1,
    silenced: false,
  };
}

/** Tags of the first section, split at unescaped commas. */
const tagsOf = (head: string): string[] => {
  // A backslash escapes the next character (itself included): `\\,` is an escaped backslash, then a separator.
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < head.length; i++) {
    const c = head.charAt(i);
    if (c === '\\') {
      cur += c + head.charAt(i + 1);
      i++;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.slice(1);
};

describe('line protocol escaping', () => {
  it('no text breaks a line: one line, three sections, the tags it was given', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (cell, message) => {
        const line = alertLine(alertOf(cell, message));
        expect(line).toBeDefined();
        // eslint-disable-next-line no-control-regex -- no control character may remain
        expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
        const parts = sections(line!);
        expect(parts).toHaveLength(3);
        expect(tagsOf(parts[0]!).map((t) => t.split(/(?<!\\)=/)[0])).toEqual(['cell', 'kind', 'level']);
        expect(parts[2]).toBe('1');
      }),
      { numRuns: 3_000 },
    );
  });

  it('spells out newline, CR and other controls; escapes separators', () => {
    expect(escapeTag('a\nb')).toBe('a\\nb');
    expect(escapeTag('a,b c=d')).toBe('a\\,b\\ c\\=d');
    expect(escapeTag('x\r\u0001\u0085')).toBe('x\\r\\u0001\\u0085');
    expect(quoteField('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
    // A quote in a tag is a literal character, not the start of a string (fast-check's seed 1298646199 found it).
    expect(sections(alertLine(alertOf('"', '')) ?? '')).toHaveLength(3);
    expect(lateLine({ cell: 'c\n1', channel: 'pressure', ts: 5, value: 1 }, 10)).toBe('oep_late,cell=c\\n1,channel=pressure value=1,behind_watermark_ms=5 5');
  });
});

describe('credentials', () => {
  it('are masked in URLs', () => {
    expect(redactUrl('mqtts://oep:s3cret@broker.lab:8883')).toBe('mqtts://***:***@broker.lab:8883');
    expect(redactUrl('http://db:8086/?token=abc&org=lab')).toBe('http://db:8086/?token=***&org=lab');
    expect(redactUrl('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
    expect(redactUrl('not a url //user:pw@host')).toBe('not a url //***@host');
  });
});

describe('state files', () => {
  it('are written for the daemon user alone (dir 0700, file 0600)', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'oep-mode-')), 'state');
    const cfg = parseConfig({});
    const store = new StateStore(dir);
    store.save(new Lab((id) => resolveCell(cfg, id)), { savedAt: 1, journal: { seq: 0, recent: [] } });
    expect(statSync(dir).mode & 0o777).toBe(STATE_DIR_MODE);
    expect(statSync(store.path).mode & 0o777).toBe(STATE_FILE_MODE);
  });
});
