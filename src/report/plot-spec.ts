/**
 * What a report plot is drawn from: series of points, x-bands, markers and reference lines, and the plot's
 * labels and axes. `svg-plot.ts` renders one.
 */

/** A point; an undefined or non-finite y breaks a line (no value there). */
export type Pt = readonly [x: number, y: number | undefined];

interface SeriesBase {
  readonly name: string;
  readonly color: string;
  /** Leave out of the legend. */
  readonly hideInLegend?: boolean;
}

export type Series =
  | (SeriesBase & { readonly type: 'line'; readonly points: readonly Pt[]; readonly markers?: boolean; readonly dash?: string; readonly width?: number })
  | (SeriesBase & { readonly type: 'scatter'; readonly points: readonly Pt[]; readonly shape?: 'circle' | 'cross'; readonly radius?: number })
  | (SeriesBase & {
      readonly type: 'segments';
      readonly segments: readonly (readonly [x0: number, y0: number, x1: number, y1: number])[];
      readonly width?: number;
      readonly dash?: string;
    })
  | (SeriesBase & {
      readonly type: 'ranges';
      readonly ranges: readonly (readonly [x0: number, x1: number, y0: number, y1: number])[];
      readonly opacity?: number;
    });

/** A shaded span of x (e.g. a charge step). */
export interface Band {
  readonly x0: number;
  readonly x1: number;
  readonly color: string;
  readonly opacity?: number;
  /** Hover text; a labelled band is an incident (`class="incident"`). */
  readonly label?: string;
}

/** A vertical marker line (e.g. an alert), with a hover text. */
export interface Marker {
  readonly x: number;
  readonly color: string;
  readonly label: string;
}

/** A horizontal reference line (e.g. zero, a reference value). */
export interface RefLine {
  readonly y: number;
  readonly color: string;
  readonly label?: string;
  readonly dash?: string;
}

export interface PlotSpec {
  /** Unique within the document (used for the clip path). */
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly bands?: readonly Band[];
  /** Legend entries for the bands (e.g. charge / discharge). */
  readonly bandLegend?: readonly { readonly label: string; readonly color: string }[];
  readonly markers?: readonly Marker[];
  /** Legend entries for the markers (default: one "alert" entry in the first marker's color). */
  readonly markerLegend?: readonly { readonly label: string; readonly color: string }[];
  readonly refLines?: readonly RefLine[];
  readonly width?: number;
  readonly height?: number;
  /** Ticks on integers only (cycle numbers). */
  readonly xInteger?: boolean;
  /** Extra room at both ends of x, in data units (e.g. 0.5 cycle). */
  readonly xPad?: number;
  /** Shown when there is no data. */
  readonly emptyText?: string;
}
