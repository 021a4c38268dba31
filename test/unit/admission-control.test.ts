/**
 * The daemon's cell entries (pipelines/admission.ts): a message's cell found by one lookup at the edge, its
 * state handed to the lab. The entries follow the lab: a cell evicted, restored or made again is never fed
 * through a state the lab has let go. Real lab, real edge, the pipeline the daemon runs.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { resolveCell } from '../../src/config/cell-setup.js';
import { parseConfig } from '../../src/config/schema.js';
import type { RawMessage } from '../../src/adapters/mqtt.js';
import { Lab, type CellState } from '../../src/domain/lab.js';
import { AdmissionControl, CellEntry } from '../../pipelines/admission.js';
import { oepPipeline } from '../../pipelines/operators.js';

const T = Date.UTC(2026, 0, 1);

function setup(): { lab: Lab; control: AdmissionControl; send: (cell: string, ts: number) => void } {
  const cfg = parseConfig({ cells: [{ id: 'c1' }], edge: { cells: 'any', maxUnknownCells: 2, evictIdle_s: 60 } });
  const held: { control?: AdmissionControl } = {};
  const lab = new Lab((id) => resolveCell(cfg, id), undefined, {
    onCell: (id, c) => {
      held.control?.placed(id, c);
    },
  });
  const control = new AdmissionControl(cfg, lab, (id) => resolveCell(cfg, id));
  held.control = control;
  const edge = control.edge;
  const messages$ = new Subject<RawMessage>();
  oepPipeline(messages$, {
    topicPrefix: 'oep',
    settingsFor: (id) => control.entry(id).settings,
    maxFutureSkew_ms: 0,
    edge,
    lab,
    tick_ms: 3_600_000,
    now: () => T,
  }).subscribe();
  const send = (cell: string, ts: number): void => {
    // the compact batch every publisher sends: the edge hands it to the lab as numbers
    messages$.next({ topic: `oep/${cell}/current`, payload: Buffer.from(`[{"ts":${ts},"value":1}]`), arrival: ts });
  };
  return { lab, control, send };
}

const accepted = (c: CellState | undefined): number | undefined => c?.counters.accepted;
const stateOf = (e: ReturnType<AdmissionControl['admit']>): CellState | undefined => (e instanceof CellEntry ? e.state : undefined);

describe('the cell entries', () => {
  it('hand the lab the state it holds: after an eviction a cell comes back as a new state, the old one untouched', () => {
    const { lab, control, send } = setup();
    send('u1', T);
    send('u1', T + 1_000);
    const first = lab.cells.get('u1');
    expect(accepted(first)).toBe(2);
    expect(stateOf(control.admit('u1'))).toBe(first);

    expect(control.sweep(T + 1_000 + 60_000)).toBe(1); // idle, no closed step: forgotten
    expect(lab.cells.has('u1')).toBe(false);
    expect(control.admit('u1')).toBeUndefined(); // no entry left
    send('u1', T + 70_000);
    const again = lab.cells.get('u1');
    expect(again).toBeDefined();
    expect(again).not.toBe(first);
    expect(accepted(again)).toBe(1);
    expect(accepted(first)).toBe(2);
  });

  it('follow a cell put back from its record', () => {
    const { lab, control, send } = setup();
    send('c1', T);
    const record = lab.cellRecord('c1');
    expect(record).toBeDefined();
    if (record !== undefined) lab.restoreRecord('c1', record);
    const restored = lab.cells.get('c1');
    send('c1', T + 1_000);
    expect(accepted(restored)).toBe(2);
    expect(stateOf(control.admit('c1'))).toBe(restored);
  });

  it('keep the cap on unknown cells: an evicted cell frees its place, a refused id gets no entry', () => {
    const { lab, control, send } = setup();
    send('u1', T);
    send('u2', T);
    expect(control.admit('u3')).toBe('cell_limit');
    send('u3', T);
    expect(lab.cells.has('u3')).toBe(false);
    expect(control.admit('u1')).toBeInstanceOf(CellEntry); // holds state: still in
    control.sweep(T + 60_000);
    expect(lab.cells.size).toBe(0);
    expect(control.admit('u3')).toBeUndefined();
    send('u3', T + 61_000);
    expect(accepted(lab.cells.get('u3'))).toBe(1);
  });
});
