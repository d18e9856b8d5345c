/**
 * Server-Sent Events framing, pure: complete events out of a growing buffer, with their type and id.
 */

export interface SseMessage {
  /** The `event:` field (`message` when absent). */
  readonly event: string;
  /** The `id:` field, when the event had one. */
  readonly id: string | undefined;
  readonly data: string;
}

/** The complete events in `buffer` that carry data (comments and empty blocks are skipped), and what is left over. */
export function parseSse(buffer: string): { events: SseMessage[]; rest: string } {
  const blocks = buffer.replace(/\r\n?/g, '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  const events: SseMessage[] = [];
  for (const block of blocks) {
    const data: string[] = [];
    let event = 'message';
    let id: string | undefined;
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon === 0) continue;
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
      else if (field === 'id' && !value.includes('\0')) id = value;
    }
    if (data.length > 0) events.push({ event, id, data: data.join('\n') });
  }
  return { events, rest };
}
