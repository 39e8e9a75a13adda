import type {
  ChatMessage,
  ChatParameters,
  ContentPart,
  FinishReason,
  TextPart,
  TokenUsage,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from '../../providers/dto/chat';
import { parseStrategy } from '../../routing/routing.api';
import { type ChatExchange, streamFailure } from '../chat-reply';
import { chatCommand, type ChatOutcome, type OpenStream } from '../chat.usecase';
import type { AnthropicMessageDto, AnthropicToolChoice, MessagesRequestDto } from '../dto/messages.dto';
import type { RequestContext } from '../request-context';
import type { SseFrame } from '../reply';
import { hasImages } from './openai.format';

type Block = Record<string, unknown>;

/** A text, image, thinking or redacted_thinking block → its canonical part (cache_control kept). */
function blockToPart(block: Block): ContentPart {
  const cache =
    block.cache_control === undefined ? {} : { cache_control: block.cache_control as TextPart['cache_control'] };
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.text as string, ...cache };
    case 'thinking':
      return {
        type: 'thinking',
        thinking: block.thinking as string,
        ...(block.signature === undefined ? {} : { signature: block.signature as string }),
      };
    case 'redacted_thinking':
      return { type: 'redacted_thinking', data: block.data as string };
    default: {
      const source = block.source as Record<string, string>;
      const url = source.type === 'base64' ? `data:${source.media_type};base64,${source.data}` : source.url;
      return { type: 'image_url', image_url: { url }, ...cache };
    }
  }
}

/** Blocks → a string when they are plain text (no cache breakpoint), else the parts. */
function content(value: string | Block[]): string | ContentPart[] {
  if (typeof value === 'string') return value;
  const parts = value.map(blockToPart);
  const plain = parts.every((p) => p.type === 'text' && p.cache_control === undefined);
  return plain ? parts.map((p) => (p as TextPart).text).join('') : parts;
}

/** A tool_use block → an OpenAI-style tool call, its id kept and its input as JSON text. */
function toolCall(block: Block): ToolCall {
  return {
    id: block.id as string,
    type: 'function',
    function: { name: block.name as string, arguments: JSON.stringify(block.input ?? {}) },
  };
}

/**
 * One Anthropic message → canonical messages: a user turn's tool_result blocks become tool
 * messages (before the rest of the turn), an assistant turn's tool_use blocks its tool calls.
 */
function canonicalTurn(m: AnthropicMessageDto): ChatMessage[] {
  if (typeof m.content === 'string') return [{ role: m.role, content: m.content }];
  const blocks = m.content;
  if (m.role === 'assistant') {
    const calls = blocks.filter((b) => b.type === 'tool_use').map(toolCall);
    const rest = blocks.filter((b) => b.type !== 'tool_use');
    // Thinking blocks first, as the upstream must get them back.
    const ordered = [
      ...rest.filter((b) => b.type === 'thinking' || b.type === 'redacted_thinking'),
      ...rest.filter((b) => b.type !== 'thinking' && b.type !== 'redacted_thinking'),
    ];
    if (calls.length === 0) return [{ role: 'assistant', content: content(ordered) }];
    return [{ role: 'assistant', content: ordered.length > 0 ? content(ordered) : null, tool_calls: calls }];
  }
  const results: ChatMessage[] = blocks
    .filter((b) => b.type === 'tool_result')
    .map((b) => ({
      role: 'tool',
      tool_call_id: b.tool_use_id as string,
      content: b.content === undefined ? '' : content(b.content as string | Block[]),
      ...(b.is_error === undefined ? {} : { is_error: b.is_error as boolean }),
    }));
  const rest = blocks.filter((b) => b.type !== 'tool_result');
  return rest.length > 0 ? [...results, { role: 'user', content: content(rest) }] : results;
}

/** Anthropic Messages request → canonical messages (the system prompt becomes the first message). */
export function canonicalFromAnthropic(req: Pick<MessagesRequestDto, 'system' | 'messages'>): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (req.system !== undefined) messages.push({ role: 'system', content: content(req.system) });
  for (const m of req.messages) messages.push(...canonicalTurn(m));
  return messages;
}

