/**
 * BioLogic EC-Lab .mpt reader, on the synthetic sample exports in test/fixtures/formats/ (see the README there).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, openSource, parsedBatches } from '../../../src/adapters/files.js';
import { parseAcquisitionStart, parseBiologicMpt } from '../../../src/readers/biologic/parser.js';
import type { CyclerRow } from '../../../src/readers/types.js';
import { cycleTruth, ECLAB_PROFILE_START_TS, FORMAT_TRUTH as T } from '../../support/format-truth.js';
import { fixture, perCycle, readerError, trapz } from './support.js';

describe('BioLogic EC-Lab .mpt', () => {
  const full = parseBiologicMpt(fixture('eclab_gcpl_ncm.mpt'), { fileName: 'eclab_gcpl_ncm.mpt' });
  const truth = cycleTruth(T.current_mA);

  it('finds the column row on line N of "Nb header lines : N" and takes time zero from "Acquisition started on"', () => {
    expect(full.rows[0]).toMatchObject({ line: 53, current_mA: 0, voltage_V: 3.45, cycleIndex: 0, stepIndex: 1 });
    // time/s starts at 3600.0123 s (a linked technique ran first): ts = acquisition + time/s.
    expect(full.rows[0]!.ts).toBe(ECLAB_PROFILE_START_TS);
    expect(parseAcquisitionStart('03/14/2024 09:41:07.512')).toBe(T.eclabAcquisitionTs);
    // A European Windows locale writes day first.
    expect(parseAcquisitionStart('14/03/2024 09:41:07,512')).toBe(T.eclabAcquisitionTs);
  });

  it('reads <I>/mA in E-notation, a CV hold stays in the charge step, rests are steps of their own', () => {
    const charge = full.rows.filter((r) => r.current_mA > 0.6);
    expect(charge.length).toBeGreaterThan(100);
    expect(charge[0]!.current_mA).toBe(0.65);
    expect(full.oracle.slice(0, 6).map((s) => s.kind)).toEqual(['rest', 'charge', 'rest', 'discharge', 'rest', 'charge']);
    // CC and CV (mode 1 and 2) of one half cycle are one step: its capacity is CC + CV.
    expect(full.oracle[1]!.capacity_mAh).toBeCloseTo(truth.qCharge_mAh, 9);
    expect(full.oracle[3]!.capacity_mAh).toBeCloseTo(truth.qDischarge_mAh, 9);
    expect(full.oracle[2]!.capacity_mAh).toBe(0);
  });

  it('the oracle (Q charge/discharge) agrees with a trapezoid over each step within 0.5 %, and per cycle with the truth', () => {
    for (const s of full.oracle.filter((o) => o.kind !== 'rest')) {
      const rows = full.rows.filter((r) => r.ts >= s.tStart && r.ts <= s.tEnd);
      expect(Math.abs(trapz(rows) - s.capacity_mAh) / s.capacity_mAh, `step ${s.stepIndex}`).toBeLessThan(0.005);
    }
    const cycles = perCycle(full.oracle);
    for (const c of [0, 1, 2]) {
      expect(cycles.get(c)!.c).toBeCloseTo(truth.qCharge_mAh, 9);
      expect(cycles.get(c)!.d).toBeCloseTo(truth.qDischarge_mAh, 9);
    }
    // The file stops 5000 s into the 4th charge (last row on the 60 s grid): a partial charge and no discharge.
    expect(cycles.get(3)!.c).toBeCloseTo((T.current_mA * 4980.05) / 3600, 9);
    expect(cycles.get(3)!.d).toBe(0);
  });

  it('reads the plain 3-line export: decimal commas, I/mA, µ in a column name (ISO-8859-1), CRLF, no clock', () => {
    const text = fixture('eclab_plain_fr.mpt');
    expect(text).toContain('Capacitance charge/µF');
    const plain = parseBiologicMpt(text, { fileName: 'eclab_plain_fr.mpt' });
    expect(plain.rows[0]).toMatchObject({ ts: 12_500, line: 4, current_mA: 0, voltage_V: 3.45 });
    expect(plain.rows.find((r) => r.current_mA !== 0)!.current_mA).toBe(0.5);
    const withStart = parseBiologicMpt(text, { fileName: 'x.mpt', startTs: Date.UTC(2024, 4, 1) });
    expect(withStart.rows[0]!.ts).toBe(Date.UTC(2024, 4, 1) + 12_500);
    const c = perCycle(plain.oracle).get(0)!;
    expect(c.c).toBeCloseTo(cycleTruth(T.plainCurrent_mA).qCharge_mAh, 9);
    expect(c.d).toBeCloseTo(cycleTruth(T.plainCurrent_mA).qDischarge_mAh, 9);
  });

  it('names the file, the line and what was expected', () => {
    expect(readerError(() => parseBiologicMpt('EC-Lab ASCII FILE\nNb header lines: x\n', { fileName: 'a.mpt' })).message).toBe(
      `a.mpt:2: expected 'Nb header lines : N' with N ≥ 3, got "Nb header lines: x"`,
    );
    expect(readerError(() => parseBiologicMpt('EC-Lab ASCII FILE\nNb header lines : 5\n\n', { fileName: 'a.mpt' })).message).toMatch(
      /^a\.mpt:3: expected the column row on line 5/,
    );
    const noCurrent = 'EC-Lab ASCII FILE\nNb header lines : 3\nmode\ttime/s\tEwe/V\n1\t0\t3.1\n';
    expect(readerError(() => parseBiologicMpt(noCurrent, { fileName: 'a.mpt' })).message).toMatch(
      /^a\.mpt:3: expected a current column \('<I>\/mA' or 'I\/mA'\)/,
    );
    const bad = 'EC-Lab ASCII FILE\nNb header lines : 3\ntime/s\t<I>/mA\n0\t0.5\n1\t0.5mA\n';
    expect(readerError(() => parseBiologicMpt(bad, { fileName: 'a.mpt' })).message).toBe(`a.mpt:5: column '<I>/mA': expected a number, got "0.5mA"`);
    const short = 'EC-Lab ASCII FILE\nNb header lines : 3\ntime/s\tEwe/V\t<I>/mA\n0\t3.1\n';
    expect(readerError(() => parseBiologicMpt(short, { fileName: 'a.mpt' })).message).toMatch(/^a\.mpt:4: expected at least 3 fields \(got 2\)/);
  });
});

describe('BioLogic EC-Lab .mpt from bytes (what oep process reads once the header is read)', () => {
  it('gives the rows and the oracle of the text reader, to the bit, odd rows read as text among them', async () => {
    // Rows enough for several read batches; among them rows that are not plain numbers (a decimal comma, a
    // space, more than 2^53 as digits, a short row's neighbours), a blank line and CR-less line ends.
    const head =
      'EC-Lab ASCII FILE\r\nNb header lines : 3\r\nmode\tox/red\terror\ttime/s\tEwe/V\t<I>/mA\tcycle number\thalf cycle\tQ charge/discharge/mA.h\r\n';
    const lines: string[] = [];
    for (let k = 0; lines.join('').length < 3 * CHUNK_BYTES; k++) {
      const half = Math.floor(k / 700);
      const i = half % 2 === 0 ? 0.65 : -0.65;
      const q = (i * (k % 700)) / 3600;
      const fields = [
        k % 700 > 650 ? 3 : 1,
        i > 0 ? 1 : 0,
        0,
        (k + 0.0123).toFixed(4),
        (3.4 + k * 1.37e-5).toFixed(7),
        i.toExponential(15),
        Math.floor(half / 2).toExponential(15),
        half,
        q.toExponential(15),
      ];
      let line = fields.join('\t');
      if (k % 997 === 5) line = line.replace('.', ',');
      if (k % 991 === 7) line = line.replace('\t', ' \t');
      if (k % 983 === 9) line = line.replace(/\t[^\t]*$/, '\t9.007199254740993E+000').replace(/^((?:[^\t]*\t){4})[^\t]*/, '$19.007199254740993');
      lines.push(line + (k % 13 === 0 ? '\n' : '\r\n') + (k % 1009 === 11 ? '\r\n' : ''));
    }
    const text = head + lines.join('');
    const dir = mkdtempSync(join(tmpdir(), 'oep-mpt-bytes-'));
    try {
      const file = join(dir, 'bytes.mpt');
      writeFileSync(file, text, 'latin1');
      const ref = parseBiologicMpt(text, { fileName: 'bytes.mpt' });
      const src = await openSource(file, {});
      const rows: CyclerRow[] = [];
      for await (const b of parsedBatches(src)) if (b.kind === 'cycler') rows.push(...b.rows);
      expect(rows.length).toBe(ref.rows.length);
      rows.forEach((r, k) => {
        const e = ref.rows[k];
        for (const key of ['ts', 'current_mA', 'voltage_V', 'stepIndex', 'cycleIndex', 'line'] as const) expect(Object.is(r[key], e?.[key])).toBe(true);
      });
      expect(src.reader.kind === 'cycler' ? src.reader.parser.oracle : []).toEqual(ref.oracle);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
