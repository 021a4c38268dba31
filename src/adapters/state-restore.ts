/**
 * Putting a saved lab back: the state folder's format versions, and the restore of a format-4 log (its
 * latest commit and, for each cell, its latest record before it) or of a format 1–3 file (state-legacy.ts).
 * A file of an unknown format, or one that does not match its format's schema, throws: the daemon does
 * not start afresh over a lab's history.
 */
import { existsSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { z } from 'zod';
import type { Lab } from '../domain/lab.js';
import { LEGACY_FILE, restoreLegacy } from './state-legacy.js';
import { LOG_FILE, scanLog, type Extent, type Restored } from './state-log.js';
import { parseCellRecord } from './state-schema.js';

export const STATE_FORMAT_VERSION = 4;
/** The formats this release restores. */
export const STATE_FORMATS_READ = [1, 2, 3, 4] as const;

const meta4 = z.strictObject({
  version: z.literal(4),
  savedAt: z.number(),
  journal: z.strictObject({ seq: z.number().int().nonnegative(), recent: z.array(z.string()) }),
  files: z.record(z.string(), z.number().int().nonnegative()).optional(),
});

/** The format-4 log a restore leaves open for the next checkpoints to append to. */
export interface OpenLog {
  readonly fd: number;
  /** Its length once a cut-short checkpoint (records after the last commit) is cut off. */
  readonly size: number;
  /** Where each cell's record lies in it. */
  readonly live: Map<string, Extent>;
}

/**
 * Restores the cells saved in the state folder `dir` into `lab`; undefined when there is no checkpoint yet.
 * `log` is set when the state came from a format-4 log (a legacy file is replaced by the next checkpoint).
 */
export function restoreState(dir: string, lab: Lab): { restored: Restored; log: OpenLog | undefined } | undefined {
  const path = join(dir, LOG_FILE);
  if (!existsSync(path)) {
    const legacy = join(dir, LEGACY_FILE);
    return existsSync(legacy) ? { restored: restoreLegacy(legacy, lab, STATE_FORMATS_READ), log: undefined } : undefined;
  }
  const buf = readFileSync(path);
  const scanned = scanLog(buf);
  if (scanned.commit === undefined) throw new Error(`state file ${path} holds no complete checkpoint`);
  const raw: unknown = deserialize(scanned.commit);
  const head = z.looseObject({ version: z.number() }).safeParse(raw);
  if (head.success && head.data.version !== STATE_FORMAT_VERSION)
    throw new Error(`state file ${path} has format ${head.data.version}; this release reads formats ${STATE_FORMATS_READ.join(', ')} (a newer oep wrote it?)`);
  const m = meta4.safeParse(raw);
  if (!m.success) throw new Error(`state file ${path} (format 4) does not match its schema: ${m.error.message}`);
  for (const [id, e] of scanned.cells) lab.restoreRecord(id, parseCellRecord(id, deserialize(buf.subarray(e.off, e.off + e.len))));
  // The restored cells are what the log holds: only what changes from here on is written again.
  lab.changes.takeDirty();
  const fd = openSync(path, 'r+');
  if (scanned.end < buf.length) ftruncateSync(fd, scanned.end);
  return {
    restored: { version: STATE_FORMAT_VERSION, cells: scanned.cells.size, savedAt: m.data.savedAt, journal: m.data.journal, files: m.data.files },
    log: { fd, size: scanned.end, live: scanned.cells },
  };
}
