/**
 * The columns of an EC-Lab GCPL export with every quantity ticked, in the order EC-Lab writes them (what a
 * GCPL run exports by default). The reader does not need them (it reads columns by name); the benchmark
 * and the synthetic fixtures write files with them.
 */
export const ECLAB_GCPL_COLUMNS = [
  'mode',
  'ox/red',
  'error',
  'control changes',
  'Ns changes',
  'counter inc.',
  'Ns',
  'time/s',
  'control/V/mA',
  'Ewe/V',
  '<I>/mA',
  'dQ/C',
  '(Q-Qo)/mA.h',
  'half cycle',
  'Q charge/discharge/mA.h',
  'Energy charge/W.h',
  'Energy discharge/W.h',
  'Capacitance charge/µF',
  'Capacitance discharge/µF',
  'Q discharge/mA.h',
  'Q charge/mA.h',
  'Capacity/mA.h',
  'Efficiency/%',
  'cycle number',
  'P/W',
] as const;
