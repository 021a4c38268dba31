/**
 * A cheap look at a JSON payload's raw bytes before `JSON.parse` builds anything: its nesting depth, the
 * number of elements of a top-level array, and the number of values overall. `JSON.parse` of an array
 * nested 3 M deep, or of 3 M empty objects (6–9 MB), exhausts the heap before any check on the parsed value
 * could run; one pass over the bytes with three counters cannot.
 *
 * The scan only tracks brackets, commas and string quotes (UTF-8 never puts these bytes inside a multi-byte
 * character). It does not validate JSON: `JSON.parse` still does, on payloads the scan let through.
 */

/** Bounds on a payload's structure (see {@link prescanJson}). */
export interface JsonLimits {
  /** Deepest nesting of arrays and objects. */
  readonly maxDepth: number;
  /** Most elements of a top-level array (a batch). */
  readonly maxBatch: number;
  /** Most values (array elements and object members) at every depth together. */
  readonly maxValues: number;
}

/** Why the scan refused a payload, with what it counted when it stopped. */
export type PrescanRefusal =
  { readonly reason: 'too_deep'; readonly depth: number } | { readonly reason: 'batch_too_large' | 'too_many_values'; readonly count: number };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Scans `bytes` (a JSON text) and returns why it exceeds `limits`, or undefined when it stays within them.
 * Stops at the first bound crossed, so its cost is at most one pass over the payload.
 */
export function prescanJson(bytes: Uint8Array, limits: JsonLimits): PrescanRefusal | undefined {
  let depth = 0;
  let inString = false;
  let topCommas = 0;
  let values = 0;
  let topIsArray = false;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
      continue;
    }
    if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
      if (depth === 0) topIsArray = b === OPEN_ARRAY;
      if (++depth > limits.maxDepth) return { reason: 'too_deep', depth };
    } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
      depth--;
    } else if (b === COMMA) {
      if (++values > limits.maxValues) return { reason: 'too_many_values', count: values };
      // n commas at the top of an array separate n + 1 elements
      if (depth === 1 && topIsArray && ++topCommas >= limits.maxBatch) return { reason: 'batch_too_large', count: topCommas + 1 };
    }
  }
  return undefined;
}
