/**
 * SIGINT/SIGTERM, once. A terminal's Ctrl-C reaches every process of the foreground group: the launcher
 * (bin/oep.js) and the CLI child it started both get it, and the launcher also forwards what it received
 * (it cannot tell a Ctrl-C from a `kill` aimed at it alone). It forwards over the IPC channel, not as a
 * second signal, so the child can tell the two apart: a forwarded signal starts the shutdown if nothing
 * did yet and is otherwise ignored; only a second signal received directly counts as "again".
 */

type Sig = 'SIGINT' | 'SIGTERM';
const SIGNALS: readonly Sig[] = ['SIGINT', 'SIGTERM'];

/** What the launcher sends over the IPC channel for a signal it received. */
export interface ForwardedSignal {
  readonly oepSignal: Sig;
}

const forwardedListeners = new Set<(sig: Sig) => void>();

function isForwarded(m: unknown): m is ForwardedSignal {
  return typeof m === 'object' && m !== null && 'oepSignal' in m && SIGNALS.some((s) => s === m.oepSignal);
}

/**
 * In a child of the launcher (an IPC channel): listens for forwarded signals, and stops as on SIGTERM when
 * the channel closes (the launcher died, even by SIGKILL, which it cannot forward), so no daemon runs on as
 * an orphan. The channel alone does not keep the process alive.
 */
export function forwardedSignals(): void {
  if (process.channel === undefined) return;
  process.channel.unref();
  process.on('message', (m: unknown) => {
    if (isForwarded(m)) for (const l of forwardedListeners) l(m.oepSignal);
  });
  process.on('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
  });
}

/**
 * Calls `first` on the first SIGINT/SIGTERM (received or forwarded), and `again` on each later one the
 * process received itself (a second Ctrl-C), never for the launcher's copy of one already seen.
 */
export function onceOnSignals(first: (sig: Sig) => void, again: (sig: Sig) => void): void {
  let started = false;
  let received = 0;
  const fire = (sig: Sig, forwarded: boolean): void => {
    if (!forwarded) received++;
    if (!started) {
      started = true;
      first(sig);
    } else if (!forwarded && received >= 2) again(sig);
  };
  for (const sig of SIGNALS)
    process.on(sig, () => {
      fire(sig, false);
    });
  forwardedListeners.add((sig) => {
    fire(sig, true);
  });
}
