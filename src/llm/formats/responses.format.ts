import type {
  AssistantMessage,
  ChatMessage,
  ChatStreamEvent,
  ContentPart,
  FinishReason,
  RedactedThinkingPart,
  ResponseFormat,
  ThinkingPart,
  TokenUsage,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from '../../providers/dto/chat';
import { parseStrategy } from '../../routing/routing.api';
import { type ChatExchange, type StreamFailure, streamFailure } from '../chat-reply';
import { chatCommand, type ChatOutcome, type OpenStream } from '../chat.usecase';
import type {
  ResponsesInputItem,
  ResponsesRequestDto,
  ResponsesTextFormat,
  ResponsesToolChoice,
} from '../dto/responses.dto';
import type { RequestContext } from '../request-context';
import type { SseFrame } from '../reply';
import { hasImages } from './openai.format';

type Json = Record<string, unknown>;

/** Message parts → canonical: a string when they are all text, else text and image parts. */
function canonicalContent(content: string | Json[]): string | ContentPart[] {
  if (typeof content === 'string') return content;
  const parts = content.map((p): ContentPart => {
    if (p.type === 'input_image') {
      const detail = p.detail as 'auto' | 'low' | 'high' | undefined;
      return { type: 'image_url', image_url: { url: p.image_url as string, ...(detail ? { detail } : {}) } };
    }
    return { type: 'text', text: (p.type === 'refusal' ? p.refusal : p.text) as string };
  });
  return parts.every((p) => p.type === 'text') ? parts.map((p) => (p as { text: string }).text).join('') : parts;
}

type Thinking = ThinkingPart | RedactedThinkingPart;

/** The mark of a reasoning item's encrypted_content written here: the thinking block, whole, in base64url JSON. */
const SEALED_THINKING = 'cfx-thinking.v1.';

/**
 * A thinking block as a reasoning item's `encrypted_content`: nothing is stored, so the block (with the
 * signature Anthropic checks) travels with the client, which sends the item back in a tool loop.
 */
function sealThinking(part: Thinking): string {
  return SEALED_THINKING + Buffer.from(JSON.stringify(part)).toString('base64url');
}

/** The thinking block of an encrypted_content sealed here; undefined for anything else (another server's). */
function openThinking(sealed: string | null | undefined): Thinking | undefined {
  if (!sealed?.startsWith(SEALED_THINKING)) return undefined;
  let part: unknown;
  try {
    part = JSON.parse(Buffer.from(sealed.slice(SEALED_THINKING.length), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof part !== 'object' || part === null) return undefined;
  const p = part as Record<string, unknown>;
  if (p.type === 'redacted_thinking' && typeof p.data === 'string') return { type: 'redacted_thinking', data: p.data };
  if (p.type !== 'thinking' || typeof p.thinking !== 'string') return undefined;
  return {
    type: 'thinking',
    thinking: p.thinking,
    ...(typeof p.signature === 'string' ? { signature: p.signature } : {}),
  };
}

/** An assistant turn holding only the thinking of reasoning items so far, which the turn's text and calls join. */
function thinkingTurn(message: ChatMessage | undefined): (AssistantMessage & { content: ContentPart[] }) | undefined {
  if (message?.role !== 'assistant' || message.tool_calls?.length || !Array.isArray(message.content)) return undefined;
  const thinkingOnly = message.content.every((p) => p.type === 'thinking' || p.type === 'redacted_thinking');
  return thinkingOnly ? (message as AssistantMessage & { content: ContentPart[] }) : undefined;
}

/**
 * Responses input → canonical messages: `instructions` first as the system message, a
 * `function_call` joins the assistant turn before it (parallel calls share one turn), and
 * a `function_call_output` is the tool message of its `call_id`. A `reasoning` item sealed here starts
 * the assistant turn that follows it with its thinking block; others (summaries only, another server's)
 * are left out, since their thinking cannot be given back.
 */
export function canonicalFromResponses(body: ResponsesRequestDto): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (body.instructions !== undefined) messages.push({ role: 'system', content: body.instructions });
  const items: ResponsesInputItem[] =
    typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
  for (const item of items) {
    if (item.type === 'function_call') {
      const call: ToolCall = {
        id: item.call_id,
        type: 'function',
        function: { name: item.name, arguments: item.arguments },
      };
      const last = messages[messages.length - 1];
      if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call];
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (item.type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: canonicalContent(item.output) });
    } else if (item.type === 'reasoning') {
      const part = openThinking(item.encrypted_content);
      if (!part) continue;
      const turn = thinkingTurn(messages[messages.length - 1]);
      if (turn) turn.content.push(part);
      else messages.push({ role: 'assistant', content: [part] });
    } else if (item.role === 'assistant') {
      const content = canonicalContent(item.content);
      const turn = thinkingTurn(messages[messages.length - 1]);
      if (turn)
        turn.content.push(...(typeof content === 'string' ? [{ type: 'text' as const, text: content }] : content));
      else messages.push({ role: 'assistant', content } satisfies AssistantMessage);
    } else {
      const role = item.role === 'developer' ? 'system' : item.role;
      messages.push({ role, content: canonicalContent(item.content) });
    }
  }
  // Thinking that no text or call followed has no turn to start: it is left out.
  return messages.filter((m) => thinkingTurn(m) === undefined);
}

