/**
 * BioLogic EC-Lab (and BT-Lab) ASCII export, `.mpt`.
 *
 * Layout: line 1 `EC-Lab ASCII FILE`; line 2 `Nb header lines : N`; lines 3..N−1 the settings (absent in
 * a plain export, where N = 3); line N the tab-separated column names; data rows after it. Text is
 * ISO-8859-1 (`µ` in column names such as `Capacitance charge/µF`): read the file as latin1.
 *
 * Columns, by name:
 * - `time/s` (required): seconds since the acquisition start. It need not start at 0 (a technique linked
 *   after another continues the clock).
 * - current (required): `<I>/mA` or `I/mA` (also `/A`, `/µA`); signed, + = oxidation of the working
 *   electrode, which is charge for a full cell wired cathode-as-WE (the `currentSign` setting flips it).
 * - `Ewe/V` (or `<Ewe>/V`, `Ecell/V`) → voltage.
 * - `cycle number` (a float in the file) → cycle index; `half cycle` and `mode` (1 CC, 2 CV, 3 rest) →
 *   the step index (see below); `Q charge/discharge/mA.h` → the oracle.
 * Numbers may be written with decimal commas (French/German Windows locales).
 *
 * Time zero: `Acquisition started on : MM/DD/YYYY HH:MM:SS[.sss]` in the settings, read as UTC (a
 * date that is not a valid MM/DD is tried as DD/MM and DD.MM); a plain export has no such line, then
 * `startTs` (default 0).
 *
 * Steps: EC-Lab numbers half cycles (each charge or discharge, with the rest after it) and writes the
 * control mode. The step index here counts runs of equal (`half cycle`, rest or not): a CV hold (mode 2)
 * stays in its CC charge step, a rest (mode 3) is a step of its own. Without either column rows carry no
 * step index. The oracle: per step, |Q| on its last row minus |Q| before it in the same half cycle
 * (`Q charge/discharge` restarts at 0 every half cycle, + charge, − discharge).
 */
import { findColumn, parseWallClockUtc, requireColumn, secondsToMs, shortRowError } from './common.js';
import { parseDateTime } from './fields.js';
import { FieldCache, fieldBounds, numberAt } from './scan.js';
import { cleanLine, parseAll, type CyclerRowParser } from './stream.js';
import { ReaderError, type CyclerParseResult, type CyclerRow, type CyclerStepOracle } from './types.js';

export interface BiologicMptOptions {
  /** Used in error messages. */
  fileName: string;
  /** Epoch ms of `time/s` = 0. Default: the `Acquisition started on` line read as UTC; 0 without one. */
  startTs?: number;
  /** Build the oracle from `Q charge/discharge` (default true; processing does not need it). */
  oracle?: boolean;
}

const MAGIC = ['EC-Lab ASCII FILE', 'BT-Lab ASCII FILE'];
const NB_HEADER = /^Nb header lines\s*:\s*(\d+)\s*$/;
const ACQ_STARTED = /^Acquisition started on\s*:\s*(.+)$/;

/** Factor to mA for a current column name, or undefined when the name is not a current column. */
function currentFactor(name: string): number | undefined {
  const m = /^<?I>?\/(mA|A|µA|uA)$/.exec(name);
  if (m === null) return undefined;
  return m[1] === 'A' ? 1000 : m[1] === 'mA' ? 1 : 0.001;
}

/** EC-Lab writes the acquisition date in the Windows locale: MM/DD/YYYY, else DD/MM/YYYY or DD.MM.YYYY. */
export function parseAcquisitionStart(text: string): number {
  const s = text.trim();
  const us = parseWallClockUtc(s);
  if (!Number.isNaN(us)) return us;
  const m = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})\s+(.+)$/.exec(s);
  if (m !== null) {
    const v = parseWallClockUtc(`${m[3]}-${m[2]!.padStart(2, '0')}-${m[1]!.padStart(2, '0')} ${m[4]!.replace(',', '.')}`);
    if (!Number.isNaN(v)) return v;
  }
  return parseDateTime(s);
}

export function parseBiologicMpt(text: string, opts: BiologicMptOptions): CyclerParseResult {
  const parser = createBiologicParser(opts);
  const rows = parseAll(parser, text);
  return { rows, oracle: parser.oracle };
}

type Column = { index: number; name: string };

