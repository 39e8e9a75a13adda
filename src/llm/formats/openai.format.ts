import { unknownFields } from '../../common/http/validation';
import type {
  ChatMessage,
  ChatStreamEvent,
  ContentPart,
  FinishReason,
  RedactedThinkingPart,
  ThinkingPart,
  TokenUsage,
  ToolCall,
} from '../../providers/dto/chat';
import type { ModelListing } from '../../routing/routing.service';
import { parseStrategy } from '../../routing/routing.api';
import { type ChatExchange, streamFailure } from '../chat-reply';
import { chatCommand, type ChatOutcome, type OpenStream } from '../chat.usecase';
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
    command: chatCommand(ctx, {
      endpoint: '/v1/chat/completions',
      model: body.model,
      strategy: parseStrategy(body.conflux_strategy ?? ctx.strategyHeader),
      messages,
      maxTokens: body.max_completion_tokens ?? body.max_tokens,
      temperature: body.temperature,
      topP: body.top_p,
      stop: stopList(body.stop),
      tools: body.tools?.map((t) => ({ type: 'function', function: { ...t.function } })),
      toolChoice: body.tool_choice,
      parallelToolCalls: body.parallel_tool_calls,
      responseFormat: body.response_format,
      parameters: {
        seed: body.seed,
        presence_penalty: body.presence_penalty,
        frequency_penalty: body.frequency_penalty,
        logit_bias: body.logit_bias,
        logprobs: body.logprobs,
        top_logprobs: body.top_logprobs,
        n: body.n,
        user: body.user,
        metadata: body.metadata,
        store: body.store,
        service_tier: body.service_tier,
        reasoning_effort: body.reasoning_effort,
        modalities: body.modalities,
        prediction: body.prediction,
        top_k: body.top_k,
      },
      extra: extraFields(body),
      vision: hasImages(messages),
    }),
    body: (outcome) => chatCompletion(meta(outcome.candidate.model.name), outcome),
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
  const thinking = new ThinkingDeltas();
  try {
    for await (const event of stream.events) {
      const delta = event.type === 'thinking' ? thinking.delta(event) : chunkDelta(event);
      if (delta) yield { data: completionChunk(meta, delta, null) };
      else if (event.type === 'finish') yield { data: completionChunk(meta, {}, event.finish_reason) };
    }
    const { usage, cost } = await stream.settled;
    if (includeUsage) yield { data: usageChunk(meta, usage, cost.credits) };
    yield { data: '[DONE]' };
  } catch (err) {
    // A cut after the first token (or its deadline): an error event, never a clean [DONE].
    const failure = streamFailure(err);
    yield { data: streamError(failure.message, failure.code) };
  }
}

const EPOCH = new Date(0).toISOString();

