import { describe, expect, it } from 'vitest';
import { LiveTable, TABLE_WIDTH, TableWriter } from '../../src/adapters/live-table.js';
import { DEMO_PENETRATION_ONSET_CYCLE, demoCells } from '../../src/sim/scenarios.js';
import { runSimLab } from '../support/sim-lab.js';

describe('the demo live table', () => {
  const start = Date.UTC(2026, 0, 1); // runSimLab's start
  const { events } = runSimLab(demoCells(4), 3, 7);

  it('shows the penetrating cell’s incident from its onset cycle, 22 h into the simulation (22 s at 3600×), in 80 columns', () => {
    const open = events.find((e) => e.type === 'alert' && e.alert.action === 'open');
    expect(open?.type === 'alert' ? [open.alert.cell, open.alert.kind, open.alert.cycle] : undefined).toEqual([
      'cell-02',
      'pressure_drop',
      DEMO_PENETRATION_ONSET_CYCLE,
    ]);
    expect(open?.type === 'alert' ? (open.alert.t - start) / 3_600_000 : Infinity).toBeLessThan(30);
    const table = new LiveTable();
    table.onEvents(events);
    table.note('x'.repeat(200));
    const lines = table.render();
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(TABLE_WIDTH);
    expect(lines.find((l) => l.startsWith('cell-02'))).toMatch(/pressure_drop warn since 2$/);
    expect(lines.find((l) => l.startsWith('cell-01'))).toMatch(/ —$/);
    expect(lines.some((l) => l.includes('cell-02 cycle 2: pressure_drop open warning'))).toBe(true);
  });

  it('redraws in place on a terminal (cursor up, lines cleared; never the whole screen), plain text elsewhere only on change', () => {
    const tty: string[] = [];
    const w = new TableWriter({ write: (s: string) => tty.push(s), isTTY: true });
    w.draw(['a', 'b']);
    w.draw(['a', 'c', 'd']);
    expect(tty[0]).toBe('a\x1b[K\nb\x1b[K\n\x1b[J');
    expect(tty[1]).toBe('\x1b[2Fa\x1b[K\nc\x1b[K\nd\x1b[K\n\x1b[J');
    expect(tty.join('')).not.toContain('\x1b[2J');
    const plain: string[] = [];
    const p = new TableWriter({ write: (s: string) => plain.push(s) });
    p.draw(['a']);
    p.draw(['a']);
    p.draw(['b']);
    expect(plain).toEqual(['a\n\n', 'b\n\n']);
  });
});
