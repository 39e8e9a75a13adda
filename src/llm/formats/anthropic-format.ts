import type { ChatMessage, ContentPart, FinishReason, TokenUsage } from '../../providers/dto/chat';
import type { MessagesRequestDto } from '../dto/messages.dto';

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

export function anthropicStopReason(reason: FinishReason): string {
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

export function anthropicMessage(
  id: string,
  model: string,
  text: string,
  finish: FinishReason,
  usage: TokenUsage,
): object {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: anthropicStopReason(finish),
    stop_sequence: null,
    usage: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens },
  };
}

/** The opening events of an Anthropic stream. */
export function anthropicStreamStart(id: string, model: string, inputTokens: number): [string, object][] {
  return [
    [
      'message_start',
      {
        type: 'message_start',
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: inputTokens, output_tokens: 0 },
        },
      },
    ],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
  ];
}

export function anthropicDelta(text: string): [string, object] {
  return ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }];
}

export function anthropicStreamEnd(finish: FinishReason, usage: TokenUsage): [string, object][] {
  return [
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    [
      'message_delta',
      {
        type: 'message_delta',
        delta: { stop_reason: anthropicStopReason(finish), stop_sequence: null },
        usage: { output_tokens: usage.output_tokens },
      },
    ],
    ['message_stop', { type: 'message_stop' }],
  ];
}

export function anthropicError(message: string): [string, object] {
  return ['error', { type: 'error', error: { type: 'api_error', message } }];
}
