/**
 * The demo's live table, 80 columns wide: per cell its latest complete cycle and its open incident (kind,
 * level, since which cycle), and under the table the last few incident events and log lines. On a TTY it
 * redraws in place (cursor up over the previous drawing, each line cleared to its end; no whole-screen
 * clear, no scrollback flood); elsewhere it prints the table as plain lines when it changed.
 */
import type { AlertEvent } from '../domain/alerts/incidents.js';
import type { LabEvent } from '../domain/lab.js';
import type { CycleRecord } from '../domain/types.js';

export const TABLE_WIDTH = 80;
/** Incident events and log lines kept under the table. */
export const TABLE_RECENT_LINES = 5;

const fmt = (v: number | undefined, digits: number): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));
const fit = (s: string, width: number): string => (s.length <= width ? s : s.slice(0, width - 1) + '…');
const short = (level: string): string => (level === 'critical' ? 'CRIT' : level === 'warning' ? 'warn' : level);

export class LiveTable {
  private readonly latest = new Map<string, CycleRecord>();
  private readonly stepsSeen = new Map<string, number>();
  /** Open incidents per cell, by kind. */
  private readonly open = new Map<string, Map<string, AlertEvent>>();
  private readonly recent: string[] = [];
  cycles = 0;
  steps = 0;

  onEvents(events: readonly LabEvent[]): void {
    for (const e of events) {
      if (e.type === 'cycle') {
        this.cycles++;
        if (e.record.complete) this.latest.set(e.record.cell, e.record);
      } else if (e.type === 'alert') this.onIncident(e.alert);
      else if (e.type === 'step') {
        this.steps++;
        this.stepsSeen.set(e.record.cell, (this.stepsSeen.get(e.record.cell) ?? 0) + 1);
      }
    }
  }

  private onIncident(a: AlertEvent): void {
    const m = this.open.get(a.cell) ?? new Map<string, AlertEvent>();
    this.open.set(a.cell, m);
    if (a.action === 'resolve') m.delete(a.kind);
    else m.set(a.kind, a);
    const what = a.action === 'resolve' ? 'resolved' : `${a.action} ${a.level}`;
    this.note(`${a.cell} cycle ${String(a.cycle)}: ${a.kind} ${what}${a.silenced ? ' (silenced)' : ''}: ${a.message}`);
  }

  /** A line for the area under the table (an incident event, a log line). */
  note(line: string): void {
    this.recent.push(line);
    if (this.recent.length > TABLE_RECENT_LINES) this.recent.shift();
  }

  /** The open incident shown for a cell: the worst, the oldest among equals; with how many more are open. */
  private incidentText(cell: string): string {
    const open = [...(this.open.get(cell)?.values() ?? [])];
    if (open.length === 0) return '—';
    const rank = (a: AlertEvent): number => (a.incident.level === 'critical' ? 2 : 1);
    open.sort((a, b) => rank(b) - rank(a) || a.incident.openedT - b.incident.openedT);
    const [first] = open;
    if (first === undefined) return '—';
    const i = first.incident;
    return `${i.kind} ${short(i.level)} since ${String(i.openedCycle)}${open.length > 1 ? ` +${String(open.length - 1)}` : ''}`;
  }

  /** The table and the recent lines, every line at most {@link TABLE_WIDTH} columns. */
  render(): string[] {
    const head =
      ['cell'.padEnd(9), 'cycle', 'Q mAh/g'.padStart(8), 'CE %'.padStart(7), 'Δ(ΔP_Q)'.padStart(8), 'drift'.padStart(6)].join(' ') + '  open incident';
    const rows = [...this.stepsSeen.keys()].sort().map((cell) => {
      const c = this.latest.get(cell);
      const left = [
        fit(cell, 9).padEnd(9),
        String(c?.cycle ?? '—').padStart(5),
        fmt(c?.qDischarge_mAh_g, 1).padStart(8),
        fmt(c?.ce === undefined ? undefined : c.ce * 100, 2).padStart(7),
        fmt(c?.ddpQ_MPa_g_per_Ah ?? c?.ddpQ_MPa_cm2_per_mAh, 2).padStart(8),
        fmt(c?.drift_MPa_g_per_Ah ?? c?.drift_MPa_cm2_per_mAh, 2).padStart(6),
      ].join(' ');
      return left + '  ' + fit(this.incidentText(cell), TABLE_WIDTH - left.length - 2);
    });
    const recent = this.recent.length === 0 ? [] : ['', 'recent incident events:', ...this.recent.map((l) => fit('  ' + l, TABLE_WIDTH))];
    return [head, ...rows, ...recent];
  }
}

/** Draws a table again and again: in place on a TTY, as plain text (only when it changed) elsewhere. */
export class TableWriter {
  private drawn = 0;
  private last = '';

  constructor(
    private readonly out: { write(s: string): unknown; readonly isTTY?: boolean | undefined },
    private readonly tty = out.isTTY === true,
  ) {}

  draw(lines: readonly string[]): void {
    const text = lines.join('\n');
    if (!this.tty) {
      if (text !== this.last) this.out.write(text + '\n\n');
      this.last = text;
      return;
    }
    // Back to the first line of the previous drawing, rewrite each line, clear what is left below.
    const up = this.drawn > 0 ? `\x1b[${String(this.drawn)}F` : '';
    this.out.write(up + lines.map((l) => l + '\x1b[K').join('\n') + '\n\x1b[J');
    this.drawn = lines.length;
    this.last = text;
  }
}
