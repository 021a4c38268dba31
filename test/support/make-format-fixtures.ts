/**
 * Writes the synthetic sample exports under test/fixtures/formats/ (see the README there). Deterministic:
 * `node <ts hooks> test/support/make-format-fixtures.ts` rewrites the same bytes. The cell model is the
 * truth the tests check against (`FORMAT_TRUTH`), computed in closed form, not by oep's code.
 *
 * Cell: NCM|LPSCl|Li, ~2.1 mAh, cycled at 0.65 mA (0.3C): CC charge 2.9 h, CV hold at 4.3 V with the
 * current decaying as 0.65·exp(−t/20 min) down to 0.065 mA, 10 min rest, CC discharge 3.1 h, 10 min rest.
 * Stack pressure = 15 MPa + 1.0 MPa/mAh × charge stored (so Δ(ΔP) = 1.0 × Q_discharge, p_irrev = 1.0 ×
 * (Q_charge − Q_discharge)); the load cell reads it on the 13 mm mold in 0.1 kgf counts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { ECLAB_PROFILE_START_TS, FORMAT_TRUTH as T, type Segment, profile, storedAt } from './format-truth.js';
import { ECLAB_GCPL_COLUMNS } from '../../src/readers/biologic/columns.js';

const DIR = new URL('../fixtures/formats/', import.meta.url);
mkdirSync(DIR, { recursive: true });
const write = (name: string, text: string, encoding: BufferEncoding = 'latin1'): void => {
  writeFileSync(new URL(name, DIR), Buffer.from(text, encoding));
};

const e16 = (v: number): string => {
  // EC-Lab v11 style: 3.600012300000000E+003
  if (v === 0) return '0.000000000000000E+000';
  const [m, ex] = v.toExponential(15).split('e');
  const n = Number(ex);
  return `${m}E${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(3, '0')}`;
};

interface Row {
  t_s: number; // since the profile start
  seg: Segment;
  i_mA: number;
  v: number;
  q_half: number; // Q charge/discharge of the half cycle so far, mAh (signed)
}

/** Sample rows of a profile: every dt in a segment, the segment's end point, the next one 0.05 s later. */
function sample(segments: readonly Segment[], dtOf: (s: Segment) => number, until_s = Infinity): Row[] {
  const rows: Row[] = [];
  for (const seg of segments) {
    const dt = dtOf(seg);
    const first = seg.t0_s === 0 ? 0 : 0.05;
    const times: number[] = [];
    for (let t = first; t < seg.dur_s; t += dt) times.push(t);
    times.push(seg.dur_s);
    for (const u of times) {
      const t_s = seg.t0_s + u;
      if (t_s > until_s) return rows;
      rows.push({ t_s, seg, i_mA: seg.current(u), v: seg.voltage(u), q_half: seg.qHalf0_mAh + seg.charge(u) * (seg.kind === 'discharge' ? -1 : 1) });
    }
  }
  return rows;
}

const fixed = (v: number, d: number): string => v.toFixed(d);

