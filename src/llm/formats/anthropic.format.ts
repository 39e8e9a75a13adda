import type { ChatMessage, ContentPart, FinishReason, TokenUsage } from '../../providers/dto/chat';
import { parseStrategy } from '../../routing/routing.api';
import type { ChatExchange } from '../chat-reply';
import type { OpenStream } from '../chat.usecase';
import type { MessagesRequestDto } from '../dto/messages.dto';
import type { RequestContext } from '../request-context';
import type { SseFrame } from '../reply';
import { hasImages } from './openai.format';

type Block = Record<string, unknown>;

function blockToPart(block: Block): ContentPart {
  if (block.type === 'text') return { type: 'text', text: block.text as string };
  const source = block.source as Record<string, string>;
  const url = source.type === 'base64' ? `data:${source.media_type};base64,${source.data}` : source.url;
  return { type: 'image_url', image_url: { url } };
}

function content(value: string | Block[]): string | ContentPart[] {
  if (typeof value === 'string') return value;
  const parts = value.map(blockToPart);
  return parts.every((p) => p.type === 'text') ? parts.map((p) => (p as { text: string }).text).join('') : parts;
}

/** Anthropic Messages request → canonical messages (the system prompt becomes the first message). */
export function canonicalFromAnthropic(req: MessagesRequestDto): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (req.system !== undefined) {
    const system = content(req.system);
    messages.push({ role: 'system', content: typeof system === 'string' ? system : '' });
  }
  for (const m of req.messages) messages.push({ role: m.role, content: content(m.content) });
  return messages;
}

/**
 * A Messages request, routed to any provider kind: answered with an Anthropic message, or
 * its SSE event stream (ending with an error event when cut).
 */
export function anthropicChat(body: MessagesRequestDto, ctx: RequestContext): ChatExchange {
  const messages = canonicalFromAnthropic(body);
  const id = `msg_${ctx.requestId.replace(/[^A-Za-z0-9]/g, '')}`;
  return {
    command: {
      ...ctx,
      endpoint: '/v1/messages',
      model: body.model,
      strategy: parseStrategy(ctx.strategyHeader),
      messages,
      maxTokens: body.max_tokens,
      temperature: body.temperature,
      topP: body.top_p,
      stop: body.stop_sequences,
      vision: hasImages(messages),
    },
    body: (outcome) => message(id, outcome.candidate.model.name, outcome.text, outcome.finish, outcome.usage),
    frames: body.stream ? (stream) => messageFrames(id, stream) : undefined,
  };
}

function stopReason(reason: FinishReason): string {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'stop':
    case 'content_filter':
    case 'error':
      return 'end_turn';
  }
}

function message(id: string, model: string, text: string, finish: FinishReason, usage: TokenUsage): object {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: stopReason(finish),
    stop_sequence: null,
    usage: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens },
  };
}

async function* messageFrames(id: string, stream: OpenStream): AsyncGenerator<SseFrame, void, undefined> {
  yield {
    event: 'message_start',
    data: {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model: stream.candidate.model.name,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: stream.inputTokens, output_tokens: 0 },
      },
    },
  };
  yield {
    event: 'content_block_start',
    data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  };
  try {
    let finish: FinishReason = 'stop';
    for await (const event of stream.events) {
      if (event.type === 'delta') {
        yield {
          event: 'content_block_delta',
          data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: event.text } },
        };
      } else if (event.type === 'finish') finish = event.finish_reason;
    }
    const { usage } = await stream.settled;
    yield { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } };
    yield {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: stopReason(finish), stop_sequence: null },
        usage: { output_tokens: usage.output_tokens },
      },
    };
    yield { event: 'message_stop', data: { type: 'message_stop' } };
  } catch {
    yield {
      event: 'error',
      data: { type: 'error', error: { type: 'api_error', message: 'The upstream stream failed before completion' } },
    };
  }
}
