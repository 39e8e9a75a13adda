import type { ChatStreamEvent } from '../../src/providers/dto/chat';
import type { KindMapper } from '../../src/providers/kinds/kind-mapper';
import { decodeChatStream } from '../../src/providers/streaming/chat-stream';
import { drain } from './helpers';

/** Feeds a recorded body to the stream decoder in pieces of `size` characters (any boundaries). */
export async function decodeRecorded(body: string, mapper: KindMapper, size: number): ReturnType<typeof drain> {
  async function* pieces(): AsyncGenerator<string> {
    for (let i = 0; i < body.length; i += size) {
      await Promise.resolve();
      yield body.slice(i, i + size);
    }
  }
  return drain(decodeChatStream(pieces(), mapper));
}

export const deltas = (events: ChatStreamEvent[]): string[] =>
  events.flatMap((e) => (e.type === 'delta' ? [e.text] : []));