/** Anthropic's tool_choice → canonical (`any` is `required`, a named tool a named function). */
export function canonicalToolChoice(choice: AnthropicToolChoice | undefined): ToolChoice | undefined {
  if (choice === undefined) return undefined;
  switch (choice.type) {
    case 'any':
      return 'required';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
    case 'auto':
    case 'none':
      return choice.type;
  }
}

/** Anthropic tools → canonical function tools (their cache breakpoints kept). */
export function canonicalTools(tools: MessagesRequestDto['tools']): ToolDefinition[] | undefined {
  return tools?.map((t) => ({
    type: 'function',
    function: {
      name: t.name,
      ...(t.description === undefined ? {} : { description: t.description }),
      parameters: t.input_schema,
    },
    ...(t.cache_control === undefined ? {} : { cache_control: t.cache_control }),
  }));
}

/** Anthropic's other parameters → canonical: `metadata.user_id` is the end user, as OpenAI's `user`. */
function parameters(body: MessagesRequestDto): ChatParameters {
  const { user_id: userId, ...metadata } = body.metadata ?? {};
  return {
    top_k: body.top_k,
    thinking: body.thinking,
    service_tier: body.service_tier,
    user: typeof userId === 'string' ? userId : undefined,
    metadata: Object.keys(metadata).length > 0 ? metadata : undefined,
  };
}

/**
 * A Messages request, routed to any provider kind: answered with an Anthropic message, or
 * its SSE event stream (ending with an error event when cut).
 */
export function anthropicChat(body: MessagesRequestDto, ctx: RequestContext): ChatExchange {
  const messages = canonicalFromAnthropic(body);
  const id = `msg_${ctx.requestId.replace(/[^A-Za-z0-9]/g, '')}`;
  const disableParallel = body.tool_choice?.disable_parallel_tool_use;
  return {
    command: chatCommand(ctx, {
      endpoint: '/v1/messages',
      model: body.model,
      strategy: parseStrategy(ctx.strategyHeader),
      messages,
      maxTokens: body.max_tokens,
      temperature: body.temperature,
      topP: body.top_p,
      stop: body.stop_sequences,
      tools: canonicalTools(body.tools),
      toolChoice: canonicalToolChoice(body.tool_choice),
      parallelToolCalls: disableParallel === undefined ? undefined : !disableParallel,
      parameters: parameters(body),
      vision: hasImages(messages),
    }),
    body: (outcome) => message(id, outcome.candidate.model.name, outcome),
    frames: body.stream ? (stream) => messageFrames(id, stream) : undefined,
  };
}

function stopReason(reason: FinishReason): string {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'stop':
    case 'content_filter':
    case 'error':
      return 'end_turn';
  }
}

/** Anthropic's usage: input_tokens excludes what was read from or written to the prompt cache. */
export function anthropicUsage(usage: TokenUsage): object {
  const cached = usage.cached_input_tokens ?? 0;
  const written = usage.cache_write_input_tokens ?? 0;
  return {
    input_tokens: Math.max(0, usage.input_tokens - cached - written),
    output_tokens: usage.output_tokens,
    cache_read_input_tokens: cached,
    cache_creation_input_tokens: written,
  };
}

/** A tool call's JSON arguments as a tool_use input (an object, as Anthropic clients expect). */
function toolInput(args: string): unknown {
  try {
    const input: unknown = JSON.parse(args === '' ? '{}' : args);
    return typeof input === 'object' && input !== null ? input : { value: input };
  } catch {
    return { arguments: args };
  }
}

/** An Anthropic message: content [thinking…, text, tool_use…]. */
export function message(
  id: string,
  model: string,
  outcome: Pick<ChatOutcome, 'text' | 'toolCalls' | 'thinking' | 'finish' | 'usage'>,
): object {
  const calls = outcome.toolCalls ?? [];
  const blocks: object[] = [...(outcome.thinking ?? [])];
  if (outcome.text !== '' || calls.length === 0) blocks.push({ type: 'text', text: outcome.text });
  for (const call of calls) {
    blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: toolInput(call.function.arguments) });
  }
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: blocks,
    stop_reason: stopReason(outcome.finish),
    stop_sequence: null,
    usage: anthropicUsage(outcome.usage),
  };
}

