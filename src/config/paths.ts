/**
 * The config schema read as a tree of key paths: which keys an object takes (for "did you mean"), which
 * scalar a leaf expects (so `${VAR}` and `OEP_*` text becomes a number or a boolean where one is expected),
 * and every scalar leaf under the sections (the `OEP_<SECTION>_<KEY>` overrides).
 */
import { z } from 'zod';

export type LeafKind = 'number' | 'boolean' | 'string';
export type KeyPath = readonly (string | number)[];

/** The schema with optional/default/prefault/nullable wrappers taken off. */
function unwrap(s: z.ZodType): z.ZodType {
  let t = s;
  for (;;) {
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- zod types the inner schemas of a wrapper, object or array as any
    if (t instanceof z.ZodOptional || t instanceof z.ZodDefault || t instanceof z.ZodPrefault || t instanceof z.ZodNullable) t = t.unwrap() as z.ZodType;
    else return t;
  }
}

/** The schema at `path` (an array index steps into the element), or undefined if the path leaves the schema. */
export function schemaAt(root: z.ZodType, path: KeyPath): z.ZodType | undefined {
  let s: z.ZodType = unwrap(root);
  for (const k of path) {
    if (s instanceof z.ZodObject && typeof k === 'string') {
      // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- zod types the inner schemas of a wrapper, object or array as any
      const next = (s.shape as Record<string, z.ZodType | undefined>)[k];
      if (next === undefined) return undefined;
      s = unwrap(next);
    } else if (s instanceof z.ZodArray && typeof k === 'number') {
      // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- zod types the inner schemas of a wrapper, object or array as any
      s = unwrap(s.element as z.ZodType);
    } else return undefined;
  }
  return s;
}

/** The keys an object at `path` takes (empty when there is no object there). */
export function keysAt(root: z.ZodType, path: KeyPath): string[] {
  const s = schemaAt(root, path);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** What scalar a leaf expects: a number (also a union of number literals, as mqtt.qos), a boolean, or text. */
export function leafKind(s: z.ZodType): LeafKind | undefined {
  if (s instanceof z.ZodNumber) return 'number';
  if (s instanceof z.ZodBoolean) return 'boolean';
  if (s instanceof z.ZodUnion && s.options.every((o) => o instanceof z.ZodLiteral && typeof o.value === 'number')) return 'number';
  if (s instanceof z.ZodObject || s instanceof z.ZodArray || s instanceof z.ZodUnion) return undefined;
  return 'string';
}

/** Text from the environment as the leaf at `path` expects it ("12" → 12, "true" → true); unchanged if it does not fit. */
export function coerce(root: z.ZodType, path: KeyPath, text: string): string | number | boolean {
  const s = schemaAt(root, path);
  const kind = s === undefined ? undefined : leafKind(s);
  if (kind === 'number' && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  if (kind === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

/** Every scalar leaf of the objects under `root` (arrays are not entered: a list is not one variable). */
export function scalarLeaves(root: z.ZodType, prefix: readonly string[] = []): string[][] {
  const s = unwrap(root);
  if (!(s instanceof z.ZodObject)) return leafKind(s) !== undefined && prefix.length > 0 ? [[...prefix]] : [];
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- zod types the inner schemas of a wrapper, object or array as any
  return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) => scalarLeaves(v, [...prefix, k]));
}

/** `flushInterval_ms` → `FLUSH_INTERVAL_MS`: camelCase humps and underscores become one `_`, all upper case. */
export function envName(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/_+/g, '_')
    .toUpperCase();
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The closest of `candidates` to `word`, if close enough to be a typo (case ignored; at most a third of it wrong, and 3 edits). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (best === undefined || d < best.d) best = { c, d };
  }
  return best !== undefined && best.d <= Math.min(3, Math.max(1, Math.floor(word.length / 3))) ? best.c : undefined;
}
