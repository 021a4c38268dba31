/**
 * Which cells of a lab changed since the last checkpoint, and the consistent snapshot being taken of them
 * a few cells at a time while readings go on (copy on write): the lab says when a cell changed and when
 * one is about to; a cell still pending in the snapshot is handed over first, as it stood.
 */
import type { CellRecord } from './cell-state.js';

const NONE: ReadonlySet<string> = new Set();

/** A consistent snapshot being taken (see {@link LabChanges.beginCapture}). */
interface Capture {
  /** Cells still to hand over, as they stood when the capture began. */
  readonly pending: Set<string>;
  readonly take: (id: string, record: CellRecord | undefined) => void;
}

export class LabChanges {
  /** Cells changed since {@link takeDirty} was last called (a checkpoint re-encodes only those). */
  private dirty = new Set<string>();
  private capture: Capture | undefined;
  private rounds = 0;

  /** @param recordOf a cell's state as it stands now (undefined when the lab no longer has it). */
  constructor(private readonly recordOf: (id: string) => CellRecord | undefined) {}

  /** How many times {@link takeDirty} was called: a cell marked changed in this round is in the set already. */
  get round(): number {
    return this.rounds;
  }

  /** The cell changed (or was created, restored, forgotten). */
  changed(id: string): void {
    this.dirty.add(id);
  }

  /** The cell is about to change: a pending cell of the capture in progress is handed over first. */
  beforeChange(id: string): void {
    if (this.capture !== undefined) this.captureNext(id);
  }

  /** The ids of the cells changed since the previous call (every cell, the first time). */
  takeDirty(): Set<string> {
    const d = this.dirty;
    this.dirty = new Set();
    this.rounds++;
    return d;
  }

  /**
   * Begins a snapshot of the lab as it stands now: the cells changed since the previous snapshot are
   * pending; {@link captureNext} hands one over to `take`, and a pending cell about to change (a reading, a
   * rejection, an eviction) is handed over first, as it stood. Until {@link endCapture}, the lab's
   * processing-time tick skips pending cells (their idle release and deadman wait for the next tick, a
   * second later) so that it never hands over the whole lab at once. Returns the pending set (it empties
   * as cells are handed over).
   */
  beginCapture(take: (id: string, record: CellRecord | undefined) => void): ReadonlySet<string> {
    if (this.capture !== undefined) throw new Error('a capture is already in progress');
    const pending = this.takeDirty();
    this.capture = { pending, take };
    return pending;
  }

  /** Hands over one pending cell; nothing if it was handed over already. */
  captureNext(id: string): void {
    const cap = this.capture;
    if (cap?.pending.delete(id) === true) cap.take(id, this.recordOf(id));
  }

  /** The cells the capture in progress has still to hand over (empty without one). */
  get capturePending(): ReadonlySet<string> {
    return this.capture?.pending ?? NONE;
  }

  /** Ends a capture that failed: its cells (pending, and `taken`, handed over already) count as changed again. */
  abortCapture(taken: Iterable<string>): void {
    const cap = this.capture;
    if (cap === undefined) return;
    for (const id of cap.pending) this.dirty.add(id);
    for (const id of taken) this.dirty.add(id);
    this.capture = undefined;
  }

  /** Ends the capture, handing over what is still pending. */
  endCapture(): void {
    const cap = this.capture;
    if (cap === undefined) return;
    for (const id of cap.pending) this.captureNext(id);
    this.capture = undefined;
  }
}
