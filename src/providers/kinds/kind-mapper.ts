import type { UpstreamRequest } from '../../common/upstream/upstream-client';
import type { ChatRequest, ChatResult, EmbeddingRequest, EmbeddingResult, FinishReason, TokenUsage } from '../dto/chat';

/** One HTTP exchange with an upstream, relative to its API root (no I/O here). */
export type WireRequest = UpstreamRequest;

/**
 * What one stream chunk means, before the shared assembler turns it into ChatStreamEvents.
 * Usage may arrive in parts (Anthropic: input at the start, output at the end) and the finish
 * reason before the usage (OpenAI); `end` is the kind's proper end marker.
 */
export type WireStreamEvent =
  | { type: 'delta'; text: string }
  | { type: 'tool_call'; index: number; id?: string; name?: string; arguments: string }
  | { type: 'thinking'; thinking?: string; signature?: string; redacted?: string }
  | ({ type: 'usage' } & Partial<TokenUsage>)
  | { type: 'finish'; finish_reason: FinishReason }
  | { type: 'end' };

/** One model of an instance's listing, with what the listing says of it (null: not said). */
export interface ListedModel {
  name: string;
  /** Changes when the model's files change (details fetched for a digest stay valid). */
  digest: string | null;
  size_bytes: number | null;
  /** Ollama's `details.parameter_size`, e.g. "8.0B", "566.70M". */
  parameter_size: string | null;
  family: string | null;
  quantization_level: string | null;
  modified_at: string | null;
}

/** What an instance says of one model when asked about it (null: not said). */
export interface ShownModel {
  template: string | null;
  /** e.g. ["completion", "tools"], ["embedding"]; null from upstreams that do not say. */
  capabilities: string[] | null;
  parameter_size: string | null;
  family: string | null;
  quantization_level: string | null;
  context_length: number | null;
}

/** The calls of a kind that describes its models (size, parameters, template): Ollama's /api/tags and /api/show. */
export interface ModelDetailsWire {
  readonly listRequest: () => WireRequest;
  readonly listing: (body: unknown) => ListedModel[];
  readonly showRequest: (name: string) => WireRequest;
  readonly show: (body: unknown) => ShownModel;
}

/** How a stream is framed on the wire: server-sent events or newline-delimited JSON. */
export type StreamFraming = 'sse' | 'ndjson';

/**
 * The pure translation between the canonical shapes and one provider kind's wire format.
 * Parsers throw UpstreamError('malformed') on payloads they cannot use, and the upstream's
 * own error class for error events inside a stream.
 */
export interface KindMapper {
  readonly framing: StreamFraming;
  /** The API root under the declared base URL path (e.g. Anthropic's base URL may or may not end in /v1). */
  readonly apiRoot: (basePath: string) => string;
  /** Authentication and version headers. */
  readonly headers: (apiKey: string | undefined) => Record<string, string>;
  readonly chatRequest: (req: ChatRequest, stream: boolean) => WireRequest;
  readonly chatResult: (body: unknown, requestedModel: string) => ChatResult;
  readonly streamChunk: (data: string) => WireStreamEvent[];
  /**
   * A parser for one whole stream, for kinds whose events refer to earlier ones (Anthropic's
   * content block indexes); without it each payload goes through `streamChunk`.
   */
  readonly streamParser?: () => (data: string) => WireStreamEvent[];
  /** Absent when the kind serves no embeddings. */
  readonly embedRequest?: (req: EmbeddingRequest) => WireRequest;
  readonly embedResult?: (body: unknown, requestedModel: string) => EmbeddingResult;
  /** The cheap listing call used by the background status probe. */
  readonly modelsRequest: () => WireRequest;
  readonly modelList: (body: unknown) => string[] | null;
  /** Absent when the kind says nothing of its models beyond their names. */
  readonly modelDetails?: ModelDetailsWire;
  /** Whether a probe answered with this status shows the upstream is up. */
  readonly probeReachable: (status: number) => boolean;
  /** The human message inside an error body, if it has one. */
  readonly errorMessage: (body: unknown) => string | undefined;
}
