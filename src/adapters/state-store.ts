/**
 * The checkpoint: the lab (every cell's aligner buffer, open step, open cycle, reference Δ(ΔP_Q),
 * counters), where the journal stood (the sequence number of the last message the lab holds, and the
 * digests that recognise a redelivery), and each output file's size. One file, written atomically
 * (temp file, fsync, rename, fsync of the folder), so a crash leaves the previous checkpoint or this one.
 *
 * Format 3: each cell is a plain-data record (`Lab.cellRecord`: every part's state, no class instances,
 * checked on restore by the zod schema of state-schema.ts), encoded on its own with v8's serializer
 * (numbers may be NaN or ±Infinity); a checkpoint re-encodes only the cells changed since the previous
 * one (`Lab.takeDirty`) and writes the others' bytes as they were.
 *
 * Older formats still restore, without a journal to replay and without cutting the files back: format 1
 * (the release before the journal: v8 clones of the parts' classes as they were then) through the
 * migration of state-migrate.ts into plain-data records; format 2 (the same clones after the lazily grown
 * rings, briefly on main) by reviving the classes. Any other version is an error, never a silent fresh
 * start.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { z } from 'zod';
import type { CellSnapshot, Lab } from '../domain/lab.js';
import type { FileOffsets } from './file-sink.js';
import { cellRecordFromV1 } from './state-migrate.js';
import { parseCellRecord } from './state-schema.js';

export const STATE_FORMAT_VERSION = 3;
/** The formats this release restores. */
export const STATE_FORMATS_READ = [1, 2, 3] as const;
/** Permissions of the state folder and of the files in it (the daemon's user alone). */
export const STATE_DIR_MODE = 0o700;
export const STATE_FILE_MODE = 0o600;
const FILE = 'lab-state.v8';

/** Where the journal stood at the checkpoint. */
export interface JournalMark {
  /** Sequence number of the last journaled message the checkpoint's state holds (0: none). */
  readonly seq: number;
  /** Digests of the latest journaled messages (a redelivery of one of them is not taken twice). */
  readonly recent: readonly string[];
}

/** What a checkpoint holds besides the cells. */
export interface CheckpointMeta {
  readonly savedAt: number;
  readonly journal: JournalMark;
  /** Output file sizes (absent without output files). */
  readonly files?: FileOffsets | undefined;
}

export interface Restored extends CheckpointMeta {
  readonly cells: number;
  readonly version: number;
}

const envelope = z.looseObject({ version: z.number() });
const v1 = z.object({ version: z.literal(1), savedAt: z.number(), cells: z.array(z.tuple([z.string(), z.looseObject({})])) });
const v2 = v1.extend({ version: z.literal(2) });
const v3 = z.object({
  version: z.literal(3),
  savedAt: z.number(),
  journal: z.strictObject({ seq: z.number().int().nonnegative(), recent: z.array(z.string()) }),
  files: z.record(z.string(), z.number().int().nonnegative()).optional(),
  cells: z.array(z.tuple([z.string(), z.instanceof(Uint8Array)])),
});

export class StateStore {
  /** Each cell's encoded record as last written (a checkpoint re-encodes only the changed cells). */
  private readonly encoded = new Map<string, Uint8Array>();
  /** Cells encoded by the latest save. */
  lastEncoded = 0;

  constructor(readonly dir: string) {}

  get path(): string {
    return join(this.dir, FILE);
  }

  /** Writes a checkpoint; returns its size in bytes. */
  save(lab: Lab, meta: CheckpointMeta): number {
    mkdirSync(this.dir, { recursive: true, mode: STATE_DIR_MODE });
    const dirty = lab.takeDirty();
    for (const id of dirty) {
      const r = lab.cellRecord(id);
      if (r === undefined) this.encoded.delete(id);
      else this.encoded.set(id, serialize(r));
    }
    for (const id of this.encoded.keys()) if (!lab.cells.has(id)) this.encoded.delete(id);
    this.lastEncoded = dirty.size;
    const saved = {
      version: STATE_FORMAT_VERSION,
      savedAt: meta.savedAt,
      journal: { seq: meta.journal.seq, recent: [...meta.journal.recent] },
      ...(meta.files !== undefined ? { files: { ...meta.files } } : {}),
      cells: [...this.encoded],
    };
    const buf = serialize(saved);
    const tmp = this.path + '.tmp';
    writeFileSync(tmp, buf, { mode: STATE_FILE_MODE });
    syncPath(tmp);
    renameSync(tmp, this.path);
    syncPath(this.dir);
    return buf.length;
  }

  /**
   * Restores the saved cells into `lab`; undefined when there is no checkpoint yet. A file of an unknown
   * format, or one that does not match its format's schema, throws: the daemon does not start afresh
   * over a lab's history.
   */
  restore(lab: Lab): Restored | undefined {
    if (!existsSync(this.path)) return undefined;
    const raw: unknown = deserialize(readFileSync(this.path));
    const head = envelope.safeParse(raw);
    if (!head.success) throw new Error(`state file ${this.path} is not an oep checkpoint`);
    const { version } = head.data;
    if (version === 3) {
      const saved = parsed(this.path, version, v3.safeParse(raw));
      for (const [id, bytes] of saved.cells) lab.restoreRecord(id, parseCellRecord(id, deserialize(bytes)));
      return { version, cells: saved.cells.length, savedAt: saved.savedAt, journal: saved.journal, files: saved.files };
    }
    if (version === 1) {
      const saved = parsed(this.path, version, v1.safeParse(raw));
      for (const [id, c] of saved.cells) lab.restoreRecord(id, parseCellRecord(id, cellRecordFromV1(id, c)));
      return { version, cells: saved.cells.length, savedAt: saved.savedAt, journal: { seq: 0, recent: [] }, files: undefined };
    }
    if (version !== 2)
      throw new Error(`state file ${this.path} has format ${version}; this release reads formats ${STATE_FORMATS_READ.join(', ')} (a newer oep wrote it?)`);
    const saved = parsed(this.path, version, v2.safeParse(raw));
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- format 2 holds structured clones of the lab's parts, revived by their classes
    for (const [id, c] of saved.cells) lab.restoreCell(id, c as unknown as CellSnapshot);
    return { version, cells: saved.cells.length, savedAt: saved.savedAt, journal: { seq: 0, recent: [] }, files: undefined };
  }
}

function parsed<T>(path: string, version: number, r: z.ZodSafeParseResult<T>): T {
  if (!r.success) throw new Error(`state file ${path} (format ${version}) does not match its schema: ${r.error.message}`);
  return r.data;
}

/** fsync of a file or a folder (a rename is durable once its folder is synced). */
function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