type BlockKind = 'text' | 'thinking' | 'redacted_thinking' | 'tool_use';

/**
 * The content blocks of a streamed message: each event goes to the open block of its kind, or
 * closes the open one and starts the next (tool calls: one block per call).
 */
class BlockSequence {
  private next = 0;
  private open: { kind: BlockKind; index: number; toolIndex?: number } | null = null;
  private readonly toolBlocks = new Map<number, number>();

  get started(): boolean {
    return this.next > 0;
  }

  /** The frames that make `kind` (of tool call `toolIndex`) the open block, and its index. */
  enter(kind: BlockKind, start: object, toolIndex?: number): { frames: SseFrame[]; index: number } {
    if (this.open && this.open.kind === kind && this.open.toolIndex === toolIndex) {
      return { frames: [], index: this.open.index };
    }
    const frames = this.close();
    const index = this.next++;
    this.open = { kind, index, toolIndex };
    if (toolIndex !== undefined) this.toolBlocks.set(toolIndex, index);
    frames.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: start } });
    return { frames, index };
  }

  /** The block of tool call `toolIndex`, if it was started. */
  toolBlock(toolIndex: number): number | undefined {
    return this.toolBlocks.get(toolIndex);
  }

  close(): SseFrame[] {
    if (!this.open) return [];
    const index = this.open.index;
    this.open = null;
    return [{ event: 'content_block_stop', data: { type: 'content_block_stop', index } }];
  }
}

function blockDelta(index: number, delta: object): SseFrame {
  return { event: 'content_block_delta', data: { type: 'content_block_delta', index, delta } };
}

async function* messageFrames(id: string, stream: OpenStream): AsyncGenerator<SseFrame, void, undefined> {
  yield {
    event: 'message_start',
    data: {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model: stream.candidate.model.name,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: stream.inputTokens, output_tokens: 0 },
      },
    },
  };
  const blocks = new BlockSequence();
  try {
    let finish: FinishReason = 'stop';
    for await (const event of stream.events) {
      if (event.type === 'delta') {
        const { frames, index } = blocks.enter('text', { type: 'text', text: '' });
        yield* frames;
        yield blockDelta(index, { type: 'text_delta', text: event.text });
      } else if (event.type === 'thinking' && event.redacted !== undefined) {
        yield* blocks.enter('redacted_thinking', { type: 'redacted_thinking', data: event.redacted }).frames;
      } else if (event.type === 'thinking') {
        const { frames, index } = blocks.enter('thinking', { type: 'thinking', thinking: '', signature: '' });
        yield* frames;
        if (event.thinking) yield blockDelta(index, { type: 'thinking_delta', thinking: event.thinking });
        if (event.signature) yield blockDelta(index, { type: 'signature_delta', signature: event.signature });
      } else if (event.type === 'tool_call') {
        let index = blocks.toolBlock(event.index);
        if (index === undefined || event.id !== undefined) {
          const start = { type: 'tool_use', id: event.id ?? '', name: event.name ?? '', input: {} };
          const entered = blocks.enter('tool_use', start, event.index);
          yield* entered.frames;
          index = entered.index;
        }
        if (event.arguments) yield blockDelta(index, { type: 'input_json_delta', partial_json: event.arguments });
      } else if (event.type === 'finish') finish = event.finish_reason;
    }
    const { usage, cost } = await stream.settled;
    // An empty answer still has its (empty) text block, as Anthropic sends it.
    if (!blocks.started) yield* blocks.enter('text', { type: 'text', text: '' }).frames;
    yield* blocks.close();
    yield {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: stopReason(finish), stop_sequence: null },
        // With the credits billed (`usage.credits`, a Conflux field).
        usage: { ...anthropicUsage(usage), credits: cost.credits },
      },
    };
    yield { event: 'message_stop', data: { type: 'message_stop' } };
  } catch (err) {
    const failure = streamFailure(err);
    yield {
      event: 'error',
      data: {
        type: 'error',
        error: { type: failure.deadline ? 'timeout_error' : 'api_error', message: failure.message },
      },
    };
  }
}
