/**
 * The canonical, provider-neutral shapes that the llm module hands to the providers
 * module and gets back. They follow OpenAI's chat format, the lingua franca; each
 * provider kind maps them to and from its own wire format, and refuses by name what
 * it cannot express (UpstreamError 'http_4xx' through `invalidRequest`).
 */

/** Anthropic prompt caching: a breakpoint on a block (kept for Anthropic upstreams only). */
export interface CacheControl {
  type: 'ephemeral';
  ttl?: string;
}

export interface TextPart {
  type: 'text';
  text: string;
  cache_control?: CacheControl;
}

export interface ImagePart {
  type: 'image_url';
  /** A data URL (`data:image/png;base64,…`) or an https URL. */
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
  cache_control?: CacheControl;
}

/** Anthropic extended thinking: passed back to the upstream intact, signature included. */
export interface ThinkingPart {
  type: 'thinking';
  thinking: string;
  signature?: string;
}

export interface RedactedThinkingPart {
  type: 'redacted_thinking';
  data: string;
}

export type ContentPart = TextPart | ImagePart | ThinkingPart | RedactedThinkingPart;

/** A function call the model asked for; `arguments` is JSON text, as OpenAI sends it. */
export interface ToolCall {
  /** The id the client received, and must send back in the tool result, whatever the upstream kind. */
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface SystemMessage {
  role: 'system';
  content: string | ContentPart[];
}

export interface UserMessage {
  role: 'user';
  content: string | ContentPart[];
  name?: string;
}

export interface AssistantMessage {
  role: 'assistant';
  /** Null (or empty) when the turn is only tool calls. Thinking parts come first. */
  content: string | ContentPart[] | null;
  tool_calls?: ToolCall[];
  name?: string;
}

/** The result of one tool call, answering the assistant turn before it. */
export interface ToolMessage {
  role: 'tool';
  tool_call_id: string;
  content: string | ContentPart[];
  /** Anthropic's `is_error` on a tool_result. */
  is_error?: boolean;
}

export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

export interface ToolDefinition {
  type: 'function';
  function: {
    name: string;
    description?: string;
    /** A JSON schema of the arguments. */
    parameters?: Record<string, unknown>;
    strict?: boolean;
  };
  cache_control?: CacheControl;
}

/** `required` is Anthropic's `any`; a named function is Anthropic's `{type: "tool", name}`. */
export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean };
    };

/** Anthropic extended thinking. */
export type ThinkingConfig = { type: 'enabled'; budget_tokens: number } | { type: 'disabled' };

/**
 * Sampling and output parameters besides the core ones. Each kind forwards, translates or
 * refuses each of them by name; none is dropped silently.
 */
export interface ChatParameters {
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  logit_bias?: Record<string, number>;
  logprobs?: boolean;
  top_logprobs?: number;
  n?: number;
  user?: string;
  metadata?: Record<string, unknown>;
  store?: boolean;
  service_tier?: string;
  reasoning_effort?: string;
  modalities?: string[];
  prediction?: Record<string, unknown>;
  top_k?: number;
  thinking?: ThinkingConfig;
}

export interface ChatRequest extends ChatParameters {
  /** The model name as the upstream instance knows it. */
  model: string;
  messages: ChatMessage[];
  /** Absent: none is sent (kinds that require one, Anthropic, send the model's maximum output). */
  max_tokens?: number;
  /** Which field carries max_tokens for this model (o-series and newer models refuse `max_tokens`). */
  max_tokens_field?: 'max_tokens' | 'max_completion_tokens';
  /** The model's maximum output (catalog): what Anthropic is sent when the client set no limit. */
  max_output_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
  /**
   * Fields of the client's OpenAI-style body that are not modelled here (vLLM's `min_p`,
   * `guided_json`, `chat_template_kwargs`…): sent unchanged to OpenAI-kind upstreams, refused
   * by name by the other kinds.
   */
  extra?: Record<string, unknown>;
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'error';

export interface TokenUsage {
  /** Every input token, cached ones included. */
  input_tokens: number;
  output_tokens: number;
  /** Input tokens read from the provider's prompt cache (OpenAI cached_tokens, Anthropic cache_read_input_tokens). */
  cached_input_tokens?: number;
  /** Input tokens written to the prompt cache (Anthropic cache_creation_input_tokens). */
  cache_write_input_tokens?: number;
  /** Output tokens spent on reasoning (OpenAI reasoning_tokens), part of output_tokens. */
  reasoning_tokens?: number;
}

export interface ChatResult {
  /** The upstream's response id, when it gave one. */
  id?: string;
  /** The model the upstream says answered. */
  model: string;
  text: string;
  /** The function calls the model asked for, in order. */
  tool_calls?: ToolCall[];
  /** Thinking blocks (Anthropic), to be shown and passed back intact. */
  thinking?: (ThinkingPart | RedactedThinkingPart)[];
  finish_reason: FinishReason;
  /** What the upstream reported; absent when it reported nothing. */
  usage?: TokenUsage;
  /** OpenAI's `choices[0].logprobs`, passed through when asked for. */
  logprobs?: unknown;
}

/**
 * One event of a streamed chat. A stream ends with `finish` (and usually `usage` before it).
 * Tool calls arrive as fragments: the first of an index carries its id and name, the next ones
 * pieces of its JSON arguments.
 */
export type ChatStreamEvent =
  | { type: 'delta'; text: string }
  | { type: 'tool_call'; index: number; id?: string; name?: string; arguments: string }
  | { type: 'thinking'; thinking?: string; signature?: string; redacted?: string }
  | { type: 'usage'; usage: TokenUsage }
  | { type: 'finish'; finish_reason: FinishReason };

export interface EmbeddingRequest {
  model: string;
  /** The texts (decoded from `tokens` when the client sent token lists). */
  input: string[];
  /** The client's token lists, as it sent them: kinds that take tokens (OpenAI) get these instead of `input`. */
  tokens?: number[][];
  /** The length of the vectors, for models that can shorten them. */
  dimensions?: number;
}

export interface EmbeddingResult {
  model: string;
  vectors: number[][];
  usage?: { input_tokens: number };
}
