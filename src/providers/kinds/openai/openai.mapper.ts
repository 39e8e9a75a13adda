import type {
  ChatMessage,
  ChatRequest,
  ChatResult,
  ContentPart,
  EmbeddingRequest,
  EmbeddingResult,
  FinishReason,
  TokenUsage,
  ToolCall,
} from '../../dto/chat';
import { UpstreamError } from '../../../common/upstream/upstream-error';
import type { KindMapper, WireRequest, WireStreamEvent } from '../kind-mapper';
import {
  arrayAt,
  classForStatus,
  invalidRequest,
  isObject,
  malformed,
  objectAt,
  optionalCount,
  optionalString,
  parseJson,
  positiveCount,
  vectorAt,
} from '../wire';

/**
 * OpenAI-compatible chat completions (OpenAI, vLLM, LM Studio, llama.cpp server…).
 * The declared base URL includes the version (`https://api.openai.com/v1`).
 */

/**
 * Content parts in OpenAI's shape, without what only Anthropic understands: cache_control
 * breakpoints (a caching hint) and thinking blocks, which Anthropic asks to be passed back but
 * OpenAI-kind servers neither produce nor accept.
 */
function openaiParts(parts: ContentPart[]): ContentPart[] {
  return parts.flatMap((part): ContentPart[] => {
    switch (part.type) {
      case 'text':
        return [{ type: 'text', text: part.text }];
      case 'image_url':
        return [{ type: 'image_url', image_url: part.image_url }];
      case 'thinking':
      case 'redacted_thinking':
        return [];
    }
  });
}

function openaiContent(content: string | ContentPart[]): string | ContentPart[] {
  return typeof content === 'string' ? content : openaiParts(content);
}

function openaiMessage(m: ChatMessage): Record<string, unknown> {
  switch (m.role) {
    case 'system':
      return { role: m.role, content: openaiContent(m.content) };
    case 'user':
      return { role: m.role, content: openaiContent(m.content), name: m.name };
    case 'assistant': {
      const content = m.content === null ? null : openaiContent(m.content);
      const calls = m.tool_calls?.length ? m.tool_calls : undefined;
      // A turn of tool calls only (or of thinking only, once dropped) has a null content.
      const empty = content === null || content.length === 0;
      return { role: m.role, content: empty && calls ? null : (content ?? ''), tool_calls: calls, name: m.name };
    }
    case 'tool':
      // OpenAI has no is_error flag on a tool result: the result's own text says what failed.
      return { role: m.role, tool_call_id: m.tool_call_id, content: openaiContent(m.content) };
  }
}

export function openaiChatRequest(req: ChatRequest, stream: boolean): WireRequest {
  if (req.thinking !== undefined) throw invalidRequest('thinking is not supported by openai upstreams');
  // Every answer is read as one choice: more would be produced, billed and then lost.
  if (req.n !== undefined && req.n > 1) {
    throw invalidRequest('n greater than 1 is not supported by openai upstreams (Conflux answers one choice)');
  }
  const limitField = req.max_tokens_field ?? 'max_tokens';
  return {
    method: 'POST',
    path: '/chat/completions',
    body: {
      // Fields the gateway does not model go first: every modelled field below is named (even
      // when undefined, which JSON leaves out) so that none of them can be set through `extra`.
      ...req.extra,
      model: req.model,
      messages: req.messages.map(openaiMessage),
      max_tokens: limitField === 'max_tokens' ? req.max_tokens : undefined,
      max_completion_tokens: limitField === 'max_completion_tokens' ? req.max_tokens : undefined,
      temperature: req.temperature,
      top_p: req.top_p,
      stop: req.stop,
      tools: req.tools?.map(({ type, function: fn }) => ({ type, function: fn })),
      tool_choice: req.tool_choice,
      parallel_tool_calls: req.parallel_tool_calls,
      response_format: req.response_format,
      seed: req.seed,
      presence_penalty: req.presence_penalty,
      frequency_penalty: req.frequency_penalty,
      logit_bias: req.logit_bias,
      logprobs: req.logprobs,
      top_logprobs: req.top_logprobs,
      n: req.n,
      user: req.user,
      metadata: req.metadata,
      store: req.store,
      service_tier: req.service_tier,
      reasoning_effort: req.reasoning_effort,
      modalities: req.modalities,
      prediction: req.prediction,
      // Not in OpenAI's API, but self-hosted OpenAI-kind servers (vLLM, llama.cpp) take it.
      top_k: req.top_k,
      stream: stream ? true : undefined,
      stream_options: stream ? { include_usage: true } : undefined,
    },
  };
}

export function openaiFinishReason(value: unknown): FinishReason {
  switch (value) {
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    default:
      return 'stop';
  }
}

export function openaiUsage(value: unknown): TokenUsage | undefined {
  if (!isObject(value)) return undefined;
  const input = optionalCount(value.prompt_tokens);
  const output = optionalCount(value.completion_tokens);
  if (input === undefined && output === undefined) return undefined;
  const usage: TokenUsage = { input_tokens: input ?? 0, output_tokens: output ?? 0 };
  const cached = isObject(value.prompt_tokens_details)
    ? positiveCount(value.prompt_tokens_details.cached_tokens)
    : undefined;
  const reasoning = isObject(value.completion_tokens_details)
    ? positiveCount(value.completion_tokens_details.reasoning_tokens)
    : undefined;
  if (cached !== undefined) usage.cached_input_tokens = cached;
  if (reasoning !== undefined) usage.reasoning_tokens = reasoning;
  return usage;
}

