/**
 * `oep config check [file]`: validates a configuration as `oep run` would read it (the same discovery,
 * `${VAR}` substitution and `OEP_*` overrides) and prints what it resolves to, secrets masked: the
 * settings, then each cell's (normalization, mass, areas, deadband, alert thresholds), cells with the same
 * settings in one group. Exit 0 valid, 2 invalid (a ConfigError, printed by the CLI).
 */
import { parseArgs } from 'node:util';
import { Document, isMap, isPair, isScalar, isSeq, visit } from 'yaml';
import { redactUrl } from '../adapters/log-text.js';
import { chooseConfigFile, loadChosenConfig, type LoadedConfig } from '../config/load.js';
import { ConfigError, type OepConfig } from '../config/schema.js';
import { resolveCell } from '../config/cell-setup.js';
import type { Command } from './types.js';

/** The printout fits this many columns. */
const COLUMNS = 80;
const MASK = '***';

export const command: Command = {
  usage: `oep config check [file.yaml]
      validates the configuration and prints it resolved (environment applied,
      secrets masked) with each cell's settings; exit 0 valid, 2 invalid.
      file: default $OEP_CONFIG, ./oep.yaml, /etc/oep/oep.yaml`,
  example: 'oep config check /etc/oep/oep.yaml   (secrets masked; OEP_INFLUX_TOKEN=… applies)',
  async main(args) {
    const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
    const [sub, file, ...extra] = positionals;
    if (sub !== 'check' || extra.length > 0) throw new ConfigError(`usage: ${command.usage.split('\n')[0] ?? ''}`);
    const loaded = await loadChosenConfig(chooseConfigFile(file));
    process.stdout.write(configReport(loaded));
    return 0;
  },
};

/** The whole printout. */
export function configReport(l: LoadedConfig): string {
  const out = [`${l.choice.file}: valid${l.choice.from === 'found' ? ' (found)' : l.choice.from === '$OEP_CONFIG' ? ' (from $OEP_CONFIG)' : ''}`];
  for (const o of l.overrides.applied) out.push(`  ${o.path} from ${o.variable}`);
  for (const o of l.overrides.ignored) out.push(`  ${o.variable} ignored: its section is not in the file`);
  const { cells, ...settings } = masked(l.config);
  out.push('', '# settings (defaults filled in)', yaml(settings).trimEnd(), '', '# cells (each entry over defaults:)');
  const groups = new Map<string, string[]>();
  const ids = [...cells.map((c) => c.id), undefined];
  for (const id of ids) {
    const key = yaml(cellSettings(l.config, id));
    groups.set(key, [...(groups.get(key) ?? []), id ?? '(any other cell)']);
  }
  for (const [key, members] of groups) {
    out.push(...wrapList(members.length === 1 ? 'cell ' : `${String(members.length)} cells `, members));
    out.push(
      ...key
        .trimEnd()
        .split('\n')
        .map((line) => `  ${line}`),
    );
  }
  return out.join('\n') + '\n';
}

/** One cell's resolved settings, without its id (so equal cells group). */
function cellSettings(config: OepConfig, id: string | undefined): object {
  const r = resolveCell(config, id ?? '\u0000other');
  const { cell: _cell, detectors, ...processor } = r.processor;
  return { ...processor, capacitySource: r.capacitySource, ingest: r.ingest, alerts: r.alerts === undefined ? 'off' : { ...r.alerts, detectors } };
}

/** The config with its secrets and the credentials in URLs replaced by `***`. */
function masked(c: OepConfig): OepConfig {
  const m = structuredClone(c);
  m.mqtt.url = redactUrl(m.mqtt.url);
  if (m.mqtt.password !== undefined) m.mqtt.password = MASK;
  if (m.influx !== undefined) {
    m.influx.url = redactUrl(m.influx.url);
    if (m.influx.token !== undefined) m.influx.token = MASK;
  }
  const hook = m.alerts.webhook;
  // a Slack-style hook carries its secret in the path
  if (hook !== undefined) hook.url = `${new URL(hook.url).origin}/${MASK}`;
  return m;
}

/** YAML in block style, except a mapping or list of scalars that fits on its key's line. */
function yaml(o: unknown): string {
  const doc = new Document(o);
  // the key's indent, its items as `k: v, `, and room for the key itself
  const fits = (path: readonly unknown[], items: readonly unknown[]): boolean =>
    path.filter(isPair).length * 2 +
      items.reduce<number>((n, i) => n + (isPair(i) ? `${String(i.key)}: ${String(i.value)}, ` : `${String(i)}, `).length, 0) +
      24 <=
    COLUMNS;
  visit(doc, {
    Map(_, node, path) {
      if (node.items.every((p) => isScalar(p.value)) && fits(path, node.items)) node.flow = true;
    },
    Seq(_, node, path) {
      if (node.items.every((v) => isScalar(v)) && fits(path, node.items)) node.flow = true;
    },
  });
  if (isMap(doc.contents) || isSeq(doc.contents)) doc.contents.flow = false;
  return doc.toString({ lineWidth: COLUMNS - 4, minContentWidth: 20 });
}

/** `prefix a, b, c:` over as many lines as 80 columns need. */
function wrapList(prefix: string, items: readonly string[]): string[] {
  const lines: string[] = [];
  let line = prefix;
  items.forEach((item, i) => {
    const piece = item + (i === items.length - 1 ? ':' : ', ');
    if (line.length + piece.length > COLUMNS && line.trim() !== '') {
      lines.push(line.trimEnd());
      line = '  ';
    }
    line += piece;
  });
  lines.push(line);
  return lines;
}
