import type { ChatMessage, ContentPart, FinishReason, TokenUsage } from '../../providers/dto/chat';
import type { ChatMessageDto } from '../dto/chat-completions.dto';

/** OpenAI messages (as validated) → canonical; `developer` is OpenAI's new name for `system`. */
export function canonicalMessages(messages: ChatMessageDto[]): ChatMessage[] {
  return messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content: typeof m.content === 'string' ? m.content : (m.content as unknown as ContentPart[]),
  }));
}

export function hasImages(messages: readonly ChatMessage[]): boolean {
  return messages.some((m) => typeof m.content !== 'string' && m.content.some((p) => p.type === 'image_url'));
}

export function stopList(stop: string | string[] | undefined): string[] | undefined {
  if (stop === undefined) return undefined;
  return (Array.isArray(stop) ? stop : [stop]).slice(0, 4);
}

function openAiFinish(reason: FinishReason): string {
  return reason === 'error' ? 'stop' : reason;
}

export interface CompletionMeta {
  id: string;
  model: string;
  created: number;
}

export function chatCompletion(meta: CompletionMeta, text: string, finish: FinishReason, usage: TokenUsage): object {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [
      { index: 0, message: { role: 'assistant', content: text }, finish_reason: openAiFinish(finish), logprobs: null },
    ],
    usage: {
      prompt_tokens: usage.input_tokens,
      completion_tokens: usage.output_tokens,
      total_tokens: usage.input_tokens + usage.output_tokens,
    },
  };
}

export function completionChunk(
  meta: CompletionMeta,
  delta: { role?: 'assistant'; content?: string },
  finish: FinishReason | null,
): object {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, delta, finish_reason: finish === null ? null : openAiFinish(finish), logprobs: null }],
  };
}

export function usageChunk(meta: CompletionMeta, usage: TokenUsage): object {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [],
    usage: {
      prompt_tokens: usage.input_tokens,
      completion_tokens: usage.output_tokens,
      total_tokens: usage.input_tokens + usage.output_tokens,
    },
  };
}

/** The error event of a stream cut after its first token: SDKs raise it, and no [DONE] follows. */
export function streamError(message: string, code: string): object {
  return { error: { message, type: 'upstream_error', code } };
}