// ---- EC-Lab GCPL, full header (the cycling part of a linked experiment: time/s starts at 3600 s) ----
function eclabFull(): void {
  const segs = profile(T.cycles + 1, T.current_mA);
  const rows = sample(segs, (s) => (s.kind === 'cv' ? 30 : 60), T.eclabEnd_s);
  const settings = [
    'Galvanostatic Cycling with Potential Limitation',
    '',
    'Run on channel : 3 (SN 14990)',
    'User : ',
    'CE vs. WE compliance from -10 V to 10 V',
    'Electrode connection : standard',
    'Potential control : Ewe',
    'Ewe ctrl range : min = 0.00 V, max = 5.00 V',
    'Ewe,I filtering : <None>',
    'Safety Limits :',
    '\tEwe min = 2.5 V',
    '\tEwe max = 4.5 V',
    'Channel : Floating',
    `Acquisition started on : ${T.eclabAcquisition}`,
    'Loaded Setting File : NONE',
    'Saved on :',
    '\tFile : NCM_LPSCl_Li_03C_cell01_02_GCPL_C03.mpr',
    '\tDirectory : D:\\OEP\\2024-03\\',
    '\tHost : 192.168.10.21',
    'Device : VSP-300 (SN 0311)',
    'Address : USB',
    'EC-Lab for windows v11.43 (software)',
    'Internet server v11.40 (firmware)',
    'Command interpretor v11.43 (firmware)',
    'Electrode material : NCM811 | Li6PS5Cl | Li',
    'Initial state : pristine',
    'Electrolyte : Li6PS5Cl (argyrodite)',
    'Comments : 13 mm PEEK mold, 10 MPa stack pressure, load cell under the stack (separate logger)',
    'Cable : standard',
    'Electrode surface area : 1.327 cm²',
    'Characteristic mass : 17.900 mg',
    'Equivalent Weight : 0.000 g/eq.',
    'Density : 0.000 g/cm3',
    'Volume (V) : 0.001 cm³',
    'Cycle Definition : Charge/Discharge alternance',
    'Ns                  0                   1                   ',
    'Set I/C             I                   I                   ',
    'Is                  0.650               -0.650              ',
    'unit Is             mA                  mA                  ',
    'EM (V)              4.300               3.000               ',
    'tM (h:m:s)          0:00:0.0000         0:00:0.0000         ',
    'Im                  0.065               pass                ',
    'unit Im             mA                  mA                  ',
    'record              <Ewe>               <Ewe>               ',
    'dEp (mV)            5.00                5.00                ',
    'dtp (s)             60.0000             60.0000             ',
    'tR (h:m:s)          0:10:0.0000         0:10:0.0000         ',
    'nc cycles           3                   ',
    '',
  ];
  const columns = ECLAB_GCPL_COLUMNS;
  const n = 3 + settings.length;
  const lines = ['EC-Lab ASCII FILE', `Nb header lines : ${n}`, ...settings, columns.join('\t') + '\t'];
  let prevSeg: Segment | undefined;
  let prevT_s: number | undefined;
  for (const r of rows) {
    const s = r.seg;
    // `<I>/mA` is EC-Lab's mean current over the interval that ends at the row (the charge stored over it / its length).
    const iMean_mA = prevT_s === undefined || r.t_s === prevT_s ? r.i_mA : ((storedAt(segs, r.t_s) - storedAt(segs, prevT_s)) * 3600) / (r.t_s - prevT_s);
    prevT_s = r.t_s;
    const mode = s.kind === 'rest' ? 3 : s.kind === 'cv' ? 2 : 1;
    const change = prevSeg !== s ? 1 : 0;
    prevSeg = s;
    const stored = storedAt(segs, r.t_s);
    const qCh = r.q_half > 0 ? r.q_half : 0;
    const qDis = r.q_half < 0 ? -r.q_half : 0;
    lines.push(
      [
        mode,
        r.i_mA >= 0 ? 1 : 0,
        0,
        change,
        change,
        0,
        s.kind === 'discharge' ? 1 : 0,
        fixed(T.eclabTimeOffset_s + r.t_s, 4),
        s.kind === 'cv' ? fixed(4.3, 4) : fixed(s.kind === 'discharge' ? -0.65 : s.kind === 'rest' ? 0 : 0.65, 4),
        fixed(r.v, 7),
        e16(iMean_mA),
        e16(0),
        e16(stored),
        s.half,
        e16(r.q_half),
        e16((qCh * r.v) / 1000),
        e16((qDis * r.v) / 1000),
        e16(0),
        e16(0),
        e16(qDis),
        e16(qCh),
        e16(Math.abs(r.q_half)),
        e16(0),
        e16(s.cycle),
        e16((r.v * r.i_mA) / 1000),
      ].join('\t') + '\t',
    );
  }
  write('eclab_gcpl_ncm.mpt', lines.join('\r\n') + '\r\n');
}

