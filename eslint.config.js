// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** Every TypeScript file is on the strict rule set (issue 8); tests relax three rules (the block for test/**). */
const STRICT = ['**/*.ts'];

/** Rules on top of `strictTypeChecked` and `stylisticTypeChecked` for the strict files. */
const strictRules = {
  '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
  '@typescript-eslint/no-non-null-assertion': 'error',
  // stylistic's preference for `x!` over `x as T` contradicts the two rules around it: both are reported, neither is preferred.
  '@typescript-eslint/non-nullable-type-assertion-style': 'off',
  // A cast is kept only with a reason: `// eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- why`.
  '@typescript-eslint/consistent-type-assertions': ['error', { assertionStyle: 'never' }],
  'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }],
  // Numbers and booleans in template literals are what reports and messages are made of.
  '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
};

/** Where imports may go (whole repo). Paths resolve through TypeScript, so `./x.js` finds `./x.ts`. */
const boundaries = [
  // Domain code is pure: nothing of ours outside src/domain ...
  { target: './src/domain', from: './src', except: ['./domain'], message: 'src/domain imports nothing of ours outside src/domain' },
  { target: './src/domain', from: ['./pipelines', './bench', './test', './bin'], message: 'src/domain imports nothing of ours outside src/domain' },
  // ... adapters serve the pipelines, never the other way round ...
  { target: './src/adapters', from: './pipelines', message: 'adapters must not import pipelines/' },
  // ... and only the CLI (src/cli.ts, src/commands) composes the pipelines.
  { target: './src/!(commands|cli.ts)/**', from: './pipelines', message: 'only src/commands and src/cli.ts import pipelines/' },
  { target: './src/!(cli).ts', from: './pipelines', message: 'only src/commands and src/cli.ts import pipelines/' },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'out/', 'scripts/', 'bin/', 'eslint*.config.{js,mjs}'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked.map((c) => ({ ...c, files: STRICT })),
  ...tseslint.configs.stylisticTypeChecked.map((c) => ({ ...c, files: STRICT })),
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-restricted-paths': ['error', { zones: boundaries }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  { files: STRICT, rules: strictRules },
  {
    // Tests state what they set up: a non-null assertion or a cast on known test data says so, a
    // describe block runs as long as its cases, and teardown guards (`broker?.stop()`) cover a setup
    // that failed halfway, which the declared types do not know. Production code gets none of these.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/consistent-type-assertions': 'off',
      'max-lines-per-function': 'off',
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
    linterOptions: { reportUnusedDisableDirectives: 'off' },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      // Domain code must stay pure: no I/O or stream library below src/domain.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'net', 'http', 'mqtt', '@influxdata/*', 'aedes', 'rxjs'], message: 'domain code is pure: no I/O or stream imports' },
          ],
        },
      ],
    },
  },
);