function canonicalToolChoice(choice: ResponsesToolChoice | undefined): ToolChoice | undefined {
  if (choice === undefined || typeof choice === 'string') return choice;
  return { type: 'function', function: { name: choice.name } };
}

function canonicalFormat(format: ResponsesTextFormat | undefined): ResponseFormat | undefined {
  if (format?.type !== 'json_schema') return format;
  const { name, schema, description, strict } = format;
  return {
    type: 'json_schema',
    json_schema: {
      name,
      schema,
      ...(description === undefined ? {} : { description }),
      ...(strict === undefined || strict === null ? {} : { strict }),
    },
  };
}

function canonicalTools(body: ResponsesRequestDto): ToolDefinition[] | undefined {
  return body.tools?.map((t) => ({
    type: 'function',
    function: {
      name: t.name,
      ...(typeof t.description === 'string' ? { description: t.description } : {}),
      ...(t.parameters ? { parameters: t.parameters } : {}),
      ...(typeof t.strict === 'boolean' ? { strict: t.strict } : {}),
    },
  }));
}

/**
 * A Responses request, served statelessly by any provider kind: answered with a Response
 * object, or its SSE event stream (ending with an error event when cut).
 */
export function responsesChat(body: ResponsesRequestDto, ctx: RequestContext): ChatExchange {
  const messages = canonicalFromResponses(body);
  const ids = new ResponseIds(ctx.requestId);
  const echo = echoed(body);
  const summaries = (body.reasoning?.summary ?? body.reasoning?.generate_summary ?? null) !== null;
  return {
    command: chatCommand(ctx, {
      endpoint: '/v1/responses',
      model: body.model,
      strategy: parseStrategy(body.conflux_strategy ?? ctx.strategyHeader),
      messages,
      maxTokens: body.max_output_tokens,
      temperature: body.temperature,
      topP: body.top_p,
      tools: canonicalTools(body),
      toolChoice: canonicalToolChoice(body.tool_choice),
      parallelToolCalls: body.parallel_tool_calls,
      responseFormat: canonicalFormat(body.text?.format),
      parameters: {
        user: body.user,
        metadata: body.metadata,
        service_tier: body.service_tier,
        reasoning_effort: body.reasoning?.effort ?? undefined,
      },
      vision: hasImages(messages),
    }),
    body: (outcome) => {
      const output = outputItems(ids, outcome, itemStatus(outcome.finish), summaries);
      return response(ids, echo, outcome.candidate.model.name, {
        output,
        finish: outcome.finish,
        usage: outcome.usage,
      });
    },
    frames: body.stream ? (stream) => responseFrames(ids, echo, stream, summaries) : undefined,
  };
}

/** The ids of a response and its output items, derived from the request id. */
class ResponseIds {
  readonly response: string;
  readonly createdAt = Math.floor(Date.now() / 1000);
  private readonly base: string;
  private items = 0;

  constructor(requestId: string) {
    this.base = requestId.replace(/[^A-Za-z0-9]/g, '');
    this.response = `resp_${this.base}`;
  }

  message(): string {
    return `msg_${this.base}_${this.items++}`;
  }

  functionCall(): string {
    return `fc_${this.base}_${this.items++}`;
  }

  reasoning(): string {
    return `rs_${this.base}_${this.items++}`;
  }
}

