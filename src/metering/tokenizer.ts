import { getEncoding, type Tiktoken } from 'js-tiktoken';
import type { ChatMessage, ContentPart, ToolDefinition } from '../providers/dto/chat';

/** Tokens OpenAI adds per message and to prime the reply (the chat format's framing). */
const PER_MESSAGE = 3;
const REPLY_PRIMING = 3;
/** An image's cost in tokens when its size is unknown (OpenAI: 85 base + tiles; a 512² tile is 170). */
const IMAGE_TOKENS = 765;

type EncodingName = 'o200k_base' | 'cl100k_base';
const encodings = new Map<EncodingName, Tiktoken>();

function encoding(name: EncodingName): Tiktoken {
  let enc = encodings.get(name);
  if (!enc) {
    enc = getEncoding(name);
    encodings.set(name, enc);
  }
  return enc;
}

/** GPT-4o-era models use o200k_base; everything else is estimated with cl100k_base. */
export function encodingFor(model: string): EncodingName {
  return /^(gpt-4o|gpt-4\.1|o\d)/.test(model) ? 'o200k_base' : 'cl100k_base';
}

/**
 * js-tiktoken's BPE costs the square of a piece's length, and an unbroken run of letters, symbols
 * or spaces is one piece: 2,000 `x` take ~0.3 s, 100 KB of base64 ~30 s, one request could block
 * the process for minutes. Runs are therefore cut every RUN_CHARS characters and counted piece by
 * piece (linear; measured on 100 KB of base64, 0.2 % more tokens than counted whole, prose
 * unchanged), and past LONG_RUN_BUDGET characters of such runs in one text, the rest is estimated
 * at ESTIMATE_CHARS_PER_TOKEN characters a token (a generous count for base64 and CJK text, the
 * usual long runs) without BPE.
 */
const RUN_CHARS = 48;
const LONG_RUN = new RegExp(`\\S{${RUN_CHARS}}|\\s{${RUN_CHARS}}`, 'g');
const LONG_RUN_BUDGET = 64 * 1024;
const ESTIMATE_CHARS_PER_TOKEN = 1.5;

/**
 * Token counts of texts seen lately, per encoding: roles, system prompts and the history of a
 * conversation come back with every request. Texts up to MEMO_TEXT_CHARS are remembered, the
 * oldest forgotten past MEMO_BUDGET_CHARS characters in all (a few MB).
 */
const MEMO_TEXT_CHARS = 8 * 1024;
const MEMO_BUDGET_CHARS = 2 * 1024 * 1024;

class CountMemo {
  private readonly counts = new Map<string, number>();
  private chars = 0;

  get(text: string): number | undefined {
    return this.counts.get(text);
  }

  set(text: string, count: number): void {
    this.counts.set(text, count);
    this.chars += text.length;
    for (const oldest of this.counts.keys()) {
      if (this.chars <= MEMO_BUDGET_CHARS) break;
      this.counts.delete(oldest);
      this.chars -= oldest.length;
    }
  }
}

const memos = new Map<EncodingName, CountMemo>();

/** The text of a token list in the model's encoding (ids it does not know are left out). */
export function decodeTokens(tokens: readonly number[], model: string): string {
  return encoding(encodingFor(model)).decode(tokens as number[]);
}

/** Token count of a text with a real BPE tokenizer (long unbroken runs cut or estimated, see above). */
export function countTextTokens(text: string, model: string): number {
  if (text.length === 0) return 0;
  const name = encodingFor(model);
  if (text.length > MEMO_TEXT_CHARS) return countWith(encoding(name), text);
  let memo = memos.get(name);
  if (!memo) {
    memo = new CountMemo();
    memos.set(name, memo);
  }
  let count = memo.get(text);
  if (count === undefined) {
    count = countWith(encoding(name), text);
    memo.set(text, count);
  }
  return count;
}

function countWith(enc: Tiktoken, text: string): number {
  LONG_RUN.lastIndex = 0;
  if (!LONG_RUN.test(text)) return enc.encode(text).length;
  let total = 0;
  let start = 0;
  let longRunChars = 0;
  LONG_RUN.lastIndex = 0;
  for (let m = LONG_RUN.exec(text); m !== null; m = LONG_RUN.exec(text)) {
    longRunChars += RUN_CHARS;
    if (longRunChars > LONG_RUN_BUDGET) {
      return total + Math.ceil((text.length - start) / ESTIMATE_CHARS_PER_TOKEN);
    }
    const end = m.index + RUN_CHARS;
    total += enc.encode(text.slice(start, end)).length;
    start = end;
  }
  return start < text.length ? total + enc.encode(text.slice(start)).length : total;
}

/**
 * Estimated prompt tokens of a chat, framing included: messages, the tool calls and tool results they
 * carry, and the tool definitions (sent to the model as JSON). The provider's reported usage is what is billed.
 */
export function countChatTokens(
  messages: readonly ChatMessage[],
  model: string,
  tools: readonly ToolDefinition[] = [],
): number {
  let total = REPLY_PRIMING;
  for (const tool of tools) total += countTextTokens(JSON.stringify(tool.function), model);
  for (const message of messages) {
    total += PER_MESSAGE + countTextTokens(message.role, model);
    if (message.role === 'assistant') {
      for (const call of message.tool_calls ?? []) {
        total += countTextTokens(call.id + call.function.name + call.function.arguments, model);
      }
    }
    if (message.role === 'tool') total += countTextTokens(message.tool_call_id, model);
    if (message.content === null) continue;
    if (typeof message.content === 'string') {
      total += countTextTokens(message.content, model);
      continue;
    }
    for (const part of message.content) {
      total += part.type === 'image_url' ? IMAGE_TOKENS : countTextTokens(partText(part), model);
    }
  }
  return total;
}

/** Loads the encodings now (they take a moment), so the first request does not pay for it. */
export function warmTokenizer(): void {
  encoding('o200k_base');
  encoding('cl100k_base');
}

/** The text of a non-image part that counts as input. */
function partText(part: Exclude<ContentPart, { type: 'image_url' }>): string {
  if (part.type === 'text') return part.text;
  return part.type === 'thinking' ? part.thinking : part.data;
}
