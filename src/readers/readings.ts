/**
 * Parsed rows → channel readings, the one rule shared by `oep process` (typed readings straight into the
 * lab), `oep replay` and `oep follow` (wire payloads): so that the same file gives the same readings
 * offline and through MQTT.
 *
 * Per cycler row: a `step` reading when the cycler's (cycle, step) index changes (only with `withSteps`:
 * the cycler's own step index is then authoritative for segmentation), then `current` (mA, + = charge as
 * the reader gives it), then `voltage` (V) when the row has one. A pressure row is one `pressure` reading
 * in the log's unit.
 *
 * Order at equal timestamps, across channels: step, current, voltage, pressure (`CHANNEL_RANK`). `oep
 * replay` publishes each window's batches in that order, and the offline merge sorts ties the same way,
 * so the aligner sees the same sequence both ways.
 */
import type { Channel } from '../domain/types.js';
import type { PressureRow } from './stream.js';
import type { CyclerRow } from './types.js';

export const CHANNEL_RANK: Readonly<Record<Channel, number>> = { step: 0, current: 1, voltage: 2, pressure: 3 };
/** `CHANNEL_RANK[channel]` by comparison (a lookup keyed by a varying name is a megamorphic load in V8). */
export function channelRank(channel: Channel): number {
  return channel === 'current' ? 1 : channel === 'voltage' ? 2 : channel === 'step' ? 0 : 3;
}
/** Channels in rank order. */
export const RANKED_CHANNELS: readonly Channel[] = ['step', 'current', 'voltage', 'pressure'];

/** Receives the readings of rows, per channel, in the file's own units (mA, V, the log's pressure unit). */
export interface ReadingSink {
  step(ts: number, step: number, cycle: number | undefined): void;
  current(ts: number, current_mA: number): void;
  voltage(ts: number, voltage_V: number): void;
  pressure(ts: number, value: number): void;
}

/** The state between rows: the last (cycle, step) index seen. Serializable (plain fields). */
export class RowsToReadings {
  private lastStep: number | undefined = undefined;
  private lastCycle: number | undefined = undefined;
  private seen = false;

  constructor(readonly withSteps: boolean) {}

  cycler(rows: readonly CyclerRow[], sink: ReadingSink): void {
    const steps = this.withSteps;
    for (const r of rows) {
      if (steps && r.stepIndex !== undefined && (!this.seen || r.stepIndex !== this.lastStep || r.cycleIndex !== this.lastCycle)) {
        sink.step(r.ts, r.stepIndex, r.cycleIndex);
        this.lastStep = r.stepIndex;
        this.lastCycle = r.cycleIndex;
        this.seen = true;
      }
      sink.current(r.ts, r.current_mA);
      if (r.voltage_V !== undefined) sink.voltage(r.ts, r.voltage_V);
    }
  }

  static pressure(rows: readonly PressureRow[], sink: ReadingSink): void {
    for (const r of rows) sink.pressure(r.ts, r.value);
  }
}
