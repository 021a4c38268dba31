/**
 * Putting a saved lab back: the state folder's format versions, and the restore of a log (its latest
 * commit and, for each cell, its latest record before it) or of a format 1–3 file (state-legacy.ts).
 * A log is of one format throughout, the one its commits name: 5, cell records in the codec of
 * record-codec.ts, or 4, cell records v8-serialized. A format-4 log restores as before, and is not
 * appended to: its cells count as changed, so the next checkpoint writes them all into a fresh format-5 log
 * and renames it over the old one. A file of an unknown format, or one that does not match its format's
 * schema, throws: the daemon does not start afresh over a lab's history.
 */
import { existsSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { z } from 'zod';
import type { Lab } from '../domain/lab.js';
import { decodeRecord } from './record-codec.js';
import { LEGACY_FILE, restoreLegacy } from './state-legacy.js';
import { LOG_FILE, scanLog, type Extent, type Restored } from './state-log.js';
import { parseCellRecord } from './state-schema.js';

export const STATE_FORMAT_VERSION = 5;
/** The formats this release restores. */
export const STATE_FORMATS_READ = [1, 2, 3, 4, 5] as const;
/** The log formats (the others are legacy files). */
const LOG_FORMATS: readonly number[] = [4, 5];

const meta = z.strictObject({
  version: z.union([z.literal(4), z.literal(5)]),
  savedAt: z.number(),
  journal: z.strictObject({ seq: z.number().int().nonnegative(), recent: z.array(z.string()) }),
  files: z.record(z.string(), z.number().int().nonnegative()).optional(),
});

/** The log a restore leaves open for the next checkpoints to append to. */
export interface OpenLog {
  readonly fd: number;
  /** Its length once a cut-short checkpoint (records after the last commit) is cut off. */
  readonly size: number;
  /** Where each cell's record lies in it. */
  readonly live: Map<string, Extent>;
}

/**
 * Restores the cells saved in the state folder `dir` into `lab`; undefined when there is no checkpoint yet.
 * `log` is set when the state came from a log of this release's format (a legacy file, or a format-4 log, is
 * replaced by the next checkpoint).
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
  if (head.success && !LOG_FORMATS.includes(head.data.version))
    throw new Error(`state file ${path} has format ${head.data.version}; this release reads formats ${STATE_FORMATS_READ.join(', ')} (a newer oep wrote it?)`);
  const m = meta.safeParse(raw);
  if (!m.success) throw new Error(`state file ${path} (format ${head.data?.version ?? '?'}) does not match its schema: ${m.error.message}`);
  const { version } = m.data;
  for (const [id, e] of scanned.cells) {
    const record: unknown = version === 5 ? decoded(path, id, buf, e) : deserialize(buf.subarray(e.off, e.off + e.len));
    // decoded (or deserialized) for this call alone, each cell's on its own: the cell takes its parts over uncopied
    lab.restoreOwnRecord(id, parseCellRecord(id, record));
  }
  const restored = { version, cells: scanned.cells.size, savedAt: m.data.savedAt, journal: m.data.journal, files: m.data.files };
  // A format-4 log: its cells stay changed, the next checkpoint writes them all into a fresh log of this format.
  if (version !== STATE_FORMAT_VERSION) return { restored, log: undefined };
  // The restored cells are what the log holds: only what changes from here on is written again.
  lab.changes.takeDirty();
  const fd = openSync(path, 'r+');
  if (scanned.end < buf.length) ftruncateSync(fd, scanned.end);
  return { restored, log: { fd, size: scanned.end, live: scanned.cells } };
}

/** A format-5 cell record, decoded; an error names the file and the cell. */
function decoded(path: string, id: string, buf: Buffer, e: Extent): unknown {
  try {
    return decodeRecord(buf, e.off, e.off + e.len);
  } catch (err) {
    throw new Error(`state file ${path}: cell ${id}'s record does not decode: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
