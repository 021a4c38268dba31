/**
 * The oep dashboards against Grafana's own schema types (`@grafana/schema`), see test/support/grafana-types.ts.
 *
 * Two levels, both under the project's strict compiler options:
 *  - {@link Widen}: what a `import d from 'x.json' with { type: 'json' }` can be checked against. TypeScript widens
 *    every string in a JSON module to `string` (and string enums are nominal), so this form checks structure, required
 *    properties and primitive types, but not enum values nor misspelled optional properties (an imported value gets
 *    no excess-property check).
 *  - {@link typecheckDashboardJson}: runs the TypeScript compiler on each dashboard's JSON text pasted as an object
 *    literal `satisfies Literalize<OepDashboard>`. A fresh literal keeps its literal types and gets excess-property
 *    checks, and {@link Literalize} turns Grafana's enums into the unions of their JSON values, so a misspelled key,
 *    an unknown enum value ("palette-clasic") or a missing required option is a compile error, per panel type.
 */
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export type { Literalize, OepDashboard, Widen } from './grafana-types.js';

// ---------------------------------------------------------------------------------------------------------
// The compiler run

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');

export interface DashboardSource {
  /** A label for messages, e.g. the file name. */
  readonly name: string;
  /** The dashboard JSON text. */
  readonly text: string;
}

export interface TypecheckResult {
  readonly name: string;
  /** Compiler diagnostics for this dashboard, `line:col message`, empty when it satisfies the types. */
  readonly errors: string[];
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(ROOT, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT);
  // The project's strict options, without node's types (not needed here) and without output.
  return { ...parsed.options, noEmit: true, types: [], declaration: false, sourceMap: false };
}

/**
 * Typechecks each dashboard JSON text as an object literal that `satisfies Literalize<OepDashboard>`, under the
 * project's tsconfig (strict, noUncheckedIndexedAccess). One compiler program for all dashboards.
 */
export function typecheckDashboardJson(dashboards: readonly DashboardSource[]): TypecheckResult[] {
  const options = compilerOptions();
  // Virtual files sit next to this module so that `./grafana-types.js` and `@grafana/schema` resolve as usual.
  const files = new Map<string, string>();
  const names = new Map<string, string>();
  dashboards.forEach((d, i) => {
    JSON.parse(d.text); // not JSON: fail here with JSON's own message
    const file = join(HERE, `__grafana_dashboard_${i}.ts`);
    files.set(
      file,
      `import type { Literalize, OepDashboard } from './grafana-types.js';\n\nexport const dashboard = ${d.text.trim()} satisfies Literalize<OepDashboard>;\n`,
    );
    names.set(file, d.name);
  });
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const text = files.get(resolve(fileName));
    return text !== undefined ? ts.createSourceFile(fileName, text, languageVersion, true) : getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  host.fileExists = (fileName) => files.has(resolve(fileName)) || fileExists(fileName);
  host.readFile = (fileName) => files.get(resolve(fileName)) ?? readFile(fileName);

  const program = ts.createProgram({ rootNames: [...files.keys()], options, host });
  const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  if (global.length > 0) throw new Error(ts.formatDiagnostics(global, host));
  const own = program.getSourceFile(join(HERE, 'grafana-types.ts'));
  const ownErrors = own === undefined ? [] : [...program.getSyntacticDiagnostics(own), ...program.getSemanticDiagnostics(own)];
  if (ownErrors.length > 0) throw new Error(ts.formatDiagnostics(ownErrors, host));

  return [...files.keys()].map((file) => {
    const sf = program.getSourceFile(file);
    if (sf === undefined) throw new Error(`compiler lost ${file}`);
    const diagnostics = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    const errors = diagnostics.map((d) => {
      const where =
        d.start === undefined
          ? ''
          : (() => {
              const { line, character } = sf.getLineAndCharacterOfPosition(d.start);
              return `${line - 1}:${character + 1} `; // the JSON starts on line 3 of the virtual file: JSON line = 0-based line - 1
            })();
      return `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    return { name: names.get(file) ?? relative(ROOT, file), errors };
  });
}
