/** A cell core's settings for tests: a 0.65 mA-class NCM cell (17.9 mg), 10 µA deadband, reference cycle 2. */
import type { CellProcessorSettings } from '../../src/domain/cell-processor.js';

export function cellSettings(over: Partial<CellProcessorSettings> = {}): CellProcessorSettings {
  return {
    cell: 'c1',
    restCurrent_mA: 0.01,
    minStepDuration_ms: 10_000,
    currentMaxGap_ms: 120_000,
    currentSampling: 'instantaneous',
    pressureMaxGap_ms: 30_000,
    firstHalf: 'charge',
    cycleSource: 'derived',
    normalization: { kind: 'mass', activeMass_g: 0.0179 },
    refCycle: 2,
    dpdqGrid_mAh: 0.05,
    maxCurvePoints: 400,
    ...over,
  };
}
