#!/usr/bin/env node
/**
 * Where a daemon's CPU went, by component, from a V8 CPU profile (`--cpu-prof`): each main-thread sample goes
 * to the innermost frame of its stack that belongs to a component (a Node internal or native frame goes to
 * its caller's); garbage collection is a component of its own; start-up (module loading, config) is left
 * out. Shares of the remaining samples, and µs per reading when given the round's CPU µs per reading (the
 * profile sees the main thread only: the figure is the round's /proc CPU split by those shares).
 *
 *   OEP_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p --max-old-space-size=128 --max-semi-space-size=8" \
 *     npm run bench -- sweep --cells 1000:1000000 --rounds 1
 *   node scripts/cpu-profile-breakdown.mjs /tmp/p/CPU.*.cpuprofile [CPU µs per reading of the oep round]
 */
import { readFileSync } from 'node:fs';

const [file, cpuArg] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: cpu-profile-breakdown.mjs <profile.cpuprofile> [CPU µs per reading]');
const profile = JSON.parse(readFileSync(file, 'utf8'));

/** Component by source location (`<url>:<line>`), the first rule that matches. */
const RULES = [
  ['start-up (module load, config)', /modules\/(esm|cjs)|bootstrap|node_modules\/(yaml|zod)\/|\/config\/|commands\/run|cli\.js/],
  ['journal', /adapters\/(journal|recent-messages)\.js|checkpoints\.js:(6[0-9]|7[0-9])\b/],
  ['checkpoint (state)', /state-store|checkpoint-run|state-log|pipelines\/checkpoints|node:v8|lab-changes/],
  ['line protocol', /line-protocol/],
  ['InfluxDB sink, outbox, client, HTTP', /influx-sink|outbox|@influxdata|node:_http|node:http/],
  ['files', /file-sink|adapters\/files|adapters\/csv/],
  ['/metrics, health', /health|prom-client/],
  ['payload parse (edge)', /compact-batch|ingest\/payload|ingest\/topic|operators\.js:[12][0-9]\b/],
  ['aligner, dedup', /domain\/align|reading-buffer|domain\/dedup|instant-values|fingerprints|domain\/ring/],
  ['detectors, alerts', /domain\/alerts|alert-tally|alert-publisher|lab-alerts/],
  ['cell core (steps, cycles, metrics, gaps)', /cell-processor|domain\/cell\/|domain\/metrics\/|capacity|pressure-track|cell-state|domain\/gaps/],
  ['lab and pipeline glue', /domain\/lab|admission|operators\.js|daemon-sinks|pipelines\/daemon|activity-log|adapters\/sink/],
  ['rxjs', /rxjs/],
  ['MQTT.js (parse, PUBACK, socket)', /node_modules\/(mqtt|mqtt-packet|bl|debug|readable-stream|process-nextick|number-allocator)|adapters\/mqtt\.js/],
];

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const samples = new Map();
for (const s of profile.samples) samples.set(s, (samples.get(s) ?? 0) + 1);

const share = new Map();
let total = 0;
for (const [id, count] of samples) {
  const leaf = byId.get(id).callFrame.functionName;
  if (leaf === '(idle)') continue;
  let component = leaf === '(garbage collector)' ? 'garbage collection' : undefined;
  for (let cur = id; component === undefined && cur !== undefined; cur = parent.get(cur)) {
    const f = byId.get(cur).callFrame;
    component = RULES.find(([, re]) => re.test(`${f.url}:${f.lineNumber + 1}`))?.[0];
  }
  component ??= 'other (Node internals, program)';
  share.set(component, (share.get(component) ?? 0) + count);
  total += count;
}
const startup = share.get(RULES[0][0]) ?? 0;
share.delete(RULES[0][0]);
const run = total - startup;
const cpu = Number(cpuArg);
console.log(`${total} main-thread samples; start-up (${((100 * startup) / total).toFixed(1)} %) left out`);
for (const [name, n] of [...share].sort((a, b) => b[1] - a[1])) {
  const us = Number.isFinite(cpu) ? `${((cpu * n) / run).toFixed(2).padStart(6)} µs  ` : '';
  console.log(`${((100 * n) / run).toFixed(1).padStart(5)} %  ${us}${name}`);
}