// ---- EC-Lab plain export (3-line header), French locale: decimal commas, I/mA, no acquisition date ----
function eclabPlain(): void {
  const segs = profile(2, T.plainCurrent_mA);
  const rows = sample(segs, (s) => (s.kind === 'cv' ? 20 : 45));
  const columns = ['mode', 'ox/red', 'error', 'time/s', 'Ewe/V', 'I/mA', 'cycle number', 'half cycle', 'Q charge/discharge/mA.h', 'Capacitance charge/µF'];
  const lines = ['EC-Lab ASCII FILE', 'Nb header lines : 3', columns.join('\t')];
  for (const r of rows) {
    const s = r.seg;
    const mode = s.kind === 'rest' ? 3 : s.kind === 'cv' ? 2 : 1;
    const c = (x: string): string => x.replace('.', ',');
    lines.push(
      [
        mode,
        r.i_mA >= 0 ? 1 : 0,
        0,
        c(fixed(T.plainTimeOffset_s + r.t_s, 4)),
        c(fixed(r.v, 7)),
        c(e16(r.i_mA)),
        c(e16(s.cycle)),
        s.half,
        c(e16(r.q_half)),
        c(e16(0)),
      ].join('\t'),
    );
  }
  write('eclab_plain_fr.mpt', lines.join('\r\n') + '\r\n');
}

// ---- Load-cell logger: `;` separated, decimal commas, preamble, elapsed seconds, force in kgf ----
function loadCell(): void {
  const segs = profile(T.cycles + 1, T.current_mA);
  // The logger starts before the cycler's first row and runs past its end; its clock is 300 s behind.
  const lines = [
    'LoadLog 2.3 export',
    'Device;LC-500 S-beam load cell;S/N 2311-087;resolution 0,1 kgf',
    `Start;${T.loadCellStartText}`,
    'Sample interval;10 s',
    '',
    'Elapsed (s);Force (kgf);Status',
  ];
  for (let u = 0; ; u += 10) {
    const t = (T.loadCellTrueStartTs + u * 1000 - ECLAB_PROFILE_START_TS) / 1000; // profile time of the sample (true clock)
    if (t > T.eclabEnd_s + 1800) break;
    const p = 15 + T.k_MPa_per_mAh * storedAt(segs, Math.max(0, t));
    const kgf = Math.round(((p * T.areaMm2) / 9.80665) * 10) / 10;
    lines.push(`${fixed(u, 1).replace('.', ',')};${fixed(kgf, 1).replace('.', ',')};OK`);
  }
  write('loadcell_kgf.csv', lines.join('\r\n') + '\r\n');
}

