/**
 * The chat playground's wire: the routing strategies `auto` takes, and the reading of an OpenAI
 * chat completion stream (server-sent events of chat.completion.chunk, a usage chunk, `[DONE]`, or
 * an error event when the stream is cut).
 */

/** The strategies of `model: "auto"` (the server's STRATEGIES, in the order the picker shows them). */
export const STRATEGIES = ['balanced', 'cost_optimized', 'latency_optimized', 'quality_optimized'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const STRATEGY_LABELS: Record<Strategy, string> = {
  balanced: 'Balanced (quality, cost and latency)',
  cost_optimized: 'Cheapest first',
  latency_optimized: 'Fastest first',
  quality_optimized: 'Best quality first',
};

/** The usage chunk's `usage` (with `credits` when the gateway prices the call). */
export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  credits?: number;
}

export type ChatStreamEvent =
  | { type: 'delta'; text: string }
  | { type: 'usage'; usage: ChatUsage }
  | { type: 'done' }
  | { type: 'error'; message: string; code?: string };

/**
 * Cuts server-sent events out of text as it arrives: `push` returns the data of each event that is
 * complete (its `data:` lines joined), and keeps the rest for the next piece.
 */
export class SseReader {
  private buffer = '';
  private data: string[] = [];

  push(text: string): string[] {
    this.buffer += text;
    // A CR at the end may be the first half of a CRLF: it waits for what follows.
    const held = this.buffer.endsWith('\r') ? '\r' : '';
    const lines = this.buffer.slice(0, this.buffer.length - held.length).split(/\r\n|\r|\n/);
    this.buffer = (lines.pop() ?? '') + held;
    const events: string[] = [];
    for (const line of lines) {
      if (line === '') {
        if (this.data.length > 0) events.push(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
      // `event:`, `id:`, `retry:` and comments carry nothing the playground uses.
    }
    return events;
  }

  /** The last event when the body ended without its blank line. */
  end(): string[] {
    const events = this.push('\n\n');
    this.buffer = '';
    return events;
  }
}

interface ChunkBody {
  choices?: { delta?: { content?: unknown } }[];
  usage?: Partial<ChatUsage> | null;
  error?: { message?: unknown; code?: unknown };
}

/** What one event's data says: text, usage, the end, or an error; null for chunks without any. */
export function chatEvent(data: string): ChatStreamEvent | null {
  if (data.trim() === '[DONE]') return { type: 'done' };
  let chunk: ChunkBody;
  try {
    chunk = JSON.parse(data) as ChunkBody;
  } catch {
    return { type: 'error', message: 'The stream sent something that is not JSON' };
  }
  if (chunk.error) {
    const message = typeof chunk.error.message === 'string' ? chunk.error.message : 'The stream failed';
    return { type: 'error', message, code: typeof chunk.error.code === 'string' ? chunk.error.code : undefined };
  }
  if (chunk.usage && typeof chunk.usage.prompt_tokens === 'number') {
    return { type: 'usage', usage: chunk.usage as ChatUsage };
  }
  const text = chunk.choices?.[0]?.delta?.content;
  return typeof text === 'string' && text !== '' ? { type: 'delta', text } : null;
}

/** Reads a stream body to its end, handing each event over as it comes. */
export async function readChatStream(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: ChatStreamEvent) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const sse = new SseReader();
  const hand = (events: string[]): void => {
    for (const data of events) {
      const event = chatEvent(data);
      if (event) onEvent(event);
    }
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hand(sse.push(decoder.decode(value, { stream: true })));
    }
    hand(sse.push(decoder.decode()));
    hand(sse.end());
  } finally {
    reader.releaseLock();
  }
}
