/**
 * When the journal's next sync starts (journal.ts runs one at a time). Commit interval: while messages
 * keep coming, two syncs start at least `commitInterval_ms` apart (each
 * fdatasync costs ~0.2 ms of CPU, mostly in the kernel, whatever it covers; back to back under load they
 * were one per ~75 messages). A sync still starts at once when input goes quiet, that is when a turn of the
 * event loop appended nothing (checked from setImmediate: the broker may be holding further messages
 * until it gets PUBACKs, e.g. Mosquitto's 20 in flight by default), and when none started for that long
 * (an idle daemon: one message, one sync at once). With more than {@link QUIET_SYNC_HELD} PUBACKs held,
 * quiet means no message for {@link QUIET_GRACE_MS}, not one turn (with fewer than {@link QUIET_SYNC_MIN_HELD},
 * {@link QUIET_TRICKLE_GRACE_MS}: a lab's trickle): in the benchmark, publisher-bound, input
 * goes quiet between most socket reads, and with one turn the syncs stayed back to back (1,600-2,000 per
 * 300,000 messages at load 9-12, whatever the interval). Mosquitto 2.0.11 lets 20 more messages through
 * per PUBACK (measured: 20 PUBACKs, 420 in flight), so no count of held PUBACKs tells that the broker is
 * waiting: a broker holding more than 32 back costs it the grace per batch, never the interval.
 */

/**
 * Held PUBACKs up to which input going quiet starts a sync at once (brokers' default in-flight QoS 1
 * messages a client: Mosquitto's and VerneMQ's 20, EMQX's 32). With more held, the sync waits
 * {@link QUIET_GRACE_MS} for further input first.
 */
const QUIET_SYNC_HELD = 32;
/**
 * Held PUBACKs from which input going quiet starts a sync at once: with fewer, input must stay quiet
 * {@link QUIET_TRICKLE_GRACE_MS} first. At a lab's pace (10,000 cells at 1 Hz: 2,000 messages a second)
 * nearly every turn of the event loop is quiet after its message or two, and a sync per quiet turn was one
 * per 2.4 messages, half the daemon's CPU (41,000 syncs for 100,000 messages; 18,500 with this rule: 16-18 -> 11-12
 * us a reading, session 23). Under the smallest usual cap of brokers' in-flight QoS 1 messages to a client
 * (RabbitMQ's prefetch, 10); a broker capped lower waits that grace per cap (`state.journalCommit_ms: 0`
 * syncs back to back).
 */
const QUIET_SYNC_MIN_HELD = 8;
const QUIET_TRICKLE_GRACE_MS = 2;
/** How long input must stay quiet, with more than {@link QUIET_SYNC_HELD} PUBACKs held, for a sync to start before the commit interval, ms. */
const QUIET_GRACE_MS = 1;
/** What the timer needs of the journal. */
export interface CommitInputs {
  /** Sequence number of the latest appended message. */
  seq(): number;
  /** PUBACKs held. */
  held(): number;
  /** Open, PUBACKs held, no sync under way: a sync is wanted. */
  waiting(): boolean;
  /** Starts a sync (then {@link CommitTimer.started} is called). */
  start(): void;
}

export class CommitTimer {
  /** When the latest fdatasync started (performance.now()). */
  private startedAt = -Infinity;
  /** A sync waits for input to go quiet or for the commit interval: the sequence number at the last look (undefined: not waiting). */
  private quietMark: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly interval_ms: number,
    private readonly j: CommitInputs,
  ) {}

  /** A sync started now. */
  started(): void {
    this.startedAt = performance.now();
  }

  /** A sync is wanted (none under way): at once when none started within the commit interval, else once input goes quiet or the interval has passed. */
  soon(): void {
    if (this.quietMark !== undefined) return;
    if (this.due()) this.j.start();
    else this.lookAgain();
  }

  /** No more looks (the journal closes). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.quietMark = undefined;
  }

  private due(): boolean {
    return performance.now() - this.startedAt >= this.interval_ms;
  }

  /** Looks after the messages of this turn of the event loop are in (one setImmediate per turn while they keep coming). */
  private lookAgain(): void {
    this.quietMark = this.j.seq();
    setImmediate(this.look);
  }

  private readonly look = (): void => {
    const quiet = this.j.seq() === this.quietMark;
    this.quietMark = undefined;
    // Closed, synced (stop) or checkpointed meanwhile: nothing to wait for.
    if (!this.j.waiting()) return;
    const held = this.j.held();
    if (this.due() || (quiet && held >= QUIET_SYNC_MIN_HELD && held <= QUIET_SYNC_HELD)) this.j.start();
    else if (quiet) {
      // More held than brokers' usual in-flight limits: publishers slower than the daemon, most likely, whose
      // next messages come within the grace; if none does, the broker may be waiting for these PUBACKs.
      // Fewer than any broker's usual limit: a trickle, most likely, whose next message comes within its grace.
      this.quietMark = this.j.seq();
      this.timer = setTimeout(this.afterGrace, held < QUIET_SYNC_MIN_HELD ? QUIET_TRICKLE_GRACE_MS : QUIET_GRACE_MS);
    } else this.lookAgain();
  };

  private readonly afterGrace = (): void => {
    const quiet = this.j.seq() === this.quietMark;
    this.quietMark = undefined;
    this.timer = undefined;
    if (!this.j.waiting()) return;
    if (quiet || this.due()) this.j.start();
    else this.lookAgain();
  };
}
