/**
 * Helpers of the reader tests: the sample exports, the checks every format's tests make (a trapezoid of
 * |I| against the cycler's own step capacities, per-cycle sums), and feeding a parser line by line.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { CyclerRowParser } from '../../../src/readers/stream.js';
import { ReaderError, type CyclerParseResult, type CyclerRow, type CyclerStepOracle } from '../../../src/readers/types.js';

/** A synthetic sample export of test/fixtures/formats/, read as latin1 (EC-Lab's encoding). */
export const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/formats/${name}`, import.meta.url), 'latin1');
/** The same, read as UTF-8. */
export const fixtureUtf8 = (name: string): string => readFileSync(new URL(`../../fixtures/formats/${name}`, import.meta.url), 'utf8');
/** A real export of test/fixtures/cyclers/, read as latin1. */
export const realFixture = (name: string): string => readFileSync(new URL(`../../fixtures/cyclers/${name}`, import.meta.url), 'latin1');

/** The ReaderError that `f` throws (fails the test when it throws something else or nothing). */
export function readerError(f: () => unknown): ReaderError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ReaderError);
    return e as ReaderError;
  }
  throw new Error('expected a ReaderError');
}

/** ∫|I| dt over rows in file order (trapezoid), mAh. */
export function trapz(rows: readonly CyclerRow[]): number {
  let q = 0;
  for (let i = 1; i < rows.length; i++) q += ((Math.abs(rows[i - 1]!.current_mA) + Math.abs(rows[i]!.current_mA)) / 2) * (rows[i]!.ts - rows[i - 1]!.ts);
  return q / 3_600_000;
}

/** Per-cycle charge (`c`) and discharge (`d`) sums of the oracle, mAh. */
export function perCycle(oracle: readonly CyclerStepOracle[]): Map<number, { c: number; d: number }> {
  const m = new Map<number, { c: number; d: number }>();
  for (const s of oracle) {
    const e = m.get(s.cycleIndex) ?? { c: 0, d: 0 };
    if (s.kind === 'charge') e.c += s.capacity_mAh;
    if (s.kind === 'discharge') e.d += s.capacity_mAh;
    m.set(s.cycleIndex, e);
  }
  return m;
}

/** Maximal runs of rows with equal (cycleIndex, stepIndex), in file order. */
function runs(rows: readonly CyclerRow[]): CyclerRow[][] {
  const out: CyclerRow[][] = [];
  let cur: CyclerRow[] | undefined;
  for (const r of rows) {
    const last = cur?.[cur.length - 1];
    if (cur === undefined || last === undefined || last.cycleIndex !== r.cycleIndex || last.stepIndex !== r.stepIndex) {
      cur = [];
      out.push(cur);
    }
    cur.push(r);
  }
  return out;
}

/** Every oracle step against a trapezoid over its own rows (up to tEnd); returns the worst errors. */
export function compareTrapz(res: CyclerParseResult): { worstAbs_mAh: number; worstRel: number } {
  const rs = runs(res.rows);
  expect(rs.length).toBe(res.oracle.length);
  let worstAbs_mAh = 0;
  let worstRel = 0;
  res.oracle.forEach((s, k) => {
    const run = rs[k]!;
    expect([run[0]!.cycleIndex, run[0]!.stepIndex]).toEqual([s.cycleIndex, s.stepIndex]);
    const q = trapz(run.filter((r) => r.ts <= s.tEnd));
    const abs = Math.abs(q - s.capacity_mAh);
    worstAbs_mAh = Math.max(worstAbs_mAh, abs);
    if (s.kind === 'rest') {
      expect(abs).toBeLessThan(1e-9);
    } else {
      const rel = abs / s.capacity_mAh;
      worstRel = Math.max(worstRel, rel);
      expect(rel, `cycle ${s.cycleIndex} step ${s.stepIndex}: trapz ${q} vs oracle ${s.capacity_mAh} mAh`).toBeLessThan(0.005);
    }
  });
  return { worstAbs_mAh, worstRel };
}

/** Feeds lines one by one, collecting rows after each line, then end(). */
export function feed(p: CyclerRowParser, text: string): CyclerRow[] {
  const out: CyclerRow[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((l, i) => {
    p.line(l, i + 1, out);
  });
  p.end(out);
  return out;
}

/** A real export (test/fixtures/cyclers/) parsed once for a describe block. */
export function parseReal(name: string, parse: (text: string, opts: { fileName: string }) => CyclerParseResult): { res: CyclerParseResult } {
  return { res: parse(realFixture(name), { fileName: name }) };
}

/** All `rows` data rows were read (speed is the benchmark's job, not a timed test: under load a limit here fails at random). */
export function expectAllRows(parsed: { res: CyclerParseResult }, rows: number): void {
  expect(parsed.res.rows).toHaveLength(rows);
}
