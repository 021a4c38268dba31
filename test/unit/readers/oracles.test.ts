/**
 * The corpus of real cycler exports (`../shared/data/cyclers/`, 15 cycler files and 3 that are not cycler data),
 * each through the code path of `oep process <file> --cell c --out <dir>` with no other option, against the
 * cyclers' own numbers (`oracles.json`): the cycle count; per cycle (or, when the file's cycle index never
 * changes, over the whole file) oep's integral of the current within the file's tolerance (right rectangles on
 * EC-Lab's interval-averaged `<I>/mA`, trapezoids otherwise) and the cycler's own counters, read back, within
 * 1e-6; the files that are not cycler data rejected with one line that names the file and what was expected;
 * and no alert on any of them (healthy commercial cells).
 */
import { describe, expect, it } from 'vitest';
import { compareWithOracle, corpusOracles, runCorpusFile } from '../../support/cycler-oracles.js';

describe('real cycler exports, right with no flags (oracles.json)', () => {
  for (const [name, oracle] of Object.entries(corpusOracles())) {
    it(name, async () => {
      const run = await runCorpusFile(name);
      expect(compareWithOracle(name, oracle, run)).toEqual([]);
      // Commercial cells cycled without fault: every alert on them would be a false alarm. (Caught so far: an
      // LiFePO4 plateau taken for a voltage stall, PEC; the ohmic drop as a 6.6 A or 9.7 A charge ends taken
      // for a hard short, TRI's Arbin and Maccor files.)
      expect(run.alerts).toEqual([]);
    });
  }
});