export function createBiologicParser(opts: BiologicMptOptions): CyclerRowParser {
  const { fileName } = opts;
  let headerLines = 0; // N, once line 2 is read
  let lastLine = 0;
  let acquisitionStart: number | undefined;
  let startTs = opts.startTs;
  let cols:
    | { time: Column; cur: Column; curToMa: number; volt: Column; cycle: Column; half: Column; mode: Column; q: Column; need: number }
    | undefined;
  const oracle: CyclerStepOracle[] = [];
  const starts = new Int32Array(64);
  const ends = new Int32Array(64);
  const caches = Array.from({ length: 64 }, () => new FieldCache());

  // Step runs: (half cycle, rest?) changes start a new step.
  let stepIndex = 0;
  let runKey = NaN;
  let runHalf = NaN;
  let runQBase = 0; // |Q| before the run, same half cycle
  let runQLast = 0;
  let runRest = false;
  let open: CyclerStepOracle | undefined;
  let lastQ = 0;

  const closeRun = (): void => {
    if (open === undefined) return;
    const dq = runQLast - runQBase;
    open.kind = runRest ? 'rest' : dq > 0 ? 'charge' : dq < 0 ? 'discharge' : 'rest';
    open.capacity_mAh = Math.abs(Math.abs(runQLast) - Math.abs(runQBase));
  };

  const readColumns = (text: string, line: number): NonNullable<typeof cols> => {
    const names = text.split('\t').map((c) => c.trim());
    const time = requireColumn(names, fileName, line, 'time/s');
    let cur: Column = { index: -1, name: '<I>/mA' };
    let curToMa = 1;
    // Prefer the averaged current `<I>` (what EC-Lab records in GCPL), then `I`.
    for (const pref of ['<', 'I']) {
      if (cur.index >= 0) break;
      names.forEach((n, index) => {
        const f = currentFactor(n);
        if (cur.index < 0 && f !== undefined && n.startsWith(pref)) {
          cur = { index, name: n };
          curToMa = f;
        }
      });
    }
    if (cur.index < 0) {
      throw new ReaderError({ fileName, line, expected: "a current column ('<I>/mA' or 'I/mA') in the column row", value: names.join(', ') });
    }
    const volt = findColumn(names, 'Ewe/V', '<Ewe>/V', 'Ecell/V', '<Ecell>/V');
    const cycle = findColumn(names, 'cycle number');
    const half = findColumn(names, 'half cycle');
    const mode = findColumn(names, 'mode');
    const q = opts.oracle === false ? { index: -1, name: '' } : findColumn(names, 'Q charge/discharge/mA.h');
    const need = Math.max(time.index, cur.index, volt.index, cycle.index, half.index, mode.index, q.index) + 1;
    if (need > 64) throw new ReaderError({ fileName, line, expected: 'the columns oep reads among the first 64', value: names.join(', ') });
    return { time, cur, curToMa, volt, cycle, half, mode, q, need };
  };

  return {
    oracle,
    get startTs() {
      return startTs;
    },
    get ready() {
      return cols !== undefined;
    },
    held: 0,
    line(raw, line, out) {
      lastLine = line;
      const text = cleanLine(raw, line);
      if (line === 1) {
        if (!MAGIC.some((m) => text.trim().startsWith(m))) {
          throw new ReaderError({ fileName, line, expected: "'EC-Lab ASCII FILE' (a BioLogic .mpt export)", value: text });
        }
        return;
      }
      if (line === 2) {
        const m = NB_HEADER.exec(text.trim());
        if (m === null || +m[1]! < 3) throw new ReaderError({ fileName, line, expected: "'Nb header lines : N' with N ≥ 3", value: text });
        headerLines = +m[1]!;
        return;
      }
      if (line < headerLines) {
        const m = ACQ_STARTED.exec(text.trim());
        if (m !== null) {
          const t = parseAcquisitionStart(m[1]!);
          if (Number.isNaN(t)) throw new ReaderError({ fileName, line, expected: 'an acquisition date MM/DD/YYYY HH:MM:SS[.sss]', value: m[1]! });
          acquisitionStart = t;
        }
        return;
      }
      if (line === headerLines) {
        cols = readColumns(text, line);
        startTs ??= acquisitionStart ?? 0;
        return;
      }
      if (text.trim() === '') return;
      const c = cols!;
      const n = fieldBounds(text, '\t', c.need, starts, ends);
      if (n < c.need) throw shortRowError(fileName, line, c.need, n, text);
      // Fields that repeat row after row (current in CC and rest, cycle, mode, half cycle) go through a cache.
      const num = (col: Column, cached: boolean): number => {
        const k = col.index;
        const v = cached ? caches[k]!.numberAt(text, starts[k]!, ends[k]!) : numberAt(text, starts[k]!, ends[k]!);
        if (Number.isFinite(v)) return v;
        throw new ReaderError({ fileName, line, column: col.name, expected: 'a number', value: text.slice(starts[k], ends[k]) });
      };
      const ts = startTs! + secondsToMs(num(c.time, false));
      const current_mA = num(c.cur, true) * c.curToMa;
      let voltage_V: number | undefined;
      if (c.volt.index >= 0 && ends[c.volt.index]! > starts[c.volt.index]!) voltage_V = num(c.volt, false);
      const cycleIndex = c.cycle.index >= 0 ? Math.round(num(c.cycle, true)) : undefined;
      let stepIndexOfRow: number | undefined;
      if (c.half.index >= 0 || c.mode.index >= 0) {
        const half = c.half.index >= 0 ? Math.round(num(c.half, true)) : 0;
        const rest = c.mode.index >= 0 && Math.round(num(c.mode, true)) === 3;
        const key = half * 2 + (rest ? 1 : 0);
        const q = c.q.index >= 0 ? num(c.q, false) : 0;
        if (key !== runKey) {
          closeRun();
          stepIndex++;
          runQBase = half === runHalf ? lastQ : 0;
          runKey = key;
          runHalf = half;
          runRest = rest;
          if (c.q.index >= 0) {
            open = { cycleIndex: cycleIndex ?? 0, stepIndex, kind: 'rest', capacity_mAh: 0, tStart: ts, tEnd: ts };
            oracle.push(open);
          }
        }
        runQLast = q;
        lastQ = q;
        if (open !== undefined) open.tEnd = ts;
        stepIndexOfRow = stepIndex;
      }
      // One object shape for every row (all fields set, some undefined): cheaper for the JIT.
      const row: CyclerRow = { ts, current_mA, voltage_V, stepIndex: stepIndexOfRow, cycleIndex, line };
      out.push(row);
    },
    end() {
      if (cols === undefined) {
        throw new ReaderError({
          fileName,
          line: Math.max(1, lastLine),
          expected: headerLines > 0 ? `the column row on line ${headerLines} ('Nb header lines : ${headerLines}'), but the file ended` : "'EC-Lab ASCII FILE' and 'Nb header lines : N' (the file is empty)",
        });
      }
      closeRun();
      open = undefined;
    },
  };
}
