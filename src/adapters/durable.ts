/**
 * Making written data durable off the event loop. An fdatasync of a file that holds tens of MB not yet on
 * disk takes 100 ms and more; run synchronously, it stops every message for that long (a checkpoint of
 * 10,000 cells at full load: 114-204 ms, measured in session 22).
 */
import { closeSync, fdatasync, openSync } from 'node:fs';

/**
 * Makes what was written to the file at `path` so far durable: resolves once an fdatasync covering it is
 * done. The file is opened now, through a descriptor of its own (Linux syncs the file, whichever
 * descriptor wrote it), so the writer may go on, set the file aside or close it meanwhile.
 */
export function syncFile(path: string): Promise<void> {
  const fd = openSync(path, 'r');
  return callback((cb) => {
    fdatasync(fd, cb);
  }).finally(() => {
    closeSync(fd);
  });
}

/** Runs an fs call taking a callback as a promise. */
export function callback(f: (cb: (e: NodeJS.ErrnoException | null) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    f((e) => {
      if (e === null) resolve();
      else reject(e);
    });
  });
}
