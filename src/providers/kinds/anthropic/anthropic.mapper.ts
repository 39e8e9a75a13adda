import type {
  AssistantMessage,
  CacheControl,
  ChatMessage,
  ChatRequest,
  ChatResult,
  ContentPart,
  FinishReason,
  RedactedThinkingPart,
  ThinkingPart,
  ThinkingConfig,
  TokenUsage,
  ToolCall,
  ToolChoice,
  ToolMessage,
} from '../../dto/chat';
import { UpstreamError, type UpstreamErrorClass } from '../../../common/upstream/upstream-error';
import type { KindMapper, WireRequest, WireStreamEvent } from '../kind-mapper';
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
  positiveCount,
  type JsonObject,
  reasoningEffortOf,
  type ReasoningEffort,
} from '../wire';

/** Anthropic Messages API. The declared base URL may end in /v1 or not. */

export const ANTHROPIC_VERSION = '2023-06-01';
/** Anthropic requires max_tokens; this is used when neither the caller nor the catalog sets one. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 1024;

/**
 * Structured output has no Anthropic parameter: the schema becomes a tool the model is made
 * to call, and its input is the answer, returned as the message text (as LiteLLM does). The
 * fixed name lets answers and streams be recognised without the request.
 */
export const ANSWER_TOOL_NAME = 'json_tool_call';

/** Parameters Anthropic has no equivalent for: refused by name rather than dropped. */
const UNSUPPORTED_PARAMETERS = [
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'store',
  'modalities',
  'prediction',
] as const;

const unsupported = (what: string): UpstreamError => invalidRequest(`${what} is not supported by anthropic upstreams`);

type AnthropicBlock = JsonObject & { type: string };

const withCache = (block: AnthropicBlock, cache?: CacheControl): AnthropicBlock =>
  cache ? { ...block, cache_control: cache } : block;

function anthropicBlock(part: ContentPart, where: string): AnthropicBlock {
  switch (part.type) {
    case 'text':
      return withCache({ type: 'text', text: part.text }, part.cache_control);
    case 'image_url':
      return withCache(imageBlock(part.image_url.url), part.cache_control);
    case 'thinking':
    case 'redacted_thinking':
      throw invalidRequest(`${part.type} blocks are only accepted in assistant messages (${where})`);
  }
}

