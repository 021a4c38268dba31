/**
 * Checkpoints of formats 1–3: one file, `lab-state.v8`, holding the whole lab. They still restore, the
 * first checkpoint after writes the log (state-log.ts, format 5) and removes the file.
 * - Format 3: each cell a plain-data record (`Lab.cellRecord`), v8-encoded on its own, with the journal's
 *   position and the output files' sizes.
 * - Format 1 (the release before the journal: v8 clones of the parts' classes as they were then), through
 *   the migration of state-migrate.ts into plain-data records, without a journal to replay and without
 *   cutting the files back; format 2 (the same clones after the lazily grown rings, briefly on main) by
 *   reviving the classes.
 */
import { readFileSync } from 'node:fs';
import { deserialize } from 'node:v8';
import { z } from 'zod';
import type { CellSnapshot, Lab } from '../domain/lab.js';
import { cellRecordFromV1 } from './state-migrate.js';
import { parseCellRecord } from './state-schema.js';
import type { Restored } from './state-log.js';

export const LEGACY_FILE = 'lab-state.v8';

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

/** Restores a checkpoint file of format 1, 2 or 3 into `lab`; `readable` lists every format this release reads. */
export function restoreLegacy(path: string, lab: Lab, readable: readonly number[]): Restored {
  const raw: unknown = deserialize(readFileSync(path));
  const head = envelope.safeParse(raw);
  if (!head.success) throw new Error(`state file ${path} is not an oep checkpoint`);
  const { version } = head.data;
  if (version === 3) {
    const saved = parsed(path, version, v3.safeParse(raw));
    for (const [id, bytes] of saved.cells) lab.restoreRecord(id, parseCellRecord(id, deserialize(bytes)));
    return { version, cells: saved.cells.length, savedAt: saved.savedAt, journal: saved.journal, files: saved.files };
  }
  if (version === 1) {
    const saved = parsed(path, version, v1.safeParse(raw));
    for (const [id, c] of saved.cells) lab.restoreRecord(id, parseCellRecord(id, cellRecordFromV1(id, c)));
    return { version, cells: saved.cells.length, savedAt: saved.savedAt, journal: { seq: 0, recent: [] }, files: undefined };
  }
  if (version !== 2) throw new Error(`state file ${path} has format ${version}; this release reads formats ${readable.join(', ')} (a newer oep wrote it?)`);
  const saved = parsed(path, version, v2.safeParse(raw));
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- format 2 holds structured clones of the lab's parts, revived by their classes
  for (const [id, c] of saved.cells) lab.restoreCell(id, c as unknown as CellSnapshot);
  return { version, cells: saved.cells.length, savedAt: saved.savedAt, journal: { seq: 0, recent: [] }, files: undefined };
}

function parsed<T>(path: string, version: number, r: z.ZodSafeParseResult<T>): T {
  if (!r.success) throw new Error(`state file ${path} (format ${version}) does not match its schema: ${r.error.message}`);
  return r.data;
}