/** The request's settings, echoed in every Response object as OpenAI does. */
function echoed(body: ResponsesRequestDto): Json {
  return {
    instructions: body.instructions ?? null,
    tools: (body.tools ?? []).map((t) => ({
      type: 'function',
      name: t.name,
      description: t.description ?? null,
      parameters: t.parameters ?? null,
      strict: t.strict ?? true,
    })),
    tool_choice: body.tool_choice ?? 'auto',
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    text: { format: body.text?.format ?? { type: 'text' } },
    reasoning: {
      effort: body.reasoning?.effort ?? null,
      summary: body.reasoning?.summary ?? body.reasoning?.generate_summary ?? null,
    },
    temperature: body.temperature ?? null,
    top_p: body.top_p ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    metadata: body.metadata ?? {},
    user: body.user ?? null,
    service_tier: body.service_tier ?? null,
    previous_response_id: null,
    store: false,
    background: false,
    truncation: 'disabled',
  };
}

type ItemStatus = 'completed' | 'incomplete';

function itemStatus(finish: FinishReason): ItemStatus {
  return finish === 'length' || finish === 'content_filter' ? 'incomplete' : 'completed';
}

function messageItem(id: string, text: string, status: ItemStatus | 'in_progress'): Json {
  const content = status === 'in_progress' ? [] : [outputText(text)];
  return { type: 'message', id, status, role: 'assistant', content };
}

function outputText(text: string): Json {
  return { type: 'output_text', text, annotations: [] };
}

function functionCallItem(id: string, call: ToolCall, status: ItemStatus | 'in_progress'): Json {
  return {
    type: 'function_call',
    id,
    call_id: call.id,
    name: call.function.name,
    arguments: call.function.arguments,
    status,
  };
}

/**
 * A reasoning item: one thinking block, shown as its summary when the request asked for summaries, and
 * carried whole in `encrypted_content` for the client to send back.
 */
function reasoningItem(id: string, part: Thinking, summaries: boolean): Json {
  const text = part.type === 'thinking' && summaries && part.thinking !== '' ? part.thinking : undefined;
  return {
    type: 'reasoning',
    id,
    summary: text === undefined ? [] : [summaryText(text)],
    encrypted_content: sealThinking(part),
  };
}

function summaryText(text: string): Json {
  return { type: 'summary_text', text };
}

/**
 * The output of a completed chat: its thinking blocks as reasoning items, its text as one message (when
 * there is text or no call), then its calls.
 */
function outputItems(
  ids: ResponseIds,
  outcome: Pick<ChatOutcome, 'text' | 'toolCalls' | 'thinking'>,
  status: ItemStatus,
  summaries: boolean,
): Json[] {
  const calls = outcome.toolCalls ?? [];
  const items: Json[] = (outcome.thinking ?? []).map((part) => reasoningItem(ids.reasoning(), part, summaries));
  if (outcome.text !== '' || calls.length === 0) items.push(messageItem(ids.message(), outcome.text, status));
  for (const call of calls) items.push(functionCallItem(ids.functionCall(), call, 'completed'));
  return items;
}

/**
 * Responses usage: input tokens include the cached ones, output tokens the reasoning ones; a streamed
 * response's last event adds the credits billed (`credits`, a Conflux field).
 */
function responsesUsage(usage: TokenUsage, credits?: number): Json {
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: { cached_tokens: usage.cached_input_tokens ?? 0 },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
    total_tokens: usage.input_tokens + usage.output_tokens,
    ...(credits === undefined ? {} : { credits }),
  };
}

interface Ending {
  output: Json[];
  /** Absent while in progress; null when the stream failed. */
  finish?: FinishReason | null;
  usage?: TokenUsage;
  /** Credits billed, shown in the usage of a streamed response's last event. */
  credits?: number;
  /** Why a failed stream failed (default: the upstream cut it). */
  failure?: StreamFailure;
}

