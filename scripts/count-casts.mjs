#!/usr/bin/env node
// Counts type assertions (`x as T`, `<T>x`; `as const` excluded) and non-null assertions (`x!`) in .ts files,
// from the TypeScript AST so comments, strings and `import * as` never count.
// Usage: node scripts/count-casts.mjs [--list] <file-or-folder>...   (default: src pipelines)
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
const list = args.includes('--list');
const roots = args.filter((a) => a !== '--list');

/** @param {string} p @returns {string[]} */
function tsFiles(p) {
  if (statSync(p).isFile()) return p.endsWith('.ts') ? [p] : [];
  return readdirSync(p, { withFileTypes: true })
    .filter((d) => d.name !== 'node_modules' && d.name !== 'dist')
    .flatMap((d) => tsFiles(join(p, d.name)));
}

let casts = 0;
let nonNull = 0;
for (const file of (roots.length > 0 ? roots : ['src', 'pipelines']).flatMap(tsFiles)) {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  /** @param {ts.Node} n */
  const visit = (n) => {
    const isConst = ts.isAsExpression(n) && ts.isTypeReferenceNode(n.type) && n.type.getText(sf) === 'const';
    const kind = (ts.isAsExpression(n) || ts.isTypeAssertionExpression(n)) && !isConst ? 'cast' : ts.isNonNullExpression(n) ? 'non-null' : undefined;
    if (kind === 'cast') casts++;
    if (kind === 'non-null') nonNull++;
    if (kind !== undefined && list) {
      const { line } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
      console.log(`${file}:${line + 1}: ${kind}: ${n.getText(sf).slice(0, 100)}`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}
console.log(`casts ${casts}, non-null assertions ${nonNull}`);
