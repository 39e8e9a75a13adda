import type { ChatMessage, ChatRequest, ChatResult, ContentPart, FinishReason } from '../../dto/chat';
import { UpstreamError, type UpstreamErrorClass } from '../../../common/upstream/upstream-error';
import type { KindMapper, WireRequest, WireStreamEvent } from '../kind-mapper';
import {
  arrayAt,
  invalidRequest,
  isObject,
  objectAt,
  optionalCount,
  optionalString,
  parseDataUrl,
  parseJson,
  textOf,
} from '../wire';

/** Anthropic Messages API. The declared base URL may end in /v1 or not. */

export const ANTHROPIC_VERSION = '2023-06-01';
/** Anthropic requires max_tokens; this is used when the caller sets none. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 1024;

type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string } };

function anthropicBlock(part: ContentPart): AnthropicBlock {
  if (part.type === 'text') return { type: 'text', text: part.text };
  if (part.type !== 'image_url') throw invalidRequest(`${part.type} blocks are not supported here yet`);
  const url = part.image_url.url;
  const inline = parseDataUrl(url);
  if (inline) return { type: 'image', source: { type: 'base64', media_type: inline.mediaType, data: inline.data } };
  if (/^https:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalidRequest('images must be base64 data URLs or https URLs');
}

function anthropicMessage(m: ChatMessage): { role: 'user' | 'assistant'; content: string | AnthropicBlock[] } {
  const role = m.role === 'assistant' ? 'assistant' : 'user';
  return {
    role,
    content: typeof m.content === 'string' || m.content === null ? (m.content ?? '') : m.content.map(anthropicBlock),
  };
}

export function anthropicChatRequest(req: ChatRequest, stream: boolean): WireRequest {
  const system = req.messages
    .filter((m) => m.role === 'system')
    .map((m) => textOf(m.content))
    .join('\n\n');
  return {
    method: 'POST',
    path: '/v1/messages',
    body: {
      model: req.model,
      max_tokens: req.max_tokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
      ...(system ? { system } : {}),
      messages: req.messages.filter((m) => m.role !== 'system').map(anthropicMessage),
      temperature: req.temperature,
      top_p: req.top_p,
      stop_sequences: req.stop,
      ...(stream ? { stream: true } : {}),
    },
  };
}

export function anthropicStopReason(value: unknown): FinishReason {
  switch (value) {
    case 'max_tokens':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default: // end_turn, stop_sequence, pause_turn
      return 'stop';
  }
}

export function anthropicChatResult(body: unknown, requestedModel: string): ChatResult {
  const root = objectAt(body, 'response');
  const blocks = arrayAt(root.content, 'content');
  const text = blocks
    .filter(isObject)
    .filter((b) => b.type === 'text')
    .map((b) => optionalString(b.text) ?? '')
    .join('');
  const usage = isObject(root.usage) ? root.usage : undefined;
  const input = optionalCount(usage?.input_tokens);
  const output = optionalCount(usage?.output_tokens);
  return {
    id: optionalString(root.id),
    model: optionalString(root.model) ?? requestedModel,
    text,
    finish_reason: anthropicStopReason(root.stop_reason),
    usage:
      input === undefined && output === undefined
        ? undefined
        : { input_tokens: input ?? 0, output_tokens: output ?? 0 },
  };
}

/** Anthropic error types → our classes (529 overloaded and api_error are the upstream's fault). */
const ERROR_TYPES: Record<string, UpstreamErrorClass> = {
  invalid_request_error: 'http_4xx',
  authentication_error: 'http_4xx',
  permission_error: 'http_4xx',
  not_found_error: 'http_4xx',
  request_too_large: 'http_4xx',
  rate_limit_error: 'http_429',
  api_error: 'http_5xx',
  overloaded_error: 'http_5xx',
};

function anthropicStreamedError(event: Record<string, unknown>): UpstreamError {
  const error = isObject(event.error) ? event.error : {};
  const type = optionalString(error.type) ?? '';
  return new UpstreamError(ERROR_TYPES[type] ?? 'http_5xx', anthropicErrorMessage(event) ?? `stream error ${type}`);
}

/** One SSE `data:` payload; each carries its event type in `type`. */
export function anthropicStreamChunk(data: string): WireStreamEvent[] {
  const event = objectAt(parseJson(data, 'stream event'), 'stream event');
  switch (event.type) {
    case 'message_start': {
      const message = objectAt(event.message, 'message_start.message');
      const input = isObject(message.usage) ? optionalCount(message.usage.input_tokens) : undefined;
      return input === undefined ? [] : [{ type: 'usage', input_tokens: input }];
    }
    case 'content_block_delta': {
      const delta = objectAt(event.delta, 'content_block_delta.delta');
      const text = delta.type === 'text_delta' ? optionalString(delta.text) : undefined;
      return text ? [{ type: 'delta', text }] : [];
    }
    case 'message_delta':
      return anthropicMessageDelta(event);
    case 'message_stop':
      return [{ type: 'end' }];
    case 'error':
      throw anthropicStreamedError(event);
    default: // ping, content_block_start, content_block_stop, and event types added later
      return [];
  }
}

function anthropicMessageDelta(event: Record<string, unknown>): WireStreamEvent[] {
  const events: WireStreamEvent[] = [];
  if (isObject(event.usage)) {
    // output_tokens is cumulative; newer API versions repeat input_tokens here too.
    const input = optionalCount(event.usage.input_tokens);
    const output = optionalCount(event.usage.output_tokens);
    if (input !== undefined || output !== undefined) {
      events.push({ type: 'usage', input_tokens: input, output_tokens: output });
    }
  }
  const delta = isObject(event.delta) ? event.delta : {};
  if (typeof delta.stop_reason === 'string') {
    events.push({ type: 'finish', finish_reason: anthropicStopReason(delta.stop_reason) });
  }
  return events;
}

export function anthropicErrorMessage(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  if (isObject(body.error)) return optionalString(body.error.message);
  return optionalString(body.message);
}

/** `GET /v1/models` → `{data: [{id}]}`. */
export function anthropicModelList(body: unknown): string[] | null {
  if (!isObject(body) || !Array.isArray(body.data)) return null;
  return body.data.flatMap((m) => (isObject(m) && typeof m.id === 'string' ? [m.id] : []));
}

export const anthropicMapper: KindMapper = {
  framing: 'sse',
  apiRoot: (basePath) => basePath.replace(/\/v1$/, ''),
  headers: (apiKey) => ({ 'anthropic-version': ANTHROPIC_VERSION, ...(apiKey ? { 'x-api-key': apiKey } : {}) }),
  chatRequest: anthropicChatRequest,
  chatResult: anthropicChatResult,
  streamChunk: anthropicStreamChunk,
  modelsRequest: () => ({ method: 'GET', path: '/v1/models' }),
  modelList: anthropicModelList,
  // Compatible gateways may not list models or may want other credentials: they still answered.
  probeReachable: (status) => (status >= 200 && status < 300) || status === 401 || status === 404,
  errorMessage: anthropicErrorMessage,
};
