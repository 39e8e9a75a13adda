import type { ChatStreamEvent, FinishReason } from '../dto/chat';
import type { WireStreamEvent } from '../kinds/kind-mapper';

/**
 * Orders a kind's wire events into the canonical stream: deltas as they come, then, at the
 * kind's end marker, one `usage` (parts merged) and one `finish`. Nothing after the end counts.
 */
export class StreamAssembler {
  private input?: number;
  private output?: number;
  private finishReason?: FinishReason;
  private ended = false;

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
        case 'usage':
          this.input = event.input_tokens ?? this.input;
          this.output = event.output_tokens ?? this.output;
          break;
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

  private closing(): ChatStreamEvent[] {
    const out: ChatStreamEvent[] = [];
    if (this.input !== undefined || this.output !== undefined) {
      out.push({ type: 'usage', usage: { input_tokens: this.input ?? 0, output_tokens: this.output ?? 0 } });
    }
    out.push({ type: 'finish', finish_reason: this.finishReason ?? 'stop' });
    return out;
  }
}
