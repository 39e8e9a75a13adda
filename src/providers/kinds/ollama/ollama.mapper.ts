import { randomBytes } from 'node:crypto';
import type {
  ChatMessage,
  ChatRequest,
  ChatResult,
  ContentPart,
  EmbeddingRequest,
  EmbeddingResult,
  FinishReason,
  ResponseFormat,
  TokenUsage,
  ToolCall,
} from '../../dto/chat';
import { UpstreamError } from '../../../common/upstream/upstream-error';
import type { KindMapper, WireRequest, WireStreamEvent } from '../kind-mapper';
import { ollamaListing, ollamaModelDetails } from './ollama-models';
import {
  arrayAt,
  invalidRequest,
  isObject,
  malformed,
  objectAt,
  optionalCount,
  optionalString,
  parseDataUrl,
  parseJson,
  textOf,
  vectorAt,
  reasoningEffortOf,
  type ReasoningEffort,
} from '../wire';

/** Ollama's native API (`/api/chat`, `/api/embed`, `/api/tags`); streams are NDJSON. */

interface OllamaToolCall {
  function: { name: string; arguments: Record<string, unknown> };
}

interface OllamaMessage {
  role: ChatMessage['role'];
  content: string;
  images?: string[];
  tool_calls?: OllamaToolCall[];
  /** On a tool result: the function it answers (Ollama has no call ids). */
  tool_name?: string;
  /** On an assistant turn: the thinking it came with, given back as Ollama returned it. */
  thinking?: string;
}

/** Text and base64 images (thinking parts go in `thinking`, see ollamaMessages; cache_control is not sent). */
function ollamaContent(content: string | ContentPart[] | null): Pick<OllamaMessage, 'content' | 'images'> {
  if (typeof content === 'string' || content === null) return { content: content ?? '' };
  const images = content.flatMap((part) => {
    if (part.type !== 'image_url') return [];
    const inline = parseDataUrl(part.image_url.url);
    if (!inline) throw invalidRequest('Ollama accepts images only as base64 data URLs');
    return [inline.data];
  });
  return { content: textOf(content), ...(images.length > 0 ? { images } : {}) };
}

