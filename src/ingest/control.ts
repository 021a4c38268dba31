/**
 * The control topics of the wire contract (operator commands to the daemon), parsed at the edge:
 *
 *   <prefix>/<cell>/control/silence   silence one cell's alerts     (retained)
 *   <prefix>/control/silence          silence every cell's alerts   (retained)
 *
 * Payload: `{"until": <epoch ms | ISO-8601>, "reason"?: <string>}`; an empty payload (which also clears the
 * retained message) or an `until` in the past ends the silence. The end is absolute, so a retained
 * silence read again after a daemon restart still ends when it was meant to.
 */
import { z } from 'zod';
import { ALL_CELLS } from '../domain/lab.js';

export interface SilenceCommand {
  /** One cell's id, or ALL_CELLS. */
  readonly target: string;
  /** End of the silence, epoch ms (0: ended). */
  readonly until_ms: number;
  readonly reason: string | undefined;
}

export const silenceTopic = (prefix: string, cell?: string): string => (cell === undefined ? `${prefix}/control/silence` : `${prefix}/${cell}/control/silence`);

/** The subscriptions that receive every silence. */
export const controlSubscriptions = (prefix: string): string[] => [silenceTopic(prefix), silenceTopic(prefix, '+')];

/** Whether `topic` is a control topic under `prefix` (anything else goes to the readings' edge). */
export function isControlTopic(prefix: string, topic: string): boolean {
  // Asked of every message, twice: read in place (a split per message was 1 % of the daemon's CPU).
  const p = prefix.length;
  if (topic.length <= p || topic.charCodeAt(p) !== SLASH || !topic.startsWith(prefix)) return false;
  const a = topic.indexOf('/', p + 1);
  if (a < 0) return false;
  const b = topic.indexOf('/', a + 1);
  // <prefix>/control/<x>
  if (b < 0) return a - p - 1 === CONTROL.length && topic.startsWith(CONTROL, p + 1);
  // <prefix>/<cell>/control/<x>
  return !topic.includes('/', b + 1) && b - a - 1 === CONTROL.length && topic.startsWith(CONTROL, a + 1);
}

const SLASH = 0x2f;
const CONTROL = 'control';

const silencePayload = z.strictObject({
  until: z.union([z.number(), z.iso.datetime({ offset: true })]),
  reason: z.string().max(500).optional(),
});

/** A silence command from a control message, or why it is not one. */
export function parseSilence(prefix: string, topic: string, payload: Uint8Array): SilenceCommand | { readonly error: string } {
  const rest = topic.startsWith(prefix + '/') ? topic.slice(prefix.length + 1).split('/') : [];
  const target =
    rest.length === 2 && rest[0] === 'control' && rest[1] === 'silence'
      ? ALL_CELLS
      : rest.length === 3 && rest[1] === 'control' && rest[2] === 'silence'
        ? rest[0]
        : undefined;
  if (target === undefined || target === '') return { error: `not a silence topic: ${topic}` };
  const text = Buffer.from(payload).toString('utf8').trim();
  if (text === '') return { target, until_ms: 0, reason: undefined };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: `${topic}: not JSON` };
  }
  const r = silencePayload.safeParse(json);
  if (!r.success) return { error: `${topic}: ${z.prettifyError(r.error)}` };
  const until = typeof r.data.until === 'number' ? r.data.until : Date.parse(r.data.until);
  return { target, until_ms: until, reason: r.data.reason };
}

/** The payload that silences until `until_ms`. */
export const silencePayloadFor = (until_ms: number, reason?: string): string =>
  JSON.stringify({ until: new Date(until_ms).toISOString(), ...(reason !== undefined ? { reason } : {}) });
