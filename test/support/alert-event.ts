/** Hand-made incident events for the adapter tests: a level change wrapped as the lab would emit it. */
import type { AlertEvent } from '../../src/domain/alerts/incidents.js';
import { LEVEL_RANK, type LevelChange } from '../../src/domain/alerts/lifecycle.js';

export function incidentEvent(change: LevelChange, cycle = 0, silenced = false): AlertEvent {
  const action = change.level === 'ok' ? 'resolve' : LEVEL_RANK[change.previous] > 0 ? 'escalate' : 'open';
  const level = change.level === 'ok' ? change.previous : change.level;
  return {
    ...change,
    action,
    cycle,
    silenced,
    incident: {
      id: `${change.cell}:${change.kind}:${String(change.t)}`,
      kind: change.kind,
      level,
      openedT: change.t,
      openedCycle: cycle,
      lastSeenT: change.t,
      lastSeenCycle: cycle,
      peak: change.value,
      unit: change.unit,
      lastValue: change.value,
      lastWarn: change.threshold,
      recurrences: 0,
      silenced,
    },
  };
}
