import type { ChatStreamEvent } from '../dto/chat';
import { UpstreamError } from '../../common/upstream/upstream-error';
import type { KindMapper } from '../kinds/kind-mapper';
import { parseWith } from '../kinds/parse';
import { frameDecoder } from './framing';
import { StreamAssembler } from './stream-assembler';

/**
 * Text chunks of a streamed body → canonical events, through the kind's framing and mapper.
 * Throws UpstreamError('malformed') on a bad chunk or when the body ends before the kind's
 * end marker; errors of the underlying body pass through.
 */
export async function* decodeChatStream(
  chunks: AsyncIterable<string>,
  mapper: KindMapper,
): AsyncGenerator<ChatStreamEvent, void, undefined> {
  const frames = frameDecoder(mapper.framing);
  const assembler = new StreamAssembler();
  const parse = mapper.streamParser?.() ?? mapper.streamChunk;
  for await (const text of chunks) {
    for (const payload of frames.push(text)) {
      yield* assembler.accept(parseWith(() => parse(payload)));
      if (assembler.done) return;
    }
  }
  for (const payload of frames.end()) {
    yield* assembler.accept(parseWith(() => parse(payload)));
    if (assembler.done) return;
  }
  throw new UpstreamError('malformed', 'the stream ended before its end marker');
}