/** An embeddings input as a list: of texts, or of token lists. */
export function embeddingInputs(input: EmbeddingsRequestDto['input']): string[] | number[][] {
  if (typeof input === 'string') return [input];
  if (typeof input[0] === 'number') return [input as number[]];
  return input as string[] | number[][];
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

/**
 * The model list, read by both SDKs: OpenAI's list, and the fields of Anthropic's page (`has_more`,
 * `first_id`, `last_id`), with Conflux's catalog fields.
 */
export function modelList(listings: readonly ModelListing[]): object {
  const data = listings.map(modelObject);
  return {
    object: 'list',
    data,
    has_more: false,
    first_id: listings[0]?.model.name ?? null,
    last_id: listings[listings.length - 1]?.model.name ?? null,
  };
}

/** One model object, OpenAI's and Anthropic's fields both (`type`, `display_name`, `created_at`), with the catalog's. */
export function modelObject({ model, instances }: ModelListing): object {
  return {
    id: model.name,
    object: 'model',
    created: 0,
    owned_by: 'conflux',
    type: 'model',
    display_name: model.name,
    created_at: EPOCH,
    aliases: model.aliases,
    modalities: model.modalities,
    context_window: model.context_window,
    pricing: { input_usd_per_1m: model.input_usd_per_1m, output_usd_per_1m: model.output_usd_per_1m },
    providers: instances,
  };
}

/** The unmodelled fields of the body, for OpenAI-kind upstreams. */
function extraFields(body: ChatCompletionRequestDto): Record<string, unknown> | undefined {
  const extra = unknownFields(body);
  return Object.keys(extra).length > 0 ? extra : undefined;
}

/**
 * Thinking events of a stream as chunk deltas: its text as `reasoning_content` pieces, and each block,
 * once whole (its signature arrived, or it came redacted), as `thinking_blocks`, to be sent back as the
 * JSON answer's are.
 */
class ThinkingDeltas {
  private text = '';

  delta(event: Extract<ChatStreamEvent, { type: 'thinking' }>): object | null {
    if (event.redacted !== undefined) return { thinking_blocks: [{ type: 'redacted_thinking', data: event.redacted }] };
    if (event.thinking) {
      this.text += event.thinking;
      return { reasoning_content: event.thinking };
    }
    if (event.signature === undefined) return null;
    const block = { type: 'thinking', thinking: this.text, signature: event.signature };
    this.text = '';
    return { thinking_blocks: [block] };
  }
}

/**
 * The delta of a stream event in a chunk: text, or a tool call fragment (the first of a call
 * with its id, type and name, the next ones argument pieces). Null for events without one.
 */
function chunkDelta(event: ChatStreamEvent): object | null {
  if (event.type === 'delta') return { content: event.text };
  if (event.type !== 'tool_call') return null;
  const fragment =
    event.id === undefined
      ? { index: event.index, function: { arguments: event.arguments } }
      : {
          index: event.index,
          id: event.id,
          type: 'function',
          function: { name: event.name ?? '', arguments: event.arguments },
        };
  return { tool_calls: [fragment] };
}

/** OpenAI messages (as validated) → canonical; `developer` is OpenAI's new name for `system`. */
export function canonicalMessages(messages: ChatMessageDto[]): ChatMessage[] {
  return messages.map((m): ChatMessage => {
    const content = m.content === null || m.content === undefined ? null : (m.content as string | ContentPart[]);
    switch (m.role) {
      case 'tool':
        return { role: 'tool', tool_call_id: m.tool_call_id ?? '', content: content ?? '' };
      case 'assistant':
        return {
          role: 'assistant',
          content: m.thinking_blocks?.length ? withThinking(m.thinking_blocks, content) : content,
          ...(m.tool_calls?.length ? { tool_calls: m.tool_calls.map(copyCall) } : {}),
          ...(m.name === undefined ? {} : { name: m.name }),
        };
      case 'user':
        return { role: 'user', content: content ?? '', ...(m.name === undefined ? {} : { name: m.name }) };
      case 'system':
      case 'developer':
        return { role: 'system', content: content ?? '' };
    }
  });
}

/** An assistant turn's thinking blocks, first, then its text or parts (thinking goes back before the rest). */
function withThinking(
  blocks: readonly (ThinkingPart | RedactedThinkingPart)[],
  content: string | ContentPart[] | null,
): ContentPart[] {
  const thinking = blocks.map((b): ContentPart =>
    b.type === 'thinking'
      ? { type: 'thinking', thinking: b.thinking, ...(b.signature === undefined ? {} : { signature: b.signature }) }
      : { type: 'redacted_thinking', data: b.data },
  );
  const rest: ContentPart[] = typeof content === 'string' ? [{ type: 'text', text: content }] : (content ?? []);
  return [...thinking, ...rest];
}

function copyCall(call: ToolCall): ToolCall {
  return { id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } };
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

export interface CompletionMeta {
  id: string;
  model: string;
  created: number;
}

/** A chat.completion: tool calls in `message.tool_calls` (content null when there is no text). */
export function chatCompletion(
  meta: CompletionMeta,
  outcome: Pick<ChatOutcome, 'text' | 'toolCalls' | 'thinking' | 'logprobs' | 'finish' | 'usage'>,
): object {
  const toolCalls = outcome.toolCalls?.length ? outcome.toolCalls.map(copyCall) : undefined;
  const message = {
    role: 'assistant',
    content: toolCalls && outcome.text === '' ? null : outcome.text,
    ...(outcome.thinking?.length ? reasoningFields(outcome.thinking) : {}),
    ...(toolCalls ? { tool_calls: toolCalls } : {}),
  };
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, finish_reason: openAiFinish(outcome.finish), logprobs: outcome.logprobs ?? null }],
    usage: openAiUsage(outcome.usage),
  };
}

/**
 * An answer's thinking (Anthropic models) in the fields OpenAI-style gateways and reasoning servers use:
 * `reasoning_content`, its text, and `thinking_blocks`, the blocks to send back on the assistant turn
 * (with their signatures) for a tool loop to go on thinking.
 */
function reasoningFields(blocks: readonly (ThinkingPart | RedactedThinkingPart)[]): object {
  const text = blocks.flatMap((b) => (b.type === 'thinking' ? [b.thinking] : [])).join('\n\n');
  return { reasoning_content: text, thinking_blocks: blocks.map((b) => ({ ...b })) };
}

/** OpenAI's usage: prompt tokens include the cached ones, completion tokens the reasoning ones. */
export function openAiUsage(usage: TokenUsage): object {
  return {
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens,
    total_tokens: usage.input_tokens + usage.output_tokens,
    prompt_tokens_details: { cached_tokens: usage.cached_input_tokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
  };
}

function completionChunk(meta: CompletionMeta, delta: object, finish: FinishReason | null): object {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, delta, finish_reason: finish === null ? null : openAiFinish(finish), logprobs: null }],
  };
}

/** The last chunk when the client asked for usage: with the credits billed (`usage.credits`, a Conflux field). */
function usageChunk(meta: CompletionMeta, usage: TokenUsage, credits: number): object {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [],
    usage: { ...openAiUsage(usage), credits },
  };
}

/** The error event of a stream cut after its first token: SDKs raise it, and no [DONE] follows. */
function streamError(message: string, code: string): object {
  return { error: { message, type: 'server_error', param: null, code } };
}
