/**
 * The config with the command line's per-cell settings applied, through the config's schema (zod): what
 * `oep process` uses with a config file, for a campaign, and for a value cell-options.ts does not take.
 */
import { errorMessage } from '../adapters/log-text.js';
import { ConfigError, parseConfig, type OepConfig } from '../config/schema.js';
import { cellOverrides, type CellOptionValues } from './cell-options.js';

/** The config file's settings, or the defaults without one. */
export async function baseConfig(file: string | undefined): Promise<OepConfig> {
  // The config loader (YAML) is loaded only when used: start-up counts.
  return file !== undefined ? (await import('../config/load.js')).loadConfig(file) : parseConfig({});
}

/** The config (file or defaults) with the command line's settings for `cell` over its entry. */
export function cellConfig(base: OepConfig, cell: string, values: CellOptionValues): OepConfig {
  const over = cellOverrides(values);
  // Validated by the schema on its own, so a bad value names the option's config key.
  let checked: OepConfig['cells'][number] | undefined;
  try {
    checked = parseConfig({ cells: [{ id: cell, ...over }] }, {}, 'the command line').cells[0];
  } catch (e) {
    throw new ConfigError(errorMessage(e));
  }
  if (checked === undefined) throw new ConfigError(`the command line's settings for ${cell} did not make a cell entry`);
  const entry = base.cells.find((c) => c.id === cell);
  return { ...base, cells: [...base.cells.filter((c) => c.id !== cell), { ...(entry ?? {}), ...checked }] };
}
