/**
 * MQTT topics of the wire contract: `<prefix>/<cell>/<channel>`, which cell ids the outputs can carry, and
 * the input channels a topic may name.
 */
import type { Channel } from '../domain/types.js';

/** Longest cell id accepted from a topic, characters. */
export const MAX_CELL_ID_LENGTH = 128;

export interface TopicParts {
  readonly cell: string;
  readonly channel: string;
}

/**
 * True for a cell id the outputs can carry as is: 1–{@link MAX_CELL_ID_LENGTH} characters, no control
 * character (C0, DEL, C1; a newline in a tag would inject lines into line protocol), none of MQTT's `+ #`.
 */
export function isValidCellId(id: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  return id.length > 0 && id.length <= MAX_CELL_ID_LENGTH && !/[\u0000-\u001f\u007f-\u009f+#]/.test(id);
}

/** Splits `<prefix>/<cell>/<channel>`; the prefix may itself contain slashes. */
export function parseTopic(topic: string, prefix: string): TopicParts | undefined {
  const slash = topicSlash(topic, prefix);
  return slash < 0 ? undefined : { cell: topic.slice(prefix.length + 1, slash), channel: topic.slice(slash + 1) };
}

/** Index in `topic` of the slash between the cell and the channel of `<prefix>/<cell>/<channel>`, or −1 when it is not one. */
export function topicSlash(topic: string, prefix: string): number {
  const from = prefix.length + 1;
  if (topic.length <= from || topic.charCodeAt(prefix.length) !== 0x2f || !topic.startsWith(prefix)) return -1;
  const slash = topic.indexOf('/', from);
  if (slash <= from || slash === topic.length - 1 || topic.includes('/', slash + 1)) return -1;
  return slash;
}

/** The input channel a topic names, or undefined. */
export function inputChannel(name: string): Channel | undefined {
  switch (name) {
    case 'pressure':
    case 'current':
    case 'voltage':
    case 'step':
      return name;
    default:
      return undefined;
  }
}
