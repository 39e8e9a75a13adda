import type { ChatStreamEvent, FinishReason, TokenUsage } from '../dto/chat';
import type { WireStreamEvent } from '../kinds/kind-mapper';

type ToolCallEvent = Extract<ChatStreamEvent, { type: 'tool_call' }>;

/**
 * Orders a kind's wire events into the canonical stream: deltas, tool-call fragments and
 * thinking as they come, then, at the kind's end marker, one `usage` (parts merged) and one
 * `finish`. Nothing after the end counts.
 */
export class StreamAssembler {
  private usage: Partial<TokenUsage> = {};
  private finishReason?: FinishReason;
  private ended = false;
  /** The kind's tool-call index → the canonical one, and the id of the call it stands for. */
  private readonly calls = new Map<number, { index: number; id?: string }>();
  private callsStarted = 0;

  /** True once the kind's proper end marker was seen. */
  get done(): boolean {
    return this.ended;
  }

  accept(events: readonly WireStreamEvent[]): ChatStreamEvent[] {
    const out: ChatStreamEvent[] = [];
    for (const event of events) {
      if (this.ended) break;
      switch (event.type) {
        case 'delta':
          if (event.text !== '') out.push({ type: 'delta', text: event.text });
          break;
        case 'tool_call': {
          const call = this.toolCall(event);
          if (call) out.push(call);
          break;
        }
        case 'thinking':
          out.push(event);
          break;
        case 'usage': {
          const { type: _type, ...parts } = event;
          this.usage = { ...this.usage, ...definedOnly(parts) };
          break;
        }
        case 'finish':
          this.finishReason = event.finish_reason;
          break;
        case 'end':
          this.ended = true;
          out.push(...this.closing());
          break;
      }
    }
    return out;
  }

  /**
   * Canonical indices count the calls from 0 in the order they start, whatever the kind numbers
   * them by (Anthropic's content block index, a position within one Ollama line): a fragment
   * carrying an id the index has not seen starts a new call.
   */
  private toolCall(event: Extract<WireStreamEvent, { type: 'tool_call' }>): ToolCallEvent | undefined {
    let known = this.calls.get(event.index);
    if (!known || (event.id !== undefined && known.id !== undefined && event.id !== known.id)) {
      known = { index: this.callsStarted++, id: event.id };
      this.calls.set(event.index, known);
    } else if (known.id === undefined && event.id !== undefined) {
      known.id = event.id;
    }
    if (event.id === undefined && event.name === undefined && event.arguments === '') return undefined;
    const call: ToolCallEvent = { type: 'tool_call', index: known.index, arguments: event.arguments };
    if (event.id !== undefined) call.id = event.id;
    if (event.name !== undefined) call.name = event.name;
    return call;
  }

  private closing(): ChatStreamEvent[] {
    const out: ChatStreamEvent[] = [];
    const { input_tokens, output_tokens, ...details } = this.usage;
    if (input_tokens !== undefined || output_tokens !== undefined) {
      out.push({
        type: 'usage',
        usage: { input_tokens: input_tokens ?? 0, output_tokens: output_tokens ?? 0, ...details },
      });
    }
    // Ollama says "stop" after a turn of tool calls; every kind's finish then means the same.
    const reason = this.finishReason ?? 'stop';
    out.push({ type: 'finish', finish_reason: reason === 'stop' && this.callsStarted > 0 ? 'tool_calls' : reason });
    return out;
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
