/**
 * Finds, reads and validates the configuration file (YAML or JSON). The only config I/O.
 *
 * Which file: `--config <file>`, else `$OEP_CONFIG`, else `./oep.yaml`, else `/etc/oep/oep.yaml`. Then
 * `${VAR}` substitution and `OEP_<SECTION>_<KEY>` overrides (env.ts), then the schema.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { applyOverrides, substitute, type Env, type OverrideReport } from './env.js';
import { ConfigError, configSchema, parseConfig, type OepConfig } from './schema.js';

/** The files looked for, in order, when neither `--config` nor `$OEP_CONFIG` names one. */
export const DISCOVERED_CONFIG_FILES: readonly string[] = ['oep.yaml', '/etc/oep/oep.yaml'];

export interface ConfigChoice {
  readonly file: string;
  /** Why this file: `--config`, `$OEP_CONFIG`, or `found` (the first of DISCOVERED_CONFIG_FILES that exists). */
  readonly from: '--config' | '$OEP_CONFIG' | 'found';
}

/** The file to read, by the order above; a ConfigError names every place looked at when there is none. */
export function chooseConfigFile(flag: string | undefined, env: Env = process.env, candidates = DISCOVERED_CONFIG_FILES): ConfigChoice {
  if (flag !== undefined) return { file: resolve(flag), from: '--config' };
  const fromEnv = env.OEP_CONFIG;
  if (fromEnv !== undefined && fromEnv !== '') return { file: resolve(fromEnv), from: '$OEP_CONFIG' };
  const found = candidates.map((c) => resolve(c)).find((c) => existsSync(c));
  if (found !== undefined) return { file: found, from: 'found' };
  throw new ConfigError(`no config file: give --config <file>, set OEP_CONFIG, or create ${candidates.map((c) => resolve(c)).join(' or ')}`);
}

export interface LoadedConfig {
  readonly config: OepConfig;
  readonly choice: ConfigChoice;
  readonly overrides: OverrideReport;
}

/** One line for the log: which file, why, and what the environment changed. */
export function describeLoad(l: LoadedConfig): string {
  const why = l.choice.from === 'found' ? 'found' : `from ${l.choice.from}`;
  const applied = l.overrides.applied.map((o) => `${o.path} (${o.variable})`);
  const ignored = l.overrides.ignored.map((o) => o.variable);
  return (
    `config: ${l.choice.file} (${why})` +
    (applied.length > 0 ? `; from the environment: ${applied.join(', ')}` : '') +
    (ignored.length > 0 ? `; ignored (their section is not in the file): ${ignored.join(', ')}` : '')
  );
}

/** Reads the chosen file, substitutes and overrides from `env`, validates. */
export async function loadChosenConfig(choice: ConfigChoice, env: Env = process.env): Promise<LoadedConfig> {
  const file = choice.file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}${choice.from === '--config' ? '' : ` (${choice.from})`}: ${messageOf(e)}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`${file} is not valid YAML: ${messageOf(e)}`);
  }
  raw ??= {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file}: the configuration must be a mapping of sections (mqtt:, influx:, …)`);
  const problems: string[] = [];
  const substituted = substitute(configSchema, raw, env, problems);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${file}: ${p}`).join('\n'));
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- substitute keeps the shape of a mapping it was given
  const tree = substituted as Record<string, unknown>;
  const overrides = applyOverrides(configSchema, tree, env);
  return { config: parseConfig(tree, env, file), choice, overrides };
}

/** Reads and validates `file` (no discovery). */
export async function loadConfig(file: string, env: Env = process.env): Promise<OepConfig> {
  return (await loadChosenConfig({ file, from: '--config' }, env)).config;
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