function imageBlock(url: string): AnthropicBlock {
  const inline = parseDataUrl(url);
  if (inline) return { type: 'image', source: { type: 'base64', media_type: inline.mediaType, data: inline.data } };
  if (/^https:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalidRequest('images must be base64 data URLs or https URLs');
}

function contentOf(content: string | ContentPart[], where: string): string | AnthropicBlock[] {
  return typeof content === 'string' ? content : content.map((part) => anthropicBlock(part, where));
}

/** `system` as a string, or as text blocks when one of them carries a cache breakpoint. */
function anthropicSystem(messages: ChatMessage[]): string | AnthropicBlock[] | undefined {
  const parts = messages
    .filter((m) => m.role === 'system')
    .flatMap((m): ContentPart[] => (typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content));
  if (parts.some((p) => p.type !== 'text')) throw invalidRequest('system messages may only hold text');
  if (parts.some((p) => 'cache_control' in p && p.cache_control)) return parts.map((p) => anthropicBlock(p, 'system'));
  const text = parts.map((p) => (p.type === 'text' ? p.text : '')).join('\n\n');
  return text || undefined;
}

/**
 * Thinking blocks go back first and intact (signature included): Anthropic verifies them. Thinking without a
 * signature (another kind's, e.g. Ollama's) cannot be verified and is left out.
 */
function assistantContent(m: AssistantMessage, position: number): string | AnthropicBlock[] {
  if (!m.tool_calls?.length && typeof m.content === 'string') return m.content;
  if (!m.tool_calls?.length && m.content === null) return '';
  const parts = typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : (m.content ?? []);
  const thinking = parts.flatMap((p): AnthropicBlock[] => {
    if (p.type === 'thinking') {
      return p.signature ? [{ type: 'thinking', thinking: p.thinking, signature: p.signature }] : [];
    }
    if (p.type === 'redacted_thinking') return [{ type: 'redacted_thinking', data: p.data }];
    return [];
  });
  const rest = parts
    .filter((p) => p.type === 'text' || p.type === 'image_url')
    // Anthropic refuses empty text blocks; a tool-call turn often carries one.
    .filter((p) => p.type !== 'text' || p.text !== '')
    .map((p) => anthropicBlock(p, `messages[${position}]`));
  const calls = (m.tool_calls ?? []).map((call) => toolUseBlock(call, position));
  return [...thinking, ...rest, ...calls];
}

function toolUseBlock(call: ToolCall, position: number): AnthropicBlock {
  let input: unknown;
  try {
    input = JSON.parse(call.function.arguments || '{}');
  } catch {
    throw invalidRequest(`messages[${position}].tool_calls: the arguments of ${call.id} are not valid JSON`);
  }
  return { type: 'tool_use', id: call.id, name: call.function.name, input };
}

function toolResultBlock(m: ToolMessage, position: number): AnthropicBlock {
  return {
    type: 'tool_result',
    tool_use_id: m.tool_call_id,
    content: contentOf(m.content, `messages[${position}]`),
    ...(m.is_error !== undefined ? { is_error: m.is_error } : {}),
  };
}

type AnthropicMessage = { role: 'user' | 'assistant'; content: string | AnthropicBlock[] };

/** Consecutive tool results become one user turn of tool_result blocks, as Anthropic expects. */
function anthropicMessages(messages: ChatMessage[]): AnthropicMessage[] {
  const out: AnthropicMessage[] = [];
  let results: AnthropicBlock[] | undefined;
  messages.forEach((m, position) => {
    if (m.role !== 'tool') results = undefined;
    switch (m.role) {
      case 'system':
        return;
      case 'tool':
        if (!results) {
          results = [];
          out.push({ role: 'user', content: results });
        }
        results.push(toolResultBlock(m, position));
        return;
      case 'assistant':
        out.push({ role: 'assistant', content: assistantContent(m, position) });
        return;
      case 'user':
        out.push({ role: 'user', content: contentOf(m.content, `messages[${position}]`) });
    }
  });
  return out;
}

function anthropicToolChoice(choice: ToolChoice): JsonObject {
  if (choice === 'required') return { type: 'any' };
  if (typeof choice === 'string') return { type: choice };
  return { type: 'tool', name: choice.function.name };
}

/** Tools, tool_choice and the structured-output answer tool. */
function anthropicTools(req: ChatRequest): JsonObject {
  const tools: JsonObject[] = (req.tools ?? []).map((t) => {
    if (t.function.name === ANSWER_TOOL_NAME) throw invalidRequest(`the tool name ${ANSWER_TOOL_NAME} is reserved`);
    // `strict` has no stable Anthropic equivalent: tool inputs follow input_schema without it.
    return {
      name: t.function.name,
      ...(t.function.description !== undefined ? { description: t.function.description } : {}),
      input_schema: t.function.parameters ?? { type: 'object' },
      ...(t.cache_control ? { cache_control: t.cache_control } : {}),
    };
  });
  let choice = req.tool_choice === undefined ? undefined : anthropicToolChoice(req.tool_choice);
  const answer = answerTool(req);
  if (answer) {
    tools.push(answer);
    // Answering is calling the answer tool: the client's tools stay callable, plain text does not.
    if (!req.tools?.length || choice?.type === 'none') choice = { type: 'tool', name: ANSWER_TOOL_NAME };
    else if (choice === undefined || choice.type === 'auto') choice = { type: 'any' };
    // Anthropic refuses a forced tool while thinking: the model is then only offered it.
    if (req.thinking?.type === 'enabled') choice = { type: 'auto' };
  }
  if (req.parallel_tool_calls === false && tools.length && choice?.type !== 'none') {
    choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  }
  return { ...(tools.length ? { tools } : {}), ...(choice ? { tool_choice: choice } : {}) };
}

function answerTool(req: ChatRequest): JsonObject | undefined {
  const format = req.response_format;
  if (format?.type === 'json_object') {
    return {
      name: ANSWER_TOOL_NAME,
      description: 'Respond with a JSON object.',
      input_schema: { type: 'object', additionalProperties: true },
    };
  }
  if (format?.type !== 'json_schema') return undefined;
  const { name, description, schema } = format.json_schema;
  return {
    name: ANSWER_TOOL_NAME,
    description: description ?? `Respond with the answer, a ${name} object.`,
    input_schema: schema ?? { type: 'object' },
  };
}

/** ChatParameters → Anthropic fields; what Anthropic cannot express is refused by name. */
function anthropicParameters(req: ChatRequest): JsonObject {
  for (const name of UNSUPPORTED_PARAMETERS) if (req[name] !== undefined) throw unsupported(name);
  if (req.n !== undefined && req.n !== 1) throw unsupported('n other than 1');
  const extra = Object.keys(req.extra ?? {});
  if (extra.length) throw unsupported(extra[0]);
  // Anthropic's metadata takes only user_id; the OpenAI-style `user` is that id.
  const { user_id: userId, ...others } = req.metadata ?? {};
  const other = Object.keys(others);
  if (other.length) throw unsupported(`metadata.${other[0]}`);
  const user = req.user ?? userId;
  return {
    temperature: req.temperature,
    top_p: req.top_p,
    top_k: req.top_k,
    stop_sequences: req.stop,
    ...(user !== undefined ? { metadata: { user_id: user } } : {}),
    ...(req.thinking !== undefined ? { thinking: req.thinking } : {}),
    ...(req.service_tier !== undefined ? { service_tier: req.service_tier } : {}),
  };
}

/**
 * OpenAI's `reasoning_effort` as Anthropic's extended thinking: a thinking budget per effort (LiteLLM's
 * figures for low, medium and high); `none` and `minimal` ask for no thinking.
 */
export const THINKING_BUDGET_OF_EFFORT: Readonly<Record<ReasoningEffort, number | null>> = {
  none: null,
  minimal: null,
  low: 1024,
  medium: 2048,
  high: 4096,
  xhigh: 8192,
};

/**
 * The thinking a request asks for: its own `thinking`, else the budget of its `reasoning_effort`. The
 * effort is a wish rather than a command, so it asks for no thinking where Anthropic would refuse it:
 * when a tool is forced, and in a tool loop whose last assistant turn came back without its thinking
 * (a client that did not keep `thinking_blocks`), which Anthropic requires first in that turn.
 */
function anthropicThinking(req: ChatRequest, maxTokens: number): ThinkingConfig | undefined {
  if (req.thinking !== undefined) return req.thinking;
  const effort = reasoningEffortOf(req.reasoning_effort);
  if (effort === undefined) return undefined;
  const budget = THINKING_BUDGET_OF_EFFORT[effort];
  if (budget === null) return undefined;
  if (maxTokens <= budget) {
    throw invalidRequest(
      `max_tokens (${maxTokens}) must be above the ${budget} thinking tokens of reasoning_effort ${effort} ` +
        'on anthropic upstreams',
    );
  }
  const forced = req.tool_choice === 'required' || typeof req.tool_choice === 'object';
  if (forced || toolLoopWithoutThinking(req.messages)) return undefined;
  return { type: 'enabled', budget_tokens: budget };
}

/** The conversation ends with tool results answering an assistant turn that has no thinking part. */
function toolLoopWithoutThinking(messages: readonly ChatMessage[]): boolean {
  if (messages.at(-1)?.role !== 'tool') return false;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role !== 'assistant') continue;
    return !(
      Array.isArray(m.content) &&
      m.content.some((p) => (p.type === 'thinking' && p.signature) || p.type === 'redacted_thinking')
    );
  }
  return false;
}

