/** Reads a configuration file (YAML or JSON) and validates it. The only config I/O. */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ConfigError, parseConfig, type OepConfig } from './schema.js';

export async function loadConfig(file: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<OepConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${messageOf(e)}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`${file} is not valid YAML: ${messageOf(e)}`);
  }
  return parseConfig(raw, env, file);
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
