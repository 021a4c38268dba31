import { describe, expect, it } from 'vitest';
import { durationSeconds } from '../../src/commands/silence.js';
import { ALL_CELLS } from '../../src/domain/lab.js';
import { isControlTopic, parseSilence, silencePayloadFor, silenceTopic } from '../../src/ingest/control.js';

const bytes = (s: string): Uint8Array => Buffer.from(s);

describe('control topics: maintenance silence', () => {
  it('tells control topics from readings and reads a silence for one cell or all', () => {
    expect(isControlTopic('oep', 'oep/cell-1/control/silence')).toBe(true);
    expect(isControlTopic('oep', 'oep/control/silence')).toBe(true);
    expect(isControlTopic('oep', 'oep/cell-1/pressure')).toBe(false);
    expect(isControlTopic('oep', 'lab/cell-1/control/silence')).toBe(false);
    const until = Date.UTC(2026, 0, 1, 12);
    expect(parseSilence('oep', silenceTopic('oep', 'c1'), bytes(silencePayloadFor(until, 'press')))).toEqual({
      target: 'c1',
      until_ms: until,
      reason: 'press',
    });
    expect(parseSilence('oep', silenceTopic('oep'), bytes(JSON.stringify({ until })))).toEqual({ target: ALL_CELLS, until_ms: until, reason: undefined });
    // an empty (cleared retained) payload ends it
    expect(parseSilence('oep', silenceTopic('oep', 'c1'), bytes(''))).toEqual({ target: 'c1', until_ms: 0, reason: undefined });
    expect(parseSilence('oep', silenceTopic('oep', 'c1'), bytes('{"for": 3600}'))).toHaveProperty('error');
    expect(parseSilence('oep', silenceTopic('oep', 'c1'), bytes('soon'))).toHaveProperty('error');
  });

  it('reads durations', () => {
    expect([durationSeconds('90'), durationSeconds('90s'), durationSeconds('30m'), durationSeconds('2h'), durationSeconds('1.5d')]).toEqual([
      90, 90, 1800, 7200, 129600,
    ]);
    expect(() => durationSeconds('2 weeks')).toThrow(/duration/);
    expect(() => durationSeconds('0s')).toThrow(/duration/);
  });
});
