/**
 * Runs a TypeScript entry point of this repository in a child Node process, without a build: a module
 * hook transpiles `.ts` on load (TypeScript's `transpileModule`, no type check) and resolves the `.js`
 * specifiers of the sources to their `.ts` files. Used where a test must kill a real process (SIGKILL
 * mid-file) and start it again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HOOKS = `
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
let ts;
export async function initialize(data) { ts = (await import(data.typescript)).default; }
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (specifier.endsWith('.js') && (specifier.startsWith('.') || specifier.startsWith('file:') || specifier.startsWith('/'))) {
      return next(specifier.slice(0, -3) + '.ts', context);
    }
    throw e;
  }
}
export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const source = readFileSync(fileURLToPath(url), 'utf8');
  const out = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false, inlineSourceMap: true },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
`;

const typescriptUrl = pathToFileURL(createRequire(import.meta.url).resolve('typescript')).href;
const REGISTER =
  `import { register } from 'node:module';` +
  `register(${JSON.stringify('data:text/javascript,' + encodeURIComponent(HOOKS))}, { parentURL: ${JSON.stringify(import.meta.url)}, data: { typescript: ${JSON.stringify(typescriptUrl)} } });`;

/** Node arguments that make `node <these> file.ts` run a TypeScript file of this repository. */
export const TS_NODE_ARGS: readonly string[] = ['--import', 'data:text/javascript,' + encodeURIComponent(REGISTER)];

/** Spawns `node file.ts args…` (path relative to the repository root). */
export function spawnTs(file: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; stdio?: 'pipe' | 'inherit' } = {}): ChildProcess {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  return spawn(process.execPath, [...TS_NODE_ARGS, root + file, ...args], { cwd: root, env: { ...process.env, ...opts.env }, stdio: opts.stdio ?? 'pipe' });
}
