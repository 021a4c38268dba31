/**
 * The compact batch read straight from the bytes (src/ingest/compact-batch.ts) gives exactly what the
 * general path (prescan, JSON.parse, schema) gives for the same payload: the same readings, bit for bit,
 * and for anything it does not take whole (a timestamp out of range, a number JSON reads as Infinity,
 * whitespace, other keys, a batch at the limits), the general path's own readings and rejections. The general
 * path is reached by handing the payload as a plain Uint8Array (the compact reader takes Buffers only).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCompactBatch } from '../../src/ingest/compact-batch.js';
import { type CellIngestSettings } from '../../src/ingest/canonical.js';
import { DEFAULT_EDGE_LIMITS, parseMessage, type EdgeOptions } from '../../src/ingest/payload.js';

const settings: CellIngestSettings = { areaMm2: 132.7, currentSign: -1, defaultPressureUnit: 'kgf', defaultCurrentUnit: 'A', defaultVoltageUnit: 'mV' };

function both(text: string, channel = 'pressure', edge: EdgeOptions = {}): { fast: unknown; general: unknown } {
  const topic = `oep/c1/${channel}`;
  const fast = parseMessage(topic, Buffer.from(text), 1, 'oep', () => settings, edge);
  const general = parseMessage(topic, new Uint8Array(Buffer.from(text)), 1, 'oep', () => settings, edge);
  return { fast, general };
}

/** A JSON number's text, as a device might print it. */
const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => JSON.stringify(v)),
  fc.integer({ min: 946_684_800_000 - 5, max: 4_102_444_800_000 + 5 }).map(String),
  fc.constantFrom('0', '-0', '1e3', '1E+3', '2.5e-3', '-0.0', '1e400', '-1e400', '12345678901234567', '1767225600000.5', '9007199254740993'),
  // Decimals as sensors print them, around the 17 significant digits decimal.ts reads (more: by Number).
  fc
    .tuple(fc.boolean(), fc.stringMatching(/^(0|[1-9][0-9]{0,9})$/), fc.stringMatching(/^[0-9]{1,10}$/))
    .map(([neg, int, frac]) => `${neg ? '-' : ''}${int}.${frac}`),
  fc.constantFrom('0.1', '0.3', '0.65', '-0.65', '15.00000000000001', '99999999999999.9', '0.000000000000001', '9.999999999999999', '1767225600000.25'),
);
const element = fc.tuple(numberText, numberText).map(([ts, value]) => `{"ts":${ts},"value":${value}}`);

describe('compact batch', () => {
  it('gives what the general path gives, for any compact batch of any numbers', () => {
    fc.assert(
      fc.property(fc.array(element, { minLength: 1, maxLength: 12 }), fc.constantFrom('pressure', 'current', 'voltage', 'step'), (els, channel) => {
        const { fast, general } = both(`[${els.join(',')}]`, channel);
        expect(fast).toEqual(general);
        // Object.is on every number (toEqual treats -0 and 0 alike)
        expect(JSON.stringify(fast, (_k, v: unknown) => (Object.is(v, -0) ? '-0' : v))).toBe(
          JSON.stringify(general, (_k, v: unknown) => (Object.is(v, -0) ? '-0' : v)),
        );
      }),
      { numRuns: 2_000 },
    );
  });

  it('reads the batch itself, and leaves anything else to the general path with the same outcome', () => {
    const ok = '[{"ts":1767225600000,"value":15.123},{"ts":1767225601000,"value":-0.65}]';
    expect(readCompactBatch(Buffer.from(ok), DEFAULT_EDGE_LIMITS, 100)?.n).toBe(2);
    const others = [
      '[{"ts": 1767225600000,"value":1}]',
      '[{"value":1,"ts":1767225600000}]',
      '[{"ts":1767225600000,"value":1,"unit":"MPa"}]',
      '[{"ts":1767225600000,"value":1}] ',
      '[{"ts":1767225600000,"value":1},]',
      '[{"ts":1767225600000,"value":01}]',
      '[{"ts":1767225600000,"value":1.}]',
      '[{"ts":1767225600000,"value":-}]',
      '[{"ts":"2026-01-01T00:00:00Z","value":1}]',
      '[{"ts":1767225600,"value":1}]',
      '[{"ts":1767225600000,"value":1e999}]',
      '[]',
      '{"ts":1767225600000,"value":1}',
      '[{"ts":1767225600000,"value":1}',
    ];
    for (const text of others) {
      expect(readCompactBatch(Buffer.from(text), DEFAULT_EDGE_LIMITS, 100), text).toBeUndefined();
      const { fast, general } = both(text);
      expect(fast, text).toEqual(general);
    }
  });

  it('leaves a batch at the limits to the general path (its rejection)', () => {
    const els = Array.from({ length: 5 }, (_, k) => `{"ts":${1767225600000 + k},"value":${k}}`);
    const text = `[${els.join(',')}]`;
    for (const limits of [
      { ...DEFAULT_EDGE_LIMITS, maxBatch: 4 },
      { ...DEFAULT_EDGE_LIMITS, maxBatch: 5 },
      { ...DEFAULT_EDGE_LIMITS, maxValues: 8 },
      { ...DEFAULT_EDGE_LIMITS, maxValues: 9 },
      { ...DEFAULT_EDGE_LIMITS, maxMessageBytes: text.length - 1 },
    ]) {
      const { fast, general } = both(text, 'pressure', { limits });
      expect(fast).toEqual(general);
    }
  });
});
