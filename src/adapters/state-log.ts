/**
 * The checkpoint log (state formats 4 and 5): an append-only file of records, each `u8 type, u32 payload
 * length, u32 CRC-32 of the payload`, then the payload:
 * - cell (1): `u16 id length, id (UTF-8), the cell's record` (plain data, see state-schema.ts): in format 5
 *   encoded by record-codec.ts, in format 4 v8-serialized;
 * - gone (2): a cell id (the cell was evicted);
 * - commit (3): the checkpoint's meta (v8-serialized in both formats: format, savedAt, journal position,
 *   output file sizes). The format it names is that of every cell record in the log: a log is never of two
 *   formats (a format-4 log is restored, then replaced by a fresh format-5 one, state-restore.ts), and a
 *   release that reads only format 4 stops at the commit's version instead of misreading the records.
 * A checkpoint appends the records of the cells changed since the previous one, then its commit; the
 * state is the latest commit with, for each cell, its latest record before that commit. Records after the
 * last commit (a checkpoint cut short by a crash) and a torn tail are ignored and cut off on open. When
 * the log has grown past twice its live records, a checkpoint writes a fresh log instead (the clean cells'
 * records copied byte for byte) and renames it over the old one.
 */
import { crc32 } from 'node:zlib';
import type { FileOffsets } from './file-sink.js';

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

export const LOG_FILE = 'lab-state.log';
export const HEAD_BYTES = 9;
export const RecordType = { Cell: 1, Gone: 2, Commit: 3 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Where a cell's record (its encoded bytes) lies in the log. */
export interface Extent {
  readonly off: number;
  readonly len: number;
}

export interface Scanned {
  /** Each cell's latest record up to the last commit. */
  readonly cells: Map<string, Extent>;
  /** The last commit's payload (undefined: no commit, an empty state). */
  readonly commit: Buffer | undefined;
  /** Bytes up to the end of the last commit (what follows is cut off). */
  readonly end: number;
}

function record(type: RecordType, payload: Buffer): Buffer {
  const head = Buffer.allocUnsafe(HEAD_BYTES);
  head.writeUInt8(type, 0);
  head.writeUInt32LE(payload.length, 1);
  head.writeUInt32LE(crc32(payload), 5);
  return Buffer.concat([head, payload]);
}

/** A cell's record; the encoded bytes start {@link cellBytesOffset} bytes into it. */
export function cellRecordBytes(id: string, bytes: Uint8Array): Buffer {
  const [head, body] = cellRecordParts(id, bytes);
  return Buffer.concat([head, body]);
}

/**
 * A cell's record as two parts to write one after the other: its head (type, length, CRC, id) and the
 * encoded bytes themselves, not copied (a checkpoint of 10,000 cells copied 200 MB more otherwise, and the garbage
 * collector ran full collections for the churn).
 */
export function cellRecordParts(id: string, bytes: Uint8Array): [Buffer, Uint8Array] {
  const idLen = Buffer.byteLength(id, 'utf8');
  const head = Buffer.allocUnsafe(HEAD_BYTES + 2 + idLen);
  head.writeUInt8(RecordType.Cell, 0);
  head.writeUInt32LE(2 + idLen + bytes.length, 1);
  head.writeUInt16LE(idLen, HEAD_BYTES);
  head.write(id, HEAD_BYTES + 2, 'utf8');
  head.writeUInt32LE(crc32(bytes, crc32(head.subarray(HEAD_BYTES))), 5);
  return [head, bytes];
}

/** Offset of the encoded bytes in a cell record of `id`. */
export function cellBytesOffset(id: string): number {
  return HEAD_BYTES + 2 + Buffer.byteLength(id, 'utf8');
}

export function goneRecordBytes(id: string): Buffer {
  return record(RecordType.Gone, Buffer.from(id, 'utf8'));
}

export function commitRecordBytes(meta: Uint8Array): Buffer {
  return record(RecordType.Commit, Buffer.from(meta.buffer, meta.byteOffset, meta.byteLength));
}

/** Reads a log: the cells and the meta of its last commit. */
export function scanLog(buf: Buffer): Scanned {
  const committed = new Map<string, Extent>();
  const pending = new Map<string, Extent | null>();
  let commit: Buffer | undefined;
  let end = 0;
  let off = 0;
  while (off + HEAD_BYTES <= buf.length) {
    const type: number = buf.readUInt8(off);
    const len = buf.readUInt32LE(off + 1);
    const start = off + HEAD_BYTES;
    if (start + len > buf.length || crc32(buf.subarray(start, start + len)) !== buf.readUInt32LE(off + 5)) break;
    if (type === RecordType.Cell) {
      const idLen = buf.readUInt16LE(start);
      const id = buf.toString('utf8', start + 2, start + 2 + idLen);
      pending.set(id, { off: start + 2 + idLen, len: len - 2 - idLen });
    } else if (type === RecordType.Gone) pending.set(buf.toString('utf8', start, start + len), null);
    else if (type === RecordType.Commit) {
      for (const [id, e] of pending) {
        if (e === null) committed.delete(id);
        else committed.set(id, e);
      }
      pending.clear();
      commit = buf.subarray(start, start + len);
      end = start + len;
    } else break;
    off = start + len;
  }
  return { cells: committed, commit, end };
}
