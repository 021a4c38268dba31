#!/usr/bin/env node
/**
 * Fails on an import cycle between our own modules, type-only imports included (ESLint's import-x/no-cycle
 * skips those, and a type-only cycle still ties two modules together: the daemon and its health source
 * once imported each other that way). Reads every .ts file under src/, pipelines/ and bench/, follows
 * relative `import … from` / `export … from` / `import('…')` specifiers (`./x.js` → `./x.ts`), and prints
 * each cycle found (strongly connected components of more than one module, or a module importing itself).
 *
 *   node scripts/check-cycles.mjs [dir ...]
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const dirs = process.argv.length > 2 ? process.argv.slice(2) : ['src', 'pipelines', 'bench'];

function* tsFiles(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* tsFiles(p);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) yield p;
  }
}

const SPECIFIER = /(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function resolveSpecifier(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  for (const p of [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) if (existsSync(p)) return p;
  return undefined;
}

const graph = new Map();
for (const d of dirs) {
  const abs = resolve(ROOT, d);
  if (!existsSync(abs)) continue;
  for (const f of tsFiles(abs)) {
    const text = readFileSync(f, 'utf8');
    const deps = new Set();
    for (const m of text.matchAll(SPECIFIER)) {
      const target = resolveSpecifier(f, m[1] ?? m[2]);
      if (target !== undefined) deps.add(target);
    }
    graph.set(f, deps);
  }
}

// Tarjan's strongly connected components, iterative (no recursion limit on deep graphs).
let index = 0;
const idx = new Map();
const low = new Map();
const onStack = new Set();
const stack = [];
const cycles = [];
for (const start of graph.keys()) {
  if (idx.has(start)) continue;
  const work = [[start, [...(graph.get(start) ?? [])], 0]];
  idx.set(start, index);
  low.set(start, index++);
  stack.push(start);
  onStack.add(start);
  while (work.length > 0) {
    const frame = work[work.length - 1];
    const [v, deps] = frame;
    if (frame[2] < deps.length) {
      const w = deps[frame[2]++];
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        idx.set(w, index);
        low.set(w, index++);
        stack.push(w);
        onStack.add(w);
        work.push([w, [...(graph.get(w) ?? [])], 0]);
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
      continue;
    }
    work.pop();
    if (work.length > 0) {
      const parent = work[work.length - 1][0];
      low.set(parent, Math.min(low.get(parent), low.get(v)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.has(v)) cycles.push(scc);
    }
  }
}

if (cycles.length > 0) {
  console.error(`check-cycles: ${cycles.length} import cycle(s) (type-only imports count too):`);
  for (const c of cycles)
    console.error(
      `  ${c
        .map((f) => relative(ROOT, f))
        .sort()
        .join(' ↔ ')}`,
    );
  process.exit(1);
}
console.log(`check-cycles: no import cycle among ${graph.size} modules under ${dirs.join(', ')}`);
