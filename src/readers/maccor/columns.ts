/**
 * The header of a Maccor text export, in any of the layouts Maccor's exporter and its users write (see the
 * corpus in ../shared/data/cyclers/SOURCES.md): the first tab-separated line whose first cell is `Rec#` or
 * `Rec`. The same quantity goes by several names:
 *
 * | quantity | names | unit |
 * |---|---|---|
 * | cycle index | `Cyc#`, `Cycle C` (KIT/SIMBA export, beside `Cycle P`) | |
 * | step index | `Step` | |
 * | test time | `Test (Sec)`, `Test (Min)`, `TestTime` (`Nd hh:mm:ss.fff`, or a bare number whose unit the wall clock tells) | |
 * | step time | `Step (Sec)`, `Step (Min)`, `StepTime` | as the test time |
 * | capacity counter | `Amp-hr`, `Cap. [Ah]`, `mAmp-hr` | Ah, Ah, mAh |
 * | current | `Amps`, `Current [A]`, `mAmps` | A, A, mA |
 * | voltage | `Volts`, `Voltage [V]` (mV in an export whose other columns are milli-units) | V or mV |
 * | state | `State`, `Md` (C, D, R, O, S) | |
 * | wall clock | `DPt Time`, `DPT Time` | MM/DD/YYYY hh:mm:ss[ AM/PM] |
 */
import { findColumn, requireColumn, type Column } from '../common.js';

export interface MaccorColumns {
  readonly cycle: Column;
  readonly step: Column;
  readonly test: Column;
  readonly stepTime: Column;
  readonly amps: Column;
  readonly state: Column;
  readonly ah: Column;
  readonly volt: Column;
  readonly date: Column;
  /** Factors to mA, mAh and V. */
  readonly toMa: number;
  readonly toMah: number;
  readonly toV: number;
  /** Seconds per unit of the time columns when the header says (`(Sec)`, `(Min)`); undefined: from the cells. */
  readonly timeUnit_s: number | undefined;
  readonly need: number;
}

/** The first cell of a Maccor header line. */
export const MACCOR_FIRST_CELLS = ['Rec#', 'Rec'];

/** True when the (tab-split, trimmed) cells are a Maccor header. */
export function isMaccorHeader(cells: readonly string[]): boolean {
  const first = cells[0] ?? '';
  return MACCOR_FIRST_CELLS.includes(first) && cells.includes('Step');
}

/** The header row's cells → the positions of the columns read and their units. */
export function readMaccorHeader(cells: string[], headerLine: number, fileName: string): MaccorColumns {
  const col = (...names: string[]): Column => requireColumn(cells, fileName, headerLine, ...names);
  const cycle = col('Cyc#', 'Cycle C');
  const step = col('Step');
  const test = col('Test (Sec)', 'Test (Min)', 'TestTime');
  const stepTime = findColumn(cells, 'Step (Sec)', 'Step (Min)', 'StepTime');
  const amps = col('Amps', 'Current [A]', 'mAmps');
  const state = col('State', 'Md');
  const ah = col('Amp-hr', 'Cap. [Ah]', 'mAmp-hr');
  const volt = findColumn(cells, 'Volts', 'Voltage [V]');
  const date = findColumn(cells, 'DPt Time', 'DPT Time');
  const milli = amps.name === 'mAmps';
  const need = Math.max(cycle.index, step.index, test.index, stepTime.index, amps.index, state.index, ah.index, volt.index, date.index) + 1;
  return {
    cycle,
    step,
    test,
    stepTime,
    amps,
    state,
    ah,
    volt,
    date,
    toMa: milli ? 1 : 1000,
    toMah: ah.name === 'mAmp-hr' ? 1 : 1000,
    // The milli-unit export writes `Volts` in mV (1853.8 at rest, ~3800 at the end of charge).
    toV: milli && volt.name === 'Volts' ? 0.001 : 1,
    timeUnit_s: test.name.endsWith('(Sec)') ? 1 : test.name.endsWith('(Min)') ? 60 : undefined,
    need,
  };
}