function ollamaToolCall(call: ToolCall): OllamaToolCall {
  const args = call.function.arguments.trim() === '' ? {} : parseArguments(call.function.arguments);
  if (!isObject(args)) throw invalidRequest(`the arguments of tool call ${call.id} are not a JSON object`);
  return { function: { name: call.function.name, arguments: args } };
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The name of the function a tool result answers, from the assistant turns before it. */
function toolNameOf(messages: ChatMessage[], at: number, id: string): string {
  for (let i = at - 1; i >= 0; i--) {
    const m = messages[i];
    const call = m.role === 'assistant' ? m.tool_calls?.find((c) => c.id === id) : undefined;
    if (call) return call.function.name;
  }
  throw invalidRequest(`tool message answers no earlier tool call: ${id}`);
}

function ollamaMessages(messages: ChatMessage[]): OllamaMessage[] {
  return messages.map((m, i): OllamaMessage => {
    const message: OllamaMessage = { role: m.role, ...ollamaContent(m.content) };
    if (m.role === 'assistant' && m.tool_calls?.length) message.tool_calls = m.tool_calls.map(ollamaToolCall);
    if (m.role === 'assistant' && Array.isArray(m.content)) {
      const thinking = m.content.flatMap((p) => (p.type === 'thinking' && p.thinking ? [p.thinking] : []));
      if (thinking.length > 0) message.thinking = thinking.join('\n\n');
    }
    // Ollama has no is_error flag on a tool result: the result's own text says what failed.
    if (m.role === 'tool') message.tool_name = toolNameOf(messages, i, m.tool_call_id);
    return message;
  });
}

/**
 * What Ollama cannot express, refused by name; a parameter at its neutral value (n of 1,
 * store false, logprobs false, parallel tool calls allowed, text only) asks for nothing and
 * passes. `user` and `metadata` are refused too: Ollama keeps no record to attach them to.
 */
function refuseUnsupported(req: ChatRequest): void {
  const unsupported: [string, boolean][] = [
    ['logit_bias', req.logit_bias !== undefined],
    ['logprobs', req.logprobs === true],
    ['top_logprobs', req.top_logprobs !== undefined],
    ['n', req.n !== undefined && req.n !== 1],
    ['user', req.user !== undefined],
    ['metadata', req.metadata !== undefined],
    ['store', req.store === true],
    ['service_tier', req.service_tier !== undefined],
    ['modalities', req.modalities !== undefined && req.modalities.some((m) => m !== 'text')],
    ['prediction', req.prediction !== undefined],
    ['parallel_tool_calls', req.parallel_tool_calls === false],
    ['tool_choice', req.tool_choice !== undefined && req.tool_choice !== 'auto' && req.tool_choice !== 'none'],
    ...Object.keys(req.extra ?? {}).map((key): [string, boolean] => [key, true]),
  ];
  const refused = unsupported.find(([, set]) => set);
  if (refused) throw invalidRequest(`${refused[0]} is not supported by ollama upstreams`);
}

function ollamaOptions(req: ChatRequest): Record<string, unknown> | undefined {
  const options = {
    num_predict: req.max_tokens,
    temperature: req.temperature,
    top_p: req.top_p,
    top_k: req.top_k,
    stop: req.stop,
    seed: req.seed,
    presence_penalty: req.presence_penalty,
    frequency_penalty: req.frequency_penalty,
  };
  return Object.values(options).some((v) => v !== undefined) ? options : undefined;
}

/** `format`: "json" for any JSON object, or the JSON schema the answer must follow. */
function ollamaFormat(format: ResponseFormat | undefined): unknown {
  switch (format?.type) {
    case 'json_object':
      return 'json';
    case 'json_schema':
      // Ollama always holds the answer to the schema's grammar: `strict` asks for nothing more.
      return format.json_schema.schema ?? 'json';
    case 'text':
    case undefined:
      return undefined;
  }
}

/**
 * Ollama's `think` for each reasoning effort, and Anthropic's `thinking` as true or false, passed as
 * Ollama's own OpenAI-compatible endpoint does: a level (models with levels, such as gpt-oss, take it; the
 * others read any level as true), `none` and `minimal` as false.
 */
const THINK_OF_EFFORT: Readonly<Record<ReasoningEffort, boolean | string>> = {
  none: false,
  minimal: false,
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'high',
};

/** The `think` a request asks for, if any (its own `thinking` first). */
function ollamaThink(req: ChatRequest): boolean | string | undefined {
  if (req.thinking !== undefined) return req.thinking.type === 'enabled';
  const effort = reasoningEffortOf(req.reasoning_effort);
  return effort === undefined ? undefined : THINK_OF_EFFORT[effort];
}

export function ollamaChatRequest(req: ChatRequest, stream: boolean): WireRequest {
  refuseUnsupported(req);
  const think = ollamaThink(req);
  // Ollama has no tool_choice: "none" is expressed by offering no tools, "auto" is its only way.
  const tools =
    req.tool_choice === 'none' ? undefined : req.tools?.map(({ type, function: fn }) => ({ type, function: fn }));
  return {
    method: 'POST',
    path: '/api/chat',
    body: {
      model: req.model,
      messages: ollamaMessages(req.messages),
      tools,
      format: ollamaFormat(req.response_format),
      ...(think === undefined ? {} : { think }),
      stream,
      options: ollamaOptions(req),
    },
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

/**
 * Ollama gives its tool calls no ids (or, in newer versions, may): each gets one the client
 * can send back, random so that calls of different answers never share one; the way back
 * finds the function by this id in the assistant turn (see toolNameOf).
 */
function ollamaToolCalls(value: unknown, what: string): ToolCall[] {
  if (value === undefined || value === null) return [];
  return arrayAt(value, what).map((item, i): ToolCall => {
    const call = objectAt(item, `${what}[${i}]`);
    const fn = objectAt(call.function, `${what}[${i}].function`);
    const name = optionalString(fn.name);
    if (name === undefined) throw malformed(`${what}[${i}] has no function name`);
    const args = typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {});
    const id = optionalString(call.id) ?? `call_${randomBytes(12).toString('hex')}`;
    return { id, type: 'function', function: { name, arguments: args } };
  });
}

export function ollamaChatResult(body: unknown, requestedModel: string): ChatResult {
  const root = objectAt(body, 'response');
  const message = objectAt(root.message, 'message');
  const toolCalls = ollamaToolCalls(message.tool_calls, 'message.tool_calls');
  const finish = ollamaDoneReason(root.done_reason);
  const thinking = optionalString(message.thinking);
  return {
    model: optionalString(root.model) ?? requestedModel,
    text: optionalString(message.content) ?? '',
    ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    ...(thinking ? { thinking: [{ type: 'thinking' as const, thinking }] } : {}),
    // Ollama says "stop" after a turn of tool calls.
    finish_reason: toolCalls.length > 0 && finish === 'stop' ? 'tool_calls' : finish,
    usage: ollamaUsage(root),
  };
}

/**
 * One NDJSON line; the last one has `done: true` and the counts. A line's tool calls are
 * complete: each is one fragment with its id, name and whole arguments (the stream assembler
 * numbers the calls of the whole stream).
 */
export function ollamaStreamChunk(line: string): WireStreamEvent[] {
  const chunk = objectAt(parseJson(line, 'stream line'), 'stream line');
  if (chunk.error !== undefined) {
    throw new UpstreamError('http_5xx', ollamaErrorMessage(chunk) ?? 'error reported inside the stream');
  }
  const events: WireStreamEvent[] = [];
  const message = isObject(chunk.message) ? chunk.message : {};
  const thinking = optionalString(message.thinking);
  if (thinking) events.push({ type: 'thinking', thinking });
  const text = optionalString(message.content);
  if (text) events.push({ type: 'delta', text });
  ollamaToolCalls(message.tool_calls, 'message.tool_calls').forEach((call, index) => {
    events.push({
      type: 'tool_call',
      index,
      id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    });
  });
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
  return {
    method: 'POST',
    path: '/api/embed',
    body: {
      model: req.model,
      input: req.input,
      ...(req.dimensions === undefined ? {} : { dimensions: req.dimensions }),
    },
  };
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
  return ollamaListing(body)?.map((m) => m.name) ?? null;
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
  modelDetails: ollamaModelDetails,
  probeReachable: (status) => status >= 200 && status < 300,
  errorMessage: ollamaErrorMessage,
};
