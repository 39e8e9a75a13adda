import type {
  ChatRequest,
  ChatResult,
  EmbeddingRequest,
  EmbeddingResult,
  FinishReason,
  TokenUsage,
} from '../../dto/chat';
import { UpstreamError } from '../../../common/upstream/upstream-error';
import type { KindMapper, WireRequest, WireStreamEvent } from '../kind-mapper';
import {
  arrayAt,
  classForStatus,
  isObject,
  objectAt,
  optionalCount,
  optionalString,
  parseJson,
  vectorAt,
} from '../wire';

/**
 * OpenAI-compatible chat completions (OpenAI, vLLM, LM Studio, llama.cpp server…).
 * The declared base URL includes the version (`https://api.openai.com/v1`).
 */

export function openaiChatRequest(req: ChatRequest, stream: boolean): WireRequest {
  return {
    method: 'POST',
    path: '/chat/completions',
    body: {
      model: req.model,
      // Content parts (text and image_url) are already in OpenAI's shape: passed through unchanged.
      messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
      max_tokens: req.max_tokens,
      temperature: req.temperature,
      top_p: req.top_p,
      stop: req.stop,
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
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
  return { input_tokens: input ?? 0, output_tokens: output ?? 0 };
}

export function openaiChatResult(body: unknown, requestedModel: string): ChatResult {
  const root = objectAt(body, 'response');
  const choice = objectAt(arrayAt(root.choices, 'choices')[0], 'choices[0]');
  const message = objectAt(choice.message, 'choices[0].message');
  return {
    id: optionalString(root.id),
    model: optionalString(root.model) ?? requestedModel,
    // null when the model answered with a refusal or tool calls only
    text: optionalString(message.content) ?? '',
    finish_reason: openaiFinishReason(choice.finish_reason),
    usage: openaiUsage(root.usage),
  };
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
  return { method: 'POST', path: '/embeddings', body: { model: req.model, input: req.input } };
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