export function anthropicChatRequest(req: ChatRequest, stream: boolean): WireRequest {
  const system = anthropicSystem(req.messages);
  const maxTokens = req.max_tokens ?? req.max_output_tokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS;
  const thinking = anthropicThinking(req, maxTokens);
  const effective: ChatRequest = { ...req, thinking, reasoning_effort: undefined };
  return {
    method: 'POST',
    path: '/v1/messages',
    body: {
      model: req.model,
      max_tokens: maxTokens,
      ...(system !== undefined ? { system } : {}),
      messages: anthropicMessages(req.messages),
      ...anthropicParameters(effective),
      ...anthropicTools(effective),
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

/**
 * Anthropic's input_tokens counts only the uncached part of the prompt; ours counts every
 * input token, so cache reads and writes are added in and also reported on their own (each
 * has its own price).
 */
export function anthropicUsage(value: unknown): Partial<TokenUsage> {
  if (!isObject(value)) return {};
  const input = optionalCount(value.input_tokens);
  // Anthropic always reports both, zero when nothing was cached: as for the other kinds, zero is no detail.
  const read = positiveCount(value.cache_read_input_tokens);
  const written = positiveCount(value.cache_creation_input_tokens);
  const usage: Partial<TokenUsage> = {};
  if (input !== undefined) usage.input_tokens = input + (read ?? 0) + (written ?? 0);
  if (read !== undefined) usage.cached_input_tokens = read;
  if (written !== undefined) usage.cache_write_input_tokens = written;
  const output = optionalCount(value.output_tokens);
  if (output !== undefined) usage.output_tokens = output;
  return usage;
}

function thinkingPart(block: JsonObject): ThinkingPart | RedactedThinkingPart | undefined {
  if (block.type === 'redacted_thinking') return { type: 'redacted_thinking', data: optionalString(block.data) ?? '' };
  if (block.type !== 'thinking') return undefined;
  const signature = optionalString(block.signature);
  return { type: 'thinking', thinking: optionalString(block.thinking) ?? '', ...(signature ? { signature } : {}) };
}

export function anthropicChatResult(body: unknown, requestedModel: string): ChatResult {
  const root = objectAt(body, 'response');
  const blocks = arrayAt(root.content, 'content').filter(isObject);
  const uses = blocks.filter((b) => b.type === 'tool_use');
  const answer = uses.find((b) => b.name === ANSWER_TOOL_NAME);
  const toolCalls = uses
    .filter((b) => b !== answer)
    .map((b, i): ToolCall => ({
      id: optionalString(b.id) ?? `toolu_${i}`,
      type: 'function',
      function: { name: optionalString(b.name) ?? '', arguments: JSON.stringify(b.input ?? {}) },
    }));
  const thinking = blocks.flatMap((b) => thinkingPart(b) ?? []);
  // With structured output the answer is the tool's input; any text around it would spoil the JSON.
  const text = answer
    ? JSON.stringify(answer.input ?? {})
    : blocks
        .filter((b) => b.type === 'text')
        .map((b) => optionalString(b.text) ?? '')
        .join('');
  const usage = anthropicUsage(root.usage);
  const finish = anthropicStopReason(root.stop_reason);
  return {
    id: optionalString(root.id),
    model: optionalString(root.model) ?? requestedModel,
    text,
    ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
    ...(thinking.length ? { thinking } : {}),
    finish_reason: finish === 'tool_calls' && answer && !toolCalls.length ? 'stop' : finish,
    usage:
      usage.input_tokens === undefined && usage.output_tokens === undefined
        ? undefined
        : { input_tokens: 0, output_tokens: 0, ...usage },
  };
}

/** Anthropic error types → our classes (529 overloaded and api_error are the upstream's fault). */
const ERROR_TYPES: Record<string, UpstreamErrorClass> = {
  invalid_request_error: 'http_4xx',
  authentication_error: 'auth_failed',
  permission_error: 'auth_failed',
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

/**
 * The events of one stream. Deltas name their content block by its index among all blocks,
 * so the parser remembers what each block is: the nth client tool call (OpenAI numbers tool
 * calls, not blocks) or the structured-output answer, whose input is streamed as text.
 */
export class AnthropicStreamParser {
  private readonly blocks = new Map<number, { tool: number } | 'answer'>();
  private toolCalls = 0;
  private answered = false;

  /** One SSE `data:` payload; each carries its event type in `type`. */
  parse(data: string): WireStreamEvent[] {
    const event = objectAt(parseJson(data, 'stream event'), 'stream event');
    switch (event.type) {
      case 'message_start': {
        const message = objectAt(event.message, 'message_start.message');
        const usage = anthropicUsage(message.usage);
        // output_tokens here is a placeholder; the real count comes with message_delta.
        delete usage.output_tokens;
        return Object.keys(usage).length ? [{ type: 'usage', ...usage }] : [];
      }
      case 'content_block_start':
        return this.blockStart(event);
      case 'content_block_delta':
        return this.blockDelta(event);
      case 'message_delta':
        return this.messageDelta(event);
      case 'message_stop':
        return [{ type: 'end' }];
      case 'error':
        throw anthropicStreamedError(event);
      default: // ping, content_block_stop, and event types added later
        return [];
    }
  }

  private blockStart(event: JsonObject): WireStreamEvent[] {
    const index = optionalCount(event.index);
    const block = objectAt(event.content_block, 'content_block_start.content_block');
    switch (block.type) {
      case 'tool_use': {
        if (index === undefined) throw malformed('content_block_start.index is missing');
        if (block.name === ANSWER_TOOL_NAME) {
          this.blocks.set(index, 'answer');
          this.answered = true;
          return [];
        }
        const tool = this.toolCalls++;
        this.blocks.set(index, { tool });
        const id = optionalString(block.id);
        const name = optionalString(block.name);
        return [{ type: 'tool_call', index: tool, id, name, arguments: '' }];
      }
      case 'text': {
        const text = optionalString(block.text);
        return text ? [{ type: 'delta', text }] : [];
      }
      case 'thinking': {
        const thinking = optionalString(block.thinking);
        return thinking ? [{ type: 'thinking', thinking }] : [];
      }
      case 'redacted_thinking':
        return [{ type: 'thinking', redacted: optionalString(block.data) ?? '' }];
      default:
        return [];
    }
  }

  private blockDelta(event: JsonObject): WireStreamEvent[] {
    const delta = objectAt(event.delta, 'content_block_delta.delta');
    switch (delta.type) {
      case 'text_delta': {
        const text = optionalString(delta.text);
        return text ? [{ type: 'delta', text }] : [];
      }
      case 'input_json_delta': {
        const piece = optionalString(delta.partial_json);
        const block = this.blocks.get(optionalCount(event.index) ?? -1);
        if (!piece || block === undefined) return [];
        if (block === 'answer') return [{ type: 'delta', text: piece }];
        return [{ type: 'tool_call', index: block.tool, arguments: piece }];
      }
      case 'thinking_delta': {
        const thinking = optionalString(delta.thinking);
        return thinking ? [{ type: 'thinking', thinking }] : [];
      }
      case 'signature_delta': {
        const signature = optionalString(delta.signature);
        return signature ? [{ type: 'thinking', signature }] : [];
      }
      default:
        return [];
    }
  }

  private messageDelta(event: JsonObject): WireStreamEvent[] {
    const events: WireStreamEvent[] = [];
    // output_tokens is cumulative; newer API versions repeat the input counts here too.
    const usage = anthropicUsage(event.usage);
    if (Object.keys(usage).length) events.push({ type: 'usage', ...usage });
    const delta = isObject(event.delta) ? event.delta : {};
    if (typeof delta.stop_reason === 'string') {
      const finish = anthropicStopReason(delta.stop_reason);
      // A structured answer alone ends the turn like text does.
      events.push({
        type: 'finish',
        finish_reason: finish === 'tool_calls' && this.answered && !this.toolCalls ? 'stop' : finish,
      });
    }
    return events;
  }
}

/** One stream event on its own (a stream is parsed by one AnthropicStreamParser). */
export function anthropicStreamChunk(data: string): WireStreamEvent[] {
  return new AnthropicStreamParser().parse(data);
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
  streamParser: () => {
    const parser = new AnthropicStreamParser();
    return (data) => parser.parse(data);
  },
  modelsRequest: () => ({ method: 'GET', path: '/v1/models' }),
  modelList: anthropicModelList,
  // Compatible gateways may not list models or may want other credentials: they still answered.
  probeReachable: (status) => (status >= 200 && status < 300) || status === 401 || status === 404,
  errorMessage: anthropicErrorMessage,
};
