/**
 * A generic CSV's column mapping from the command line (`--time-col`, …) over a YAML/JSON mapping file
 * (`--mapping`), validated by the mapping's schema (zod): loaded by reader-options.ts only when one of
 * these options is given, so that reading a file of a known format does not load zod.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { ConfigError } from '../config/defaults.js';
import { parseGenericMapping, type GenericCsvMapping } from '../readers/generic/mapping.js';
import { errorMessage } from '../adapters/log-text.js';
import { finiteOption } from './shared.js';

/** The options a mapping is made of (reader-options.ts's `ReaderArgs` has them all). */
export interface MappingArgs {
  readonly mapping?: string | undefined;
  readonly 'time-col'?: string | undefined;
  readonly 'time-format'?: string | undefined;
  readonly 'current-col'?: string | undefined;
  readonly 'current-unit'?: string | undefined;
  readonly 'current-sign-in-file'?: string | undefined;
  readonly 'voltage-col'?: string | undefined;
  readonly 'voltage-unit'?: string | undefined;
  readonly 'step-col'?: string | undefined;
  readonly 'cycle-col'?: string | undefined;
  readonly sep?: string | undefined;
  readonly 'header-line'?: string | undefined;
}

/** The YAML parser, loaded only when a mapping file is given (start-up of every file command: ~50 ms less). */
function parseYaml(text: string): unknown {
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- require() is untyped; this is the yaml package's own module type
  const yaml = createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yaml.parse(text);
}

/** The generic mapping from `--mapping` (file) under the `--…-col` options; undefined when neither is given. */
export function mappingFrom(a: MappingArgs): GenericCsvMapping | undefined {
  let fromFile: Record<string, unknown> = {};
  if (a.mapping !== undefined) {
    let raw: unknown;
    try {
      raw = parseYaml(readFileSync(a.mapping, 'utf8'));
    } catch (e) {
      throw new ConfigError(`cannot read the mapping file ${a.mapping}: ${errorMessage(e)}`);
    }
    if (typeof raw !== 'object' || raw === null) throw new ConfigError(`${a.mapping}: expected a mapping of keys (time, current, …)`);
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- an object from YAML: its keys are checked by parseGenericMapping
    fromFile = raw as Record<string, unknown>;
  }
  const cli: Record<string, unknown> = {
    time: a['time-col'],
    timeFormat: a['time-format'],
    current: a['current-col'],
    currentUnit: a['current-unit'],
    currentSign: a['current-sign-in-file'],
    voltage: a['voltage-col'],
    voltageUnit: a['voltage-unit'],
    step: a['step-col'],
    cycle: a['cycle-col'],
    separator: a.sep === 'tab' ? '\t' : a.sep,
    headerLine: finiteOption(a['header-line'], 'header-line'),
  };
  const given = Object.fromEntries(Object.entries(cli).filter(([, v]) => v !== undefined));
  if (a.mapping === undefined && Object.keys(given).length === 0) return undefined;
  try {
    return parseGenericMapping({ ...fromFile, ...given }, a.mapping ?? 'the column options');
  } catch (e) {
    throw new ConfigError(errorMessage(e));
  }
}
