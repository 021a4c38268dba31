/**
 * A one-line progress bar for long files, on a terminal only (stderr): percentage of bytes, rows and
 * rows per second. Nothing is drawn when the stream is not a TTY (pipes, logs, tests).
 */
export interface ProgressBar {
  update(bytes: number, totalBytes: number, rows: number): void;
  /** Clears the line. */
  done(): void;
}

const WIDTH = 30;

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr, now: () => number = () => performance.now()): ProgressBar {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  const t0 = now();
  let drawn = false;
  return {
    update(bytes, totalBytes, rows) {
      const f = totalBytes > 0 ? Math.min(1, bytes / totalBytes) : 0;
      const filled = Math.round(f * WIDTH);
      const s = (now() - t0) / 1000;
      const rate = s > 0 ? Math.round(rows / s).toLocaleString('en-US') : '…';
      stream.write(
        `\r${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(f * 100).toFixed(0).padStart(3)}%  ${rows.toLocaleString('en-US')} rows  ${rate} rows/s `,
      );
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}
