/**
 * The environment in a config file, applied to the parsed YAML before it is validated:
 *
 * - `${VAR}` and `${VAR:-default}` in any text value are replaced (the default when VAR is unset or
 *   empty; `$${` writes a literal `${`). A value that is one reference alone becomes a number or a boolean
 *   where the key expects one (`port: ${HEALTH_PORT:-9464}`). VAR unset without a default is an error
 *   naming the key.
 * - `OEP_<SECTION>_<KEY>` replaces a key's value (the file's or the default): the key path upper-cased,
 *   camelCase humps and dots as `_` (`influx.flushInterval_ms` ← `OEP_INFLUX_FLUSH_INTERVAL_MS`,
 *   `mqtt.tls.ca` ← `OEP_MQTT_TLS_CA`, `defaults.activeMassG` ← `OEP_DEFAULTS_ACTIVE_MASS_G`). Secrets
 *   too (`OEP_INFLUX_TOKEN`, `OEP_MQTT_PASSWORD`). Lists (`cells`, `edge.patterns`) have none. A section
 *   the file leaves out that has no defaults (influx, output, state, health, *.tls, alerts.webhook) is not
 *   made by a variable: the variable is reported as ignored, so a shared env file cannot start a sink.
 */
import { z } from 'zod';
import { coerce, envName, scalarLeaves, schemaAt, type KeyPath } from './paths.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** A key path as the config check and the errors print it: `cells[2].activeMassG`. */
export function pathText(path: KeyPath): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${String(k)}]` : i === 0 ? k : `.${k}`)).join('');
}

const REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_REF = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

/** Replaces `${VAR}` / `${VAR:-default}` in the tree's text values; `problems` gets one line per unset variable. */
export function substitute(root: z.ZodType, raw: unknown, env: Env, problems: string[], path: (string | number)[] = []): unknown {
  if (typeof raw === 'string') {
    if (!raw.includes('${')) return raw;
    const text = raw.replace(REF, (all, name: string | undefined, def: string | undefined) => {
      if (name === undefined) return '${';
      const v = env[name];
      if (v !== undefined && (v !== '' || def === undefined)) return v;
      if (def !== undefined) return def;
      problems.push(`${pathText(path)}: \${${name}} is not set (set ${name} in the environment, or write \${${name}:-default})`);
      return all;
    });
    return WHOLE_REF.test(raw) ? coerce(root, path, text) : text;
  }
  if (Array.isArray(raw)) return raw.map((v: unknown, i) => substitute(root, v, env, problems, [...path, i]));
  if (raw !== null && typeof raw === 'object') {
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, substitute(root, v, env, problems, [...path, k])]));
  }
  return raw;
}

/** The variable of each overridable key: `OEP_INFLUX_URL` → ['influx', 'url']. */
export function overrideNames(root: z.ZodType): Map<string, readonly string[]> {
  const names = new Map<string, readonly string[]>();
  // OEP_LOG_LEVEL and OEP_LOG_FORMAT are read by the logger itself (flag > environment > log.*), with their own error.
  for (const p of scalarLeaves(root)) if (p.length >= 2 && p[0] !== 'log') names.set(`OEP_${p.map(envName).join('_')}`, p);
  return names;
}

export interface Override {
  readonly variable: string;
  readonly path: string;
}

export interface OverrideReport {
  readonly applied: Override[];
  /** Variables of a section the file leaves out (not made by the environment). */
  readonly ignored: Override[];
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Sets each `OEP_<SECTION>_<KEY>` found in `env` into `raw` (a parsed config object, changed in place). */
export function applyOverrides(root: z.ZodType, raw: Tree, env: Env): OverrideReport {
  const report: OverrideReport = { applied: [], ignored: [] };
  for (const [variable, path] of overrideNames(root)) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    const o = { variable, path: pathText(path) };
    let at: Tree | undefined = raw;
    for (let i = 0; i < path.length - 1 && at !== undefined; i++) {
      const k = path[i] ?? '';
      const next: unknown = at[k];
      if (isTree(next)) at = next;
      else if (next === undefined && !(parentField(root, path.slice(0, i + 1)) instanceof z.ZodOptional)) at = at[k] = {};
      else at = undefined;
    }
    if (at === undefined) {
      report.ignored.push(o);
      continue;
    }
    at[path[path.length - 1] ?? ''] = coerce(root, path, value);
    report.applied.push(o);
  }
  return report;
}

/** The field's own schema (wrappers kept) in its parent object: optional or with a default? */
function parentField(root: z.ZodType, path: readonly string[]): z.ZodType | undefined {
  const parent = schemaAt(root, path.slice(0, -1));
  if (!(parent instanceof z.ZodObject)) return undefined;
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- zod types the inner schemas of a wrapper, object or array as any
  return (parent.shape as Record<string, z.ZodType | undefined>)[path[path.length - 1] ?? ''];
}
