import type {
  ChatMessage,
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
  invalidRequest,
  isObject,
  objectAt,
  optionalCount,
  optionalString,
  parseDataUrl,
  parseJson,
  textOf,
  vectorAt,
} from '../wire';

/** Ollama's native API (`/api/chat`, `/api/embed`, `/api/tags`); streams are NDJSON. */

interface OllamaMessage {
  role: ChatMessage['role'];
  content: string;
  images?: string[];
}

function ollamaMessage(m: ChatMessage): OllamaMessage {
  if (typeof m.content === 'string' || m.content === null) return { role: m.role, content: m.content ?? '' };
  const images = m.content.flatMap((part) => {
    if (part.type !== 'image_url') return [];
    const inline = parseDataUrl(part.image_url.url);
    if (!inline) throw invalidRequest('Ollama accepts images only as base64 data URLs');
    return [inline.data];
  });
  return { role: m.role, content: textOf(m.content), ...(images.length > 0 ? { images } : {}) };
}

function ollamaOptions(req: ChatRequest): Record<string, unknown> | undefined {
  const options = { num_predict: req.max_tokens, temperature: req.temperature, top_p: req.top_p, stop: req.stop };
  return Object.values(options).some((v) => v !== undefined) ? options : undefined;
}

export function ollamaChatRequest(req: ChatRequest, stream: boolean): WireRequest {
  return {
    method: 'POST',
    path: '/api/chat',
    body: { model: req.model, messages: req.messages.map(ollamaMessage), stream, options: ollamaOptions(req) },
  };
}

export function ollamaDoneReason(value: unknown): FinishReason {
  return value === 'length' ? 'length' : 'stop';
}

/** Ollama omits prompt_eval_count when the whole prompt came from its cache. */
export function ollamaUsage(body: Record<string, unknown>): TokenUsage | undefined {
  const input = optionalCount(body.prompt_eval_count);
  const output = optionalCount(body.eval_count);
  if (input === undefined && output === undefined) return undefined;
  return { input_tokens: input ?? 0, output_tokens: output ?? 0 };
}

export function ollamaChatResult(body: unknown, requestedModel: string): ChatResult {
  const root = objectAt(body, 'response');
  const message = objectAt(root.message, 'message');
  return {
    model: optionalString(root.model) ?? requestedModel,
    text: optionalString(message.content) ?? '',
    finish_reason: ollamaDoneReason(root.done_reason),
    usage: ollamaUsage(root),
  };
}

/** One NDJSON line; the last one has `done: true` and the counts. */
export function ollamaStreamChunk(line: string): WireStreamEvent[] {
  const chunk = objectAt(parseJson(line, 'stream line'), 'stream line');
  if (chunk.error !== undefined) {
    throw new UpstreamError('http_5xx', ollamaErrorMessage(chunk) ?? 'error reported inside the stream');
  }
  const events: WireStreamEvent[] = [];
  const text = isObject(chunk.message) ? optionalString(chunk.message.content) : undefined;
  if (text) events.push({ type: 'delta', text });
  if (chunk.done === true) {
    const usage = ollamaUsage(chunk);
    if (usage) events.push({ type: 'usage', ...usage });
    events.push({ type: 'finish', finish_reason: ollamaDoneReason(chunk.done_reason) }, { type: 'end' });
  }
  return events;
}

export function ollamaErrorMessage(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  return optionalString(body.error) ?? (isObject(body.error) ? optionalString(body.error.message) : undefined);
}

export function ollamaEmbedRequest(req: EmbeddingRequest): WireRequest {
  return { method: 'POST', path: '/api/embed', body: { model: req.model, input: req.input } };
}

export function ollamaEmbedResult(body: unknown, requestedModel: string): EmbeddingResult {
  const root = objectAt(body, 'response');
  const input = optionalCount(root.prompt_eval_count);
  return {
    model: optionalString(root.model) ?? requestedModel,
    vectors: arrayAt(root.embeddings, 'embeddings').map((v, i) => vectorAt(v, `embeddings[${i}]`)),
    usage: input === undefined ? undefined : { input_tokens: input },
  };
}

/** `GET /api/tags` → `{models: [{name}]}`. */
export function ollamaModelList(body: unknown): string[] | null {
  if (!isObject(body) || !Array.isArray(body.models)) return null;
  return body.models.flatMap((m) => {
    const name = isObject(m) ? (optionalString(m.name) ?? optionalString(m.model)) : undefined;
    return name ? [name] : [];
  });
}

export const ollamaMapper: KindMapper = {
  framing: 'ndjson',
  apiRoot: (basePath) => basePath,
  headers: (apiKey): Record<string, string> => (apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
  chatRequest: ollamaChatRequest,
  chatResult: ollamaChatResult,
  streamChunk: ollamaStreamChunk,
  embedRequest: ollamaEmbedRequest,
  embedResult: ollamaEmbedResult,
  modelsRequest: () => ({ method: 'GET', path: '/api/tags' }),
  modelList: ollamaModelList,
  probeReachable: (status) => status >= 200 && status < 300,
  errorMessage: ollamaErrorMessage,
};
