import type { ChatMessage, ContentPart, FinishReason, TokenUsage } from '../../providers/dto/chat';
import type { ModelListing } from '../../routing/routing.service';
import { parseStrategy } from '../../routing/routing.api';
import type { ChatExchange } from '../chat-reply';
import type { OpenStream } from '../chat.usecase';
import type { ChatCompletionRequestDto, ChatMessageDto, EmbeddingsRequestDto } from '../dto/chat-completions.dto';
import type { EmbeddingsOutcome } from '../embeddings.usecase';
import type { RequestContext } from '../request-context';
import type { SseFrame } from '../reply';

/**
 * A chat completion request: answered with a chat.completion, or an SSE stream of
 * chat.completion.chunk ending with [DONE] (with an error event instead when cut).
 */
export function openAiChat(body: ChatCompletionRequestDto, ctx: RequestContext): ChatExchange {
  const messages = canonicalMessages(body.messages);
  const meta = (model: string): CompletionMeta => ({
    id: `chatcmpl-${ctx.requestId}`,
    model,
    created: Math.floor(Date.now() / 1000),
  });
  const includeUsage = body.stream_options?.include_usage === true;
  return {
    command: {
      ...ctx,
      endpoint: '/v1/chat/completions',
      model: body.model,
      strategy: parseStrategy(body.conflux_strategy ?? ctx.strategyHeader),
      messages,
      maxTokens: body.max_completion_tokens ?? body.max_tokens,
      temperature: body.temperature,
      topP: body.top_p,
      stop: stopList(body.stop),
      vision: hasImages(messages),
    },
    body: (outcome) => chatCompletion(meta(outcome.candidate.model.name), outcome.text, outcome.finish, outcome.usage),
    frames: body.stream
      ? (stream) => completionFrames(stream, meta(stream.candidate.model.name), includeUsage)
      : undefined,
  };
}

async function* completionFrames(
  stream: OpenStream,
  meta: CompletionMeta,
  includeUsage: boolean,
): AsyncGenerator<SseFrame, void, undefined> {
  yield { data: completionChunk(meta, { role: 'assistant', content: '' }, null) };
  try {
    for await (const event of stream.events) {
      if (event.type === 'delta') yield { data: completionChunk(meta, { content: event.text }, null) };
      else if (event.type === 'finish') yield { data: completionChunk(meta, {}, event.finish_reason) };
    }
    const { usage } = await stream.settled;
    if (includeUsage) yield { data: usageChunk(meta, usage) };
    yield { data: '[DONE]' };
  } catch (err) {
    // A cut after the first token: an error event, never a clean [DONE].
    const code = (err as { errorClass?: string }).errorClass ?? 'internal';
    yield { data: streamError('The upstream stream failed before completion', code) };
  }
}

/** The OpenAI embedding list (vectors as base64 of float32 when asked). */
export function embeddingList(outcome: EmbeddingsOutcome, encoding: EmbeddingsRequestDto['encoding_format']): object {
  return {
    object: 'list',
    model: outcome.candidate.model.name,
    data: outcome.vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: encoding === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
    })),
    usage: { prompt_tokens: outcome.inputTokens, total_tokens: outcome.inputTokens },
  };
}

/** The OpenAI model list, with Conflux's catalog fields. */
export function modelList(listings: readonly ModelListing[]): object {
  return {
    object: 'list',
    data: listings.map(({ model, instances }) => ({
      id: model.name,
      object: 'model',
      created: 0,
      owned_by: 'conflux',
      aliases: model.aliases,
      modalities: model.modalities,
      context_window: model.context_window,
      pricing: { input_usd_per_1m: model.input_usd_per_1m, output_usd_per_1m: model.output_usd_per_1m },
      providers: instances,
    })),
  };
}

/** OpenAI messages (as validated) → canonical; `developer` is OpenAI's new name for `system`. */
export function canonicalMessages(messages: ChatMessageDto[]): ChatMessage[] {
  return messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content: typeof m.content === 'string' ? m.content : (m.content as unknown as ContentPart[]),
  }));
}

export function hasImages(messages: readonly ChatMessage[]): boolean {
  return messages.some((m) => Array.isArray(m.content) && m.content.some((p) => p.type === 'image_url'));
}

export function stopList(stop: string | string[] | undefined): string[] | undefined {
  if (stop === undefined) return undefined;
  return (Array.isArray(stop) ? stop : [stop]).slice(0, 4);
}

function openAiFinish(reason: FinishReason): string {
  return reason === 'error' ? 'stop' : reason;
}

interface CompletionMeta {
  id: string;
  model: string;
  created: number;
}

function chatCompletion(meta: CompletionMeta, text: string, finish: FinishReason, usage: TokenUsage): object {
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

function completionChunk(
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

function usageChunk(meta: CompletionMeta, usage: TokenUsage): object {
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
function streamError(message: string, code: string): object {
  return { error: { message, type: 'upstream_error', code } };
}