/** A Response object: in progress (no finish yet), completed, incomplete, or failed. */
function response(ids: ResponseIds, echo: Json, model: string, end: Ending): Json {
  const incomplete =
    end.finish === 'length' ? 'max_output_tokens' : end.finish === 'content_filter' ? 'content_filter' : null;
  const status =
    end.finish === undefined ? 'in_progress' : end.finish === null ? 'failed' : incomplete ? 'incomplete' : 'completed';
  return {
    id: ids.response,
    object: 'response',
    created_at: ids.createdAt,
    status,
    completed_at: status === 'completed' ? Math.floor(Date.now() / 1000) : null,
    error: status === 'failed' ? { code: 'server_error', message: (end.failure ?? streamFailure(null)).message } : null,
    incomplete_details: incomplete ? { reason: incomplete } : null,
    model,
    output: end.output,
    usage: end.usage ? responsesUsage(end.usage, end.credits) : null,
    ...echo,
  };
}

/** The open output item of a stream: a message taking text, a function call taking arguments, or a reasoning item taking thinking. */
type OpenItem =
  | { kind: 'message'; index: number; id: string; text: string }
  | { kind: 'call'; index: number; id: string; toolIndex: number; call: ToolCall }
  | { kind: 'reasoning'; index: number; id: string; text: string };

/**
 * The events of a streamed response, numbered: each output item is added, fed its deltas,
 * and done before the next one is added. The items done so far are the final output.
 */
class OutputSequence {
  readonly done: Json[] = [];
  private seq = 0;
  private open: OpenItem | null = null;

  constructor(
    private readonly ids: ResponseIds,
    private readonly summaries: boolean,
  ) {}

  get started(): boolean {
    return this.open !== null || this.done.length > 0;
  }

  event(type: string, fields: Json): SseFrame {
    return { event: type, data: { type, sequence_number: this.seq++, ...fields } };
  }

  /** Text: into the open message, or a new one. */
  text(delta: string): SseFrame[] {
    const frames: SseFrame[] = [];
    if (this.open?.kind !== 'message') {
      frames.push(...this.close('completed'));
      const item = { kind: 'message' as const, index: this.done.length, id: this.ids.message(), text: '' };
      this.open = item;
      frames.push(
        this.event('response.output_item.added', {
          output_index: item.index,
          item: messageItem(item.id, '', 'in_progress'),
        }),
        this.event('response.content_part.added', { ...this.at(item), part: outputText('') }),
      );
    }
    const item = this.open;
    if (delta === '') return frames;
    item.text += delta;
    frames.push(this.event('response.output_text.delta', { ...this.at(item), delta, logprobs: [] }));
    return frames;
  }

  /** A tool call fragment: the first of a call adds its item, the next ones are argument deltas. */
  toolCall(toolIndex: number, id: string | undefined, name: string | undefined, args: string): SseFrame[] {
    const frames: SseFrame[] = [];
    const current = this.open?.kind === 'call' && this.open.toolIndex === toolIndex ? this.open : null;
    let item = current;
    if (!item || id !== undefined) {
      frames.push(...this.close('completed'));
      const call: ToolCall = { id: id ?? '', type: 'function', function: { name: name ?? '', arguments: '' } };
      item = { kind: 'call', index: this.done.length, id: this.ids.functionCall(), toolIndex, call };
      this.open = item;
      frames.push(
        this.event('response.output_item.added', {
          output_index: item.index,
          item: functionCallItem(item.id, call, 'in_progress'),
        }),
      );
    }
    if (args !== '') {
      item.call.function.arguments += args;
      frames.push(
        this.event('response.function_call_arguments.delta', {
          item_id: item.id,
          output_index: item.index,
          delta: args,
        }),
      );
    }
    return frames;
  }

  /**
   * Thinking: its text into the open reasoning item (or a new one), shown as summary deltas when asked;
   * its signature ends the item; a redacted block is an item of its own.
   */
  thinking(event: Extract<ChatStreamEvent, { type: 'thinking' }>): SseFrame[] {
    const frames: SseFrame[] = [];
    if (event.redacted !== undefined) {
      frames.push(...this.close('completed'));
      const index = this.done.length;
      const done = reasoningItem(this.ids.reasoning(), { type: 'redacted_thinking', data: event.redacted }, false);
      this.done.push(done);
      frames.push(
        this.event('response.output_item.added', { output_index: index, item: { ...done, encrypted_content: null } }),
        this.event('response.output_item.done', { output_index: index, item: done }),
      );
      return frames;
    }
    if (this.open?.kind !== 'reasoning' && event.thinking) {
      frames.push(...this.close('completed'));
      const item = { kind: 'reasoning' as const, index: this.done.length, id: this.ids.reasoning(), text: '' };
      this.open = item;
      frames.push(
        this.event('response.output_item.added', {
          output_index: item.index,
          item: { type: 'reasoning', id: item.id, summary: [], encrypted_content: null },
        }),
      );
      if (this.summaries) {
        frames.push(
          this.event('response.reasoning_summary_part.added', { ...this.summaryAt(item), part: summaryText('') }),
        );
      }
    }
    const item = this.open?.kind === 'reasoning' ? this.open : null;
    if (!item) return frames;
    if (event.thinking) {
      item.text += event.thinking;
      if (this.summaries) {
        frames.push(
          this.event('response.reasoning_summary_text.delta', { ...this.summaryAt(item), delta: event.thinking }),
        );
      }
    }
    if (event.signature !== undefined) frames.push(...this.close('completed', event.signature));
    return frames;
  }

