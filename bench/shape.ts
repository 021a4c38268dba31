/**
 * What the benchmark's publisher sends, shared by the processes that take part: the end marker and the
 * publisher's command line.
 */

/** The end marker's cell: its one message (`end`, not JSON) is rejected and logged by the daemon. */
export const END_MARKER_CELL = 'bench-end';
export const END_MARKER_TOPIC = `oep/${END_MARKER_CELL}/pressure`;
/**
 * The half-way marker, sent like the end marker after the first half of the messages: the CPU time between
 * the two is the steady state, every cell's first readings (and the state they create) behind it.
 */
export const MID_MARKER_CELL = 'bench-mid';
export const MID_MARKER_TOPIC = `oep/${MID_MARKER_CELL}/pressure`;
/**
 * Rejected for its time stamp, not as the end marker is (not JSON): the daemon logs one rejection of a
 * reason a cell it does not know in 10 s, and the two markers may come closer together than that.
 */
export const MID_MARKER_PAYLOAD = '{"ts":"half-way","value":0}';

export interface PublisherArgs {
  readonly url: string;
  readonly cells: number;
  readonly messages: number;
  /** Readings per message (a JSON array). */
  readonly batch: number;
  /** Unacknowledged QoS 1 messages allowed at once. */
  readonly window: number;
  readonly channels: readonly string[];
  /** Half period of the current's square wave (charge, then discharge), s. */
  readonly halfPeriod_s: number;
  /** Readings per second at most (a lab's pace: 10,000 cells at 1 Hz, two channels, is 20,000); 0 or absent: as fast as the window allows. */
  readonly rate?: number;
}

export const publisherArgv = (a: PublisherArgs): string[] => [
  a.url,
  String(a.cells),
  String(a.messages),
  String(a.batch),
  String(a.window),
  a.channels.join(','),
  String(a.halfPeriod_s),
  String(a.rate ?? 0),
];

export function parsePublisherArgv(argv: readonly string[]): PublisherArgs | undefined {
  const [url, cells, messages, batch, window, channels, halfPeriod_s, rate] = argv;
  if (url === undefined || channels === undefined) return undefined;
  return {
    url,
    cells: Number(cells),
    messages: Number(messages),
    batch: Number(batch),
    window: Number(window),
    channels: channels.split(','),
    halfPeriod_s: Number(halfPeriod_s),
    rate: Number(rate ?? 0),
  };
}

/** What the publisher tells its parent over IPC: times on the machine's monotonic clock, ms; its own CPU time so far, µs. */
export interface PublisherReport {
  readonly type: 'start' | 'done';
  readonly t_ms: number;
  readonly cpu_us: number;
}
