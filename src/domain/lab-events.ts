/** What a {@link Lab} call appends to its `events`: records, late readings, alert changes, gaps, failures. */
import type { AlertEvent } from './alerts/incidents.js';
import type { Gap } from './gaps.js';
import type { CycleRecord, Reading, StepRecord } from './types.js';

export type LabEvent =
  | { readonly type: 'step'; readonly record: StepRecord }
  | { readonly type: 'cycle'; readonly record: CycleRecord }
  | { readonly type: 'late'; readonly reading: Reading; readonly watermark: number }
  | { readonly type: 'alert'; readonly alert: AlertEvent }
  /** A hole in a channel's event time while current flowed (live only: see `LabOptions.trackGaps`). */
  | { readonly type: 'gap'; readonly gap: Gap }
  /** A cell stopped processing after an internal error (reported once per cell). */
  | { readonly type: 'failure'; readonly cell: string; readonly message: string; readonly t: number };
