/** The report's pieces: the CSV reader, the output-folder loader, ticks and the SVG plot. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CYCLE_CSV_HEADER, STEP_CSV_HEADER } from '../../src/adapters/file-sink.js';
import { command } from '../../src/commands/report.js';
import { ConfigError } from '../../src/config/schema.js';
import { csvNumber, parseCsv, parseCsvRecords } from '../../src/adapters/csv.js';
import { loadReportData, ReportInputError } from '../../src/report/data.js';
import { renderReportHtml } from '../../src/report/html.js';
import { formatTick, niceTicks, renderPlot } from '../../src/report/svg-plot.js';

describe('CSV reader', () => {
  it('reads quoted fields with commas, quotes and newlines; CRLF; a missing last newline', () => {
    expect(parseCsvRecords('a,b,c\r\n1,"x, ""y""",\n2,"multi\nline",z')).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, "y"', ''],
      ['2', 'multi\nline', 'z'],
    ]);
  });

  it('keys rows by the header, skips a repeated header and blank lines, pads short rows', () => {
    const t = parseCsv('\ufefftime_ms,cell,v\n1,a,2\n\ntime_ms,cell,v\n3,b\n');
    expect(t.columns).toEqual(['time_ms', 'cell', 'v']);
    expect(t.rows).toEqual([
      { time_ms: '1', cell: 'a', v: '2' },
      { time_ms: '3', cell: 'b', v: '' },
    ]);
    expect([csvNumber(''), csvNumber(' 2.5 '), csvNumber('x'), csvNumber(undefined)]).toEqual([undefined, 2.5, undefined, undefined]);
  });
});

describe('output folder', () => {
  const stepRow = (cell: string, step: number, kind: string, t0: number, t1: number, p0: number, p1: number): string => {
    const cols = STEP_CSV_HEADER.split(',');
    const v: Record<string, string | number> = {
      time_ms: t1,
      cell,
      kind,
      cycle: 1,
      step,
      start_time_ms: t0,
      i_mean_mA: kind === 'charge' ? 1 : -1,
      p_start_MPa: p0,
      p_end_MPa: p1,
    };
    return cols.map((c) => String(v[c] ?? '')).join(',');
  };

  it('groups by cell, keeps the last row of a repeated step or cycle, reads alerts and late readings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-report-unit-'));
    writeFileSync(
      join(dir, 'steps.csv'),
      [
        STEP_CSV_HEADER,
        stepRow('b', 1, 'charge', 0, 1000, 15, 16),
        stepRow('a', 2, 'discharge', 1000, 2000, 16, 15),
        stepRow('a', 1, 'charge', 0, 1000, 15, 16),
        stepRow('a', 2, 'discharge', 1000, 2000, 16, 14.5),
      ].join('\n') + '\n',
    );
    const cyc = CYCLE_CSV_HEADER.split(',');
    const cycleRow = (v: Record<string, string | number>): string => cyc.map((c) => String(v[c] ?? '')).join(',');
    writeFileSync(
      join(dir, 'cycles.csv'),
      [CYCLE_CSV_HEADER, cycleRow({ time_ms: 2000, cell: 'a', cycle: 1, complete: 1, ce: 0.99, ddp_q_MPa_cm2_per_mAh: 3, drift_MPa_cm2_per_mAh: 0 })].join(
        '\n',
      ) + '\n',
    );
    writeFileSync(join(dir, 'late.csv'), 'ts_ms,cell,channel,value,behind_watermark_ms\n500,a,pressure,15.5,3000\n');
    writeFileSync(join(dir, 'alerts.csv'), 'time_ms,cell,kind,level,message\n1500,a,pressure_drop,CRITICAL,"drop, persisting"\n');
    const d = loadReportData(dir);
    expect(d.cells.map((c) => c.id)).toEqual(['a', 'b']);
    const a = d.cells[0]!;
    expect(a.steps.map((s) => [s.step, s.pEnd_MPa])).toEqual([
      [1, 16],
      [2, 14.5],
    ]);
    expect(a.cycles[0]).toMatchObject({ cycle: 1, complete: true, ce: 0.99, ddpQ: 3, drift: 0 });
    expect(a.normalization).toBe('areal');
    expect(a.late).toEqual([{ ts: 500, cell: 'a', channel: 'pressure', value: 15.5, behind_ms: 3000 }]);
    expect(a.alerts).toEqual([
      {
        time_ms: 1500,
        cell: 'a',
        kind: 'pressure_drop',
        level: 'critical',
        previous: '',
        message: 'drop, persisting',
        incident: '',
        recurrences: undefined,
        peak: undefined,
        unit: '',
      },
    ]);
    expect(d.files).toEqual({ 'steps.csv': 4, 'cycles.csv': 1, 'late.csv': 1, 'alerts.csv': 1 });
    const html = renderReportHtml(d, { generatedAt: 0, title: 'T <&>' });
    expect(html).toContain('<title>T &lt;&amp;&gt;</title>');
    expect(html).toContain('MPa·cm²/(mA·h)');
    expect(html).toContain('drop, persisting');
  });

  it('a folder without steps.csv and cycles.csv is an input error (the CLI exits 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oep-report-empty-'));
    expect(() => loadReportData(dir)).toThrow(ReportInputError);
    expect(() => loadReportData(join(dir, 'missing'))).toThrow(/no such folder/);
    await expect(command.main([dir])).rejects.toThrow(ConfigError);
    await expect(command.main([])).rejects.toThrow(ConfigError);
  });
});

describe('SVG plot', () => {
  it('nice ticks: 1, 2, 2.5, 5 × 10^k inside the range; integer axes', () => {
    expect(niceTicks(0, 10, 5).ticks).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(14.93, 15.21, 6).ticks.map((v) => formatTick(v, 0.05))).toEqual(['14.95', '15.00', '15.05', '15.10', '15.15', '15.20']);
    expect(niceTicks(0.5, 3.5, 10, true)).toEqual({ ticks: [1, 2, 3], step: 1 });
    expect(formatTick(-0.0000001, 0.5)).toBe('0.0');
    expect(formatTick(2e-5, 1e-5)).toBe('2.00e-5');
    expect(formatTick(2_500_000, 500_000)).toBe('2.50e+6');
    expect(formatTick(0, 2.5)).toBe('0.0');
    expect(niceTicks(NaN, 1).ticks).toEqual([]);
  });

  it('draws lines with gaps, scatter, segments and ranges inside the frame; says when there is no data', () => {
    const svg = renderPlot({
      id: 'p1',
      title: 'T',
      xLabel: 'x, h',
      yLabel: 'y, MPa',
      series: [
        {
          type: 'line',
          name: 'l',
          color: '#000',
          points: [
            [0, 1],
            [1, undefined],
            [2, 3],
            [3, 4],
          ],
        },
        { type: 'scatter', name: 's', color: '#111', points: [[1, 2]] },
        { type: 'segments', name: 'g', color: '#222', segments: [[0, 0, 1, 0]] },
        { type: 'ranges', name: 'r', color: '#333', ranges: [[2, 3, 1, 2]] },
      ],
      markers: [{ x: 1.5, color: '#f00', label: 'alert <x>' }],
    });
    expect(svg).toMatch(/^<svg class="oep-plot" id="p1"/);
    expect(svg).toContain('data-points="6"');
    // The line breaks at the missing point: two sub-paths.
    const line = /data-name="l"[^>]*><path d="([^"]+)"/.exec(svg)![1]!;
    expect(line.match(/M/g)).toHaveLength(2);
    expect(svg).toContain('alert &lt;x&gt;');
    expect(svg).not.toMatch(/NaN|Infinity/);
    const empty = renderPlot({
      id: 'p2',
      title: 'E',
      xLabel: 'x',
      yLabel: 'y',
      series: [{ type: 'line', name: 'l', color: '#000', points: [[1, undefined]] }],
      emptyText: 'nothing yet',
    });
    expect(empty).toContain('data-points="0"');
    expect(empty).toContain('nothing yet');
  });
});
