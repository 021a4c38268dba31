/**
 * Where two decoded values differ, stricter than `toStrictEqual`: keys in the same order, `Object.is` on
 * numbers (-0 is not 0), the same class for every object (typed arrays byte for byte), holes kept apart
 * from undefined elements. Empty when they are the same.
 */
export function exactDiff(a: unknown, b: unknown, path = 'value'): string[] {
  if (Object.is(a, b)) return [];
  if (typeof a !== typeof b || typeof a !== 'object' || a === null || b === null || typeof b !== 'object') return [`${path}: ${show(a)} vs ${show(b)}`];
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return [`${path}: class ${a.constructor.name} vs ${b.constructor.name}`];
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const y = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    return x.equals(y) ? [] : [`${path}: ${a.constructor.name} bytes differ`];
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${path}: length ${a.length} vs ${b.length}`];
    const out: string[] = [];
    for (let i = 0; i < a.length; i++) {
      if (i in a !== i in b) out.push(`${path}[${i}]: hole vs element`);
      else out.push(...exactDiff(a[i], b[i], `${path}[${i}]`));
    }
    return out;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.join('\u0000') !== kb.join('\u0000')) return [`${path}: keys ${JSON.stringify(ka)} vs ${JSON.stringify(kb)}`];
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.flatMap((k) => exactDiff(ra[k], rb[k], `${path}.${k}`));
}

function show(v: unknown): string {
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}