  /** Ends the open item, if any (a reasoning item with the signature that ended its thinking). */
  close(status: ItemStatus, signature?: string): SseFrame[] {
    const item = this.open;
    if (!item) return [];
    this.open = null;
    if (item.kind === 'reasoning') {
      const part: ThinkingPart = { type: 'thinking', thinking: item.text, ...(signature ? { signature } : {}) };
      const done = reasoningItem(item.id, part, this.summaries);
      this.done.push(done);
      const summary = this.summaries
        ? [
            this.event('response.reasoning_summary_text.done', { ...this.summaryAt(item), text: item.text }),
            this.event('response.reasoning_summary_part.done', {
              ...this.summaryAt(item),
              part: summaryText(item.text),
            }),
          ]
        : [];
      return [...summary, this.event('response.output_item.done', { output_index: item.index, item: done })];
    }
    if (item.kind === 'call') {
      const done = functionCallItem(item.id, item.call, 'completed');
      this.done.push(done);
      return [
        this.event('response.function_call_arguments.done', {
          item_id: item.id,
          output_index: item.index,
          name: item.call.function.name,
          arguments: item.call.function.arguments,
        }),
        this.event('response.output_item.done', { output_index: item.index, item: done }),
      ];
    }
    const done = messageItem(item.id, item.text, status);
    this.done.push(done);
    return [
      this.event('response.output_text.done', { ...this.at(item), text: item.text, logprobs: [] }),
      this.event('response.content_part.done', { ...this.at(item), part: outputText(item.text) }),
      this.event('response.output_item.done', { output_index: item.index, item: done }),
    ];
  }

  private at(item: { id: string; index: number }): Json {
    return { item_id: item.id, output_index: item.index, content_index: 0 };
  }

  private summaryAt(item: { id: string; index: number }): Json {
    return { item_id: item.id, output_index: item.index, summary_index: 0 };
  }
}

async function* responseFrames(
  ids: ResponseIds,
  echo: Json,
  stream: OpenStream,
  summaries: boolean,
): AsyncGenerator<SseFrame, void, undefined> {
  const model = stream.candidate.model.name;
  const sequence = new OutputSequence(ids, summaries);
  const started = response(ids, echo, model, { output: [] });
  yield sequence.event('response.created', { response: started });
  yield sequence.event('response.in_progress', { response: started });
  try {
    let finish: FinishReason = 'stop';
    for await (const event of stream.events) {
      if (event.type === 'delta') yield* sequence.text(event.text);
      else if (event.type === 'thinking') yield* sequence.thinking(event);
      else if (event.type === 'tool_call') {
        yield* sequence.toolCall(event.index, event.id, event.name, event.arguments);
      } else if (event.type === 'finish') finish = event.finish_reason;
    }
    const { usage, cost } = await stream.settled;
    // An empty answer still has its (empty) message, as a completed one does.
    if (!sequence.started) yield* sequence.text('');
    yield* sequence.close(itemStatus(finish));
    const final = response(ids, echo, model, { output: sequence.done, finish, usage, credits: cost.credits });
    const type = final.status === 'incomplete' ? 'response.incomplete' : 'response.completed';
    yield sequence.event(type, { response: final });
  } catch (err) {
    // A cut after the first token (or its deadline): an error event and a failed response, never a completed one.
    const failure = streamFailure(err);
    yield sequence.event('error', { code: failure.code, message: failure.message, param: null });
    yield sequence.event('response.failed', {
      response: response(ids, echo, model, { output: sequence.done, finish: null, failure }),
    });
  }
}
