/**
 * The canonical, provider-neutral shapes that the llm module hands to the providers
 * module and gets back. They follow OpenAI's chat format, the lingua franca; each
 * provider kind maps them to and from its own wire format.
 */

export interface TextPart {
  type: 'text';
  text: string;
}

export interface ImagePart {
  type: 'image_url';
  /** A data URL (`data:image/png;base64,…`) or an https URL. */
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}

export type ContentPart = TextPart | ImagePart;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ContentPart[];
}

export interface ChatRequest {
  /** The model name as the upstream instance knows it. */
  model: string;
  messages: ChatMessage[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'error';

export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
}

export interface ChatResult {
  /** The upstream's response id, when it gave one. */
  id?: string;
  /** The model the upstream says answered. */
  model: string;
  text: string;
  finish_reason: FinishReason;
  /** What the upstream reported; absent when it reported nothing. */
  usage?: TokenUsage;
}

/** One event of a streamed chat. A stream ends with `finish` (and usually `usage` before it). */
export type ChatStreamEvent =
  | { type: 'delta'; text: string }
  | { type: 'usage'; usage: TokenUsage }
  | { type: 'finish'; finish_reason: FinishReason };

export interface EmbeddingRequest {
  model: string;
  input: string[];
}

export interface EmbeddingResult {
  model: string;
  vectors: number[][];
  usage?: { input_tokens: number };
}
