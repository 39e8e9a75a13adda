import type { Attributes } from '@opentelemetry/api';
import type { CallOptions } from '../common/upstream/call-control';
import { tracingOn } from '../common/tracing/tracing';
import type { ChatResult, EmbeddingResult, FinishReason, TokenUsage } from './dto/chat';

/**
 * Attributes of an upstream attempt's span after the OpenTelemetry GenAI semantic conventions
 * (`gen_ai.*`): operation, provider, models, token counts, finish reasons. Never a prompt, a completion
 * or a key.
 */

export type GenAiOperation = 'chat' | 'embeddings';

/**
 * The call options with the attempt's span (`{operation} {model}`, kind CLIENT) when tracing is on; the
 * caller's own span attributes (attempt number, project) are kept. Off: the options as they were.
 */
export function withAttemptSpan(
  opts: CallOptions,
  operation: GenAiOperation,
  model: string,
  /** Our provider kind, named as the conventions name providers (openai, anthropic; ollama as is). */
  provider: string,
  instanceId: string,
): CallOptions {
  if (!tracingOn()) return opts;
  return {
    ...opts,
    span: {
      name: `${operation} ${model}`,
      attributes: {
        ...opts.span?.attributes,
        'gen_ai.operation.name': operation,
        'gen_ai.provider.name': provider,
        'gen_ai.request.model': model,
        'conflux.instance': instanceId,
      },
    },
  };
}

export function usageAttributes(usage: Partial<TokenUsage> | undefined): Attributes {
  if (usage === undefined) return {};
  const attributes: Attributes = {};
  if (usage.input_tokens !== undefined) attributes['gen_ai.usage.input_tokens'] = usage.input_tokens;
  if (usage.output_tokens !== undefined) attributes['gen_ai.usage.output_tokens'] = usage.output_tokens;
  return attributes;
}

export function finishAttributes(finish: FinishReason | null | undefined): Attributes {
  return finish ? { 'gen_ai.response.finish_reasons': [finish] } : {};
}

/** What an answer says of itself: the model that answered, its id, its token counts and finish reason. */
export function resultAttributes(result: ChatResult | EmbeddingResult): Attributes {
  const attributes: Attributes = { 'gen_ai.response.model': result.model, ...usageAttributes(result.usage) };
  if ('finish_reason' in result) Object.assign(attributes, finishAttributes(result.finish_reason));
  if ('id' in result && result.id) attributes['gen_ai.response.id'] = result.id;
  return attributes;
}