function openaiToolCalls(value: unknown): ToolCall[] | undefined {
  if (value === undefined || value === null) return undefined;
  const calls = arrayAt(value, 'message.tool_calls').map((item, i): ToolCall => {
    const call = objectAt(item, `tool_calls[${i}]`);
    const fn = objectAt(call.function, `tool_calls[${i}].function`);
    const id = optionalString(call.id);
    const name = optionalString(fn.name);
    if (id === undefined || name === undefined) throw malformed(`tool_calls[${i}] lacks its id or name`);
    return { id, type: 'function', function: { name, arguments: optionalString(fn.arguments) ?? '' } };
  });
  return calls.length > 0 ? calls : undefined;
}

export function openaiChatResult(body: unknown, requestedModel: string): ChatResult {
  const root = objectAt(body, 'response');
  const choice = objectAt(arrayAt(root.choices, 'choices')[0], 'choices[0]');
  const message = objectAt(choice.message, 'choices[0].message');
  const result: ChatResult = {
    id: optionalString(root.id),
    model: optionalString(root.model) ?? requestedModel,
    // null when the model answered with a refusal or tool calls only
    text: optionalString(message.content) ?? '',
    finish_reason: openaiFinishReason(choice.finish_reason),
    usage: openaiUsage(root.usage),
  };
  const toolCalls = openaiToolCalls(message.tool_calls);
  if (toolCalls) result.tool_calls = toolCalls;
  if (choice.logprobs !== undefined && choice.logprobs !== null) result.logprobs = choice.logprobs;
  return result;
}

/** `delta.tool_calls` fragments: the first of an index carries id and name, the next argument pieces. */
function openaiToolCallFragments(value: unknown): WireStreamEvent[] {
  if (!Array.isArray(value)) return [];
  return value.map((item, i): WireStreamEvent => {
    const call = objectAt(item, `delta.tool_calls[${i}]`);
    const fn = isObject(call.function) ? call.function : {};
    const index = optionalCount(call.index);
    if (index === undefined) throw malformed(`delta.tool_calls[${i}] has no index`);
    return {
      type: 'tool_call',
      index,
      id: optionalString(call.id),
      name: optionalString(fn.name),
      arguments: optionalString(fn.arguments) ?? '',
    };
  });
}

/** One SSE `data:` payload: a chunk object, or `[DONE]`. */
export function openaiStreamChunk(data: string): WireStreamEvent[] {
  if (data.trim() === '[DONE]') return [{ type: 'end' }];
  const chunk = objectAt(parseJson(data, 'stream chunk'), 'stream chunk');
  if (chunk.error !== undefined) throw openaiStreamedError(chunk);
  const events: WireStreamEvent[] = [];
  const choice = Array.isArray(chunk.choices) ? chunk.choices.find(isObject) : undefined;
  if (choice) {
    const delta = isObject(choice.delta) ? choice.delta : {};
    const text = optionalString(delta.content);
    if (text) events.push({ type: 'delta', text });
    events.push(...openaiToolCallFragments(delta.tool_calls));
    if (typeof choice.finish_reason === 'string') {
      events.push({ type: 'finish', finish_reason: openaiFinishReason(choice.finish_reason) });
    }
  }
  const usage = openaiUsage(chunk.usage);
  if (usage) events.push({ type: 'usage', ...usage });
  return events;
}

/** Some compatible servers report a failure inside the stream as `{"error": {...}}`. */
function openaiStreamedError(chunk: Record<string, unknown>): UpstreamError {
  const error = isObject(chunk.error) ? chunk.error : {};
  const code = typeof error.code === 'number' ? error.code : undefined;
  return new UpstreamError(classForStatus(code), openaiErrorMessage(chunk) ?? 'error reported inside the stream');
}

export function openaiErrorMessage(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  if (isObject(body.error)) return optionalString(body.error.message);
  return optionalString(body.error) ?? optionalString(body.message);
}

export function openaiEmbedRequest(req: EmbeddingRequest): WireRequest {
  return {
    method: 'POST',
    path: '/embeddings',
    body: {
      model: req.model,
      input: req.tokens ?? req.input,
      ...(req.dimensions === undefined ? {} : { dimensions: req.dimensions }),
    },
  };
}

export function openaiEmbedResult(body: unknown, requestedModel: string): EmbeddingResult {
  const root = objectAt(body, 'response');
  const items = arrayAt(root.data, 'data').map((item, i) => objectAt(item, `data[${i}]`));
  const ordered = [...items].sort((a, b) => (optionalCount(a.index) ?? 0) - (optionalCount(b.index) ?? 0));
  const usage = isObject(root.usage) ? optionalCount(root.usage.prompt_tokens) : undefined;
  return {
    model: optionalString(root.model) ?? requestedModel,
    vectors: ordered.map((item, i) => vectorAt(item.embedding, `data[${i}].embedding`)),
    usage: usage === undefined ? undefined : { input_tokens: usage },
  };
}

/** `GET /models` → `{data: [{id}]}`. */
export function openaiModelList(body: unknown): string[] | null {
  if (!isObject(body) || !Array.isArray(body.data)) return null;
  return body.data.flatMap((m) => (isObject(m) && typeof m.id === 'string' ? [m.id] : []));
}

export const openaiMapper: KindMapper = {
  framing: 'sse',
  apiRoot: (basePath) => basePath,
  headers: (apiKey): Record<string, string> => (apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
  chatRequest: openaiChatRequest,
  chatResult: openaiChatResult,
  streamChunk: openaiStreamChunk,
  embedRequest: openaiEmbedRequest,
  embedResult: openaiEmbedResult,
  modelsRequest: () => ({ method: 'GET', path: '/models' }),
  modelList: openaiModelList,
  probeReachable: (status) => status >= 200 && status < 300,
  errorMessage: openaiErrorMessage,
};