// ---- Arbin MITS Pro channel sheet as CSV: CC, CV, rest, discharge, rest as separate steps ----
function arbin(): void {
  const segs = profile(2, T.current_mA);
  const rows = sample(segs, (s) => (s.kind === 'cv' ? 30 : 60));
  const header =
    'Data_Point,Test_Time(s),Date_Time,Step_Time(s),Step_Index,Cycle_Index,Current(A),Voltage(V),Charge_Capacity(Ah),Discharge_Capacity(Ah),Charge_Energy(Wh),Discharge_Energy(Wh),dV/dt(V/s),Internal_Resistance(Ohm),Is_FC_Data,AC_Impedance(Ohm),ACI_Phase_Angle(Deg)';
  const lines = [header];
  const stepOf: Record<Segment['kind'], number> = { cc: 2, cv: 3, discharge: 5, rest: 0 };
  let k = 0;
  for (const r of rows) {
    const s = r.seg;
    const step = s.kind === 'rest' ? (s.afterKind === 'none' ? 1 : s.afterKind === 'charge' ? 4 : 6) : stepOf[s.kind];
    const qc = s.cycleCharge0_mAh + (s.kind === 'cc' || s.kind === 'cv' ? s.charge(r.t_s - s.t0_s) : 0);
    const qd = s.cycleDischarge0_mAh + (s.kind === 'discharge' ? s.charge(r.t_s - s.t0_s) : 0);
    const test = T.arbinTimeOffset_s + r.t_s + 0.000509866513465;
    const wall = new Date(T.arbinStartTs + Math.round(test) * 1000);
    const mdy = `${String(wall.getUTCMonth() + 1).padStart(2, '0')}/${String(wall.getUTCDate()).padStart(2, '0')}/${wall.getUTCFullYear()} ${wall.toISOString().slice(11, 19)}`;
    lines.push(
      [
        ++k,
        test.toFixed(15),
        mdy,
        (r.t_s - s.t0_s + 0.000509866513465).toFixed(15),
        step,
        s.cycle + 1,
        (r.i_mA / 1000).toExponential(9),
        r.v.toFixed(9),
        (qc / 1000).toFixed(12),
        (qd / 1000).toFixed(12),
        0,
        0,
        0,
        0.0612,
        0,
        0,
        0,
      ].join(','),
    );
  }
  write('arbin_channel_1.csv', '\ufeff' + lines.join('\r\n') + '\r\n', 'utf8');
}

// ---- Pressure in MPa with ISO-8601 UTC timestamps (a PLC historian export), for the Arbin file ----
function pressureIso(): void {
  const segs = profile(2, T.current_mA);
  const end = segs[segs.length - 1]!.t0_s + segs[segs.length - 1]!.dur_s;
  const lines = ['Timestamp,Stack Pressure [MPa],Temperature [°C]'];
  for (let t = -300; t <= end + 300; t += 5) {
    const p = 15 + T.k_MPa_per_mAh * storedAt(segs, Math.max(0, t));
    lines.push(`${new Date(T.arbinStartTs + (T.arbinTimeOffset_s + t) * 1000).toISOString()},${p.toFixed(4)},30.1`);
  }
  write('pressure_iso_mpa.csv', lines.join('\n') + '\n', 'utf8');
}

// ---- A lab's own logger: `;`, decimal commas, German names, H:MM:SS time, discharge-positive current ----
function generic(): void {
  const segs = profile(2, T.current_mA);
  const rows = sample(segs, () => 60);
  const lines = ['# Prüfstand 2, Kanal 4', '# Messung gestartet 14.03.2024 09:00:00', 'Zeit;Strom [mA];Spannung [V];Zyklus'];
  for (const r of rows) {
    const t = Math.round(r.t_s * 1000) / 1000;
    const h = Math.floor(t / 3600);
    const m = Math.floor((t % 3600) / 60);
    const s = t - h * 3600 - m * 60;
    const hms = `${h}:${String(m).padStart(2, '0')}:${s.toFixed(3).padStart(6, '0')}`;
    lines.push([hms, fixed(-r.i_mA, 6), fixed(r.v, 4), r.seg.cycle + 1].join(';').replace(/(\d)\.(\d)/g, '$1,$2'));
  }
  write('generic_logger.csv', lines.join('\n') + '\n', 'utf8');
  write(
    'generic_logger.mapping.yaml',
    [
      '# Column mapping for generic_logger.csv: oep process generic_logger.csv --mapping generic_logger.mapping.yaml …',
      'separator: ";"',
      'time: Zeit',
      'timeFormat: duration',
      'start: "2024-03-14T09:00:00Z"',
      'current: Strom [mA]',
      'currentUnit: mA',
      'currentSign: discharge-positive',
      'voltage: Spannung [V]',
      'cycle: Zyklus',
      '',
    ].join('\n'),
    'utf8',
  );
}

eclabFull();
eclabPlain();
loadCell();
arbin();
pressureIso();
generic();
process.stdout.write(`fixtures written to ${DIR.pathname}\n`);
