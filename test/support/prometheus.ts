/** A small parser of the Prometheus text exposition format, for tests that scrape `/metrics`. */

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromScrape {
  readonly samples: readonly PromSample[];
  /** `# TYPE` of each metric family. */
  readonly types: ReadonlyMap<string, string>;
  /** The value of the one sample of `name` whose labels include `labels`; undefined if none; throws if several. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of `name` (optionally filtered by labels). */
  all(name: string, labels?: Record<string, string>): PromSample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/g;

function unescapeLabel(v: string): string {
  return v.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  // Prometheus parses floats case-insensitively; prom-client writes NaN as `Nan`.
  if (v.toLowerCase() === 'nan') return NaN;
  const n = Number(v);
  if (Number.isNaN(n)) throw new Error(`not a Prometheus sample value: ${v}`);
  return n;
}

export function parsePrometheus(text: string): PromScrape {
  const samples: PromSample[] = [];
  const types = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const [, name, type] = /^# TYPE (\S+) (\S+)$/.exec(line) ?? [];
      if (name !== undefined && type !== undefined) types.set(name, type);
      continue;
    }
    const [, name, labelText, value] = SAMPLE.exec(line) ?? [];
    if (name === undefined || value === undefined) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (labelText ?? '').matchAll(LABEL)) if (k !== undefined && v !== undefined) labels[k] = unescapeLabel(v);
    samples.push({ name, labels, value: parseValue(value) });
  }
  const matches = (s: PromSample, name: string, labels: Record<string, string>): boolean =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  return {
    samples,
    types,
    all: (name, labels = {}) => samples.filter((s) => matches(s, name, labels)),
    value(name, labels = {}) {
      const found = samples.filter((s) => matches(s, name, labels));
      if (found.length > 1) throw new Error(`${name}${JSON.stringify(labels)} matches ${found.length} samples`);
      return found[0]?.value;
    },
  };
}
