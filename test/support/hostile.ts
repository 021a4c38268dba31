/**
 * Hostile MQTT messages, each with the one rejection reason the edge must give it: sizes (a payload over
 * the limit), depths (brackets nested to a million), batch and value counts, every JSON type, broken
 * encodings (invalid UTF-8, a BOM, NUL), bad timestamps and units, cell ids with control characters,
 * and made-up cell ids. Deterministic for a seed.
 */
import { DEFAULT_EDGE_LIMITS, MAX_BATCH_READINGS } from '../../src/ingest/payload.js';

export interface HostileMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** The rejection it must get, or 'accepted' for a valid reading of a made-up cell (admitted up to the cap). */
  readonly expect: string;
  /** How many rejections it makes (default 1). */
  readonly count?: number;
}

/** A small seeded generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHANNELS = ['pressure', 'current', 'voltage', 'step'] as const;
const B = (s: string): Buffer => Buffer.from(s, 'utf8');

/**
 * `n` light hostile messages (at most tens of kB each) for the topics of `cells` at event time `t0`, each
 * with its reason and how many rejections it makes (a batch of bad elements: one per element).
 */
export function hostileMessages(n: number, cells: readonly string[], t0: number, seed = 1): HostileMessage[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const size = (max: number): number => 1 + Math.floor(r() ** 3 * max);
  /** Random bytes without brackets, quotes or backslashes (they would change the reason), ending in an open brace. */
  const garbage = (): Buffer =>
    Buffer.from(
      Array.from({ length: size(2000) }, () => Math.floor(r() * 256))
        .map((b) => ([0x5b, 0x7b, 0x22, 0x5c, 0x5d, 0x7d, 0x2c].includes(b) ? 0x41 : b))
        .concat([0x7b]),
    );
  const kinds: readonly ((channel: string) => Omit<HostileMessage, 'topic'>)[] = [
    () => ({ payload: B('['.repeat(DEFAULT_EDGE_LIMITS.maxDepth + size(20_000))), expect: 'too_deep' }),
    () => ({ payload: B(`{"ts":${t0},"value":1,"x":${'{"a":'.repeat(DEFAULT_EDGE_LIMITS.maxDepth + size(1000))}1}`), expect: 'too_deep' }),
    () => ({ payload: garbage(), expect: 'invalid_json' }),
    () => ({ payload: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), B(`{"ts":${t0},"value":1}`)]), expect: 'invalid_json' }),
    () => ({ payload: Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x22]), expect: 'invalid_json' }),
    () => ({ payload: B(`{"ts":${t0},"value":${'9'.repeat(size(400))}`), expect: 'invalid_json' }),
    () => ({
      payload: B(pick(['true', 'null', '"text"', '{}', '{"ts":1}', `{"ts":${t0},"value":"1"}`, `{"ts":${t0},"value":1,"cycle":1.5}`])),
      expect: 'schema',
    }),
    () => {
      const count = size(50);
      return { payload: B(`[${Array.from({ length: count }, () => pick(['null', '"x"', '[]', '{}'])).join(',')}]`), expect: 'schema', count };
    },
    () => ({
      payload: B(`{"ts":${pick([Math.round(t0 / 1000), -1, 1e300, 4_200_000_000_000, '"yesterday"', '"2026-13-45"'])},"value":1}`),
      expect: 'bad_timestamp',
    }),
    (channel) => ({
      payload: B(`{"ts":${t0},"value":1,"unit":${JSON.stringify(pick(['psi', 'bar', '', 'x'.repeat(size(50_000))]))}}`),
      expect: channel === 'step' ? 'unit_not_for_channel' : 'unknown_unit',
    }),
    (channel) => ({ payload: B(`{"ts":${t0},"value":1,"unit":"${channel === 'current' ? 'V' : 'mA'}"}`), expect: 'unit_not_for_channel' }),
  ];
  return Array.from({ length: n }, () => {
    const channel = pick(CHANNELS);
    return { topic: `oep/${pick(cells)}/${channel}`, ...pick(kinds)(channel) };
  });
}

/** A few heavy ones (hundreds of kB to a MB): a million brackets, 150,000 empty objects, 450,000 values. */
export function heavyMessages(cell: string, t0: number): HostileMessage[] {
  const topic = `oep/${cell}/pressure`;
  return [
    { topic, payload: Buffer.alloc(1_000_000, 0x5b), expect: 'too_deep' },
    { topic, payload: B(`[${'{},'.repeat(MAX_BATCH_READINGS + 50_000)}{}]`), expect: 'batch_too_large' },
    { topic, payload: B(`{"ts":${t0},"value":1,"v":[${'0,'.repeat(DEFAULT_EDGE_LIMITS.maxValues + 50_000)}0]}`), expect: 'too_many_values' },
  ];
}

/** Cell ids the edge refuses: control characters (Mosquitto itself refuses these in a topic), too long. */
export const BAD_IDS: readonly string[] = ['a\nb', 'c\r', 'tab\t1', 'bell\u0007', 'del\u007f', 'nel\u0085', 'x'.repeat(200)];

/** Messages on topics whose cell id the edge refuses. */
export function badIdMessages(n: number, t0: number, ids: readonly string[] = BAD_IDS): HostileMessage[] {
  return Array.from({ length: n }, (_, k) => ({
    topic: `oep/${ids[k % ids.length] ?? ''}/current`,
    payload: B(`{"ts":${t0},"value":1}`),
    expect: 'bad_cell_id',
  }));
}

/** One valid reading each for `n` made-up cell ids (a flood of strangers). */
export function strangerMessages(n: number, t0: number, prefix = 'stranger'): HostileMessage[] {
  return Array.from({ length: n }, (_, k) => ({ topic: `oep/${prefix}-${k}/current`, payload: B(`{"ts":${t0 + k},"value":0.5}`), expect: 'accepted' }));
}

/** A payload just over the size limit, on a real cell's topic. */
export function oversized(cell: string): HostileMessage {
  return { topic: `oep/${cell}/pressure`, payload: Buffer.alloc(DEFAULT_EDGE_LIMITS.maxMessageBytes + 1, 0x5b), expect: 'too_large' };
}
