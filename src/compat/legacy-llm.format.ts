import { AppError } from '../common/errors/app-error';
import type { ChatCommand, ChatExchange, EstimateQuery, Quote, QuotedCandidate, RequestContext } from '../llm/llm.api';
import type { ChatMessage } from '../providers/dto/chat';
import type { ProviderInstanceInfo } from '../providers/dto/provider-info';
import { parseStrategy, type Strategy } from '../routing/routing.api';
import type { EstimateModality, LegacyChatDto, RouteRequestDto, TextGenerateDto } from './dto/legacy-llm.dto';

/**
 * The contracts of the systems Conflux replaces, kept field for field so that their existing
 * clients keep working. All answer JSON.
 */

/** POST /api/v1/request: a routed completion with its tokens, credits and attempts. */
export function routedRequest(body: RouteRequestDto, ctx: RequestContext): ChatExchange {
  return {
    command: command(ctx, '/api/v1/request', 'auto', parseStrategy(body.strategy), [
      { role: 'user', content: body.prompt },
    ]),
    body: (outcome) => ({
      request_id: ctx.requestId,
      text: outcome.text,
      model: outcome.candidate.model.name,
      provider: outcome.candidate.instanceId,
      tokens: {
        input: outcome.usage.input_tokens,
        output: outcome.usage.output_tokens,
        total: outcome.usage.input_tokens + outcome.usage.output_tokens,
      },
      credits: outcome.cost.credits,
      usd: outcome.cost.usd,
      attempts: outcome.attempts,
    }),
  };
}

/** POST /api/v1/text/generate: `{success, data, metrics, request_id}`; the prompt is limited to `promptMaxChars`. */
export function textGenerate(body: TextGenerateDto, ctx: RequestContext, promptMaxChars: number): ChatExchange {
  if (body.prompt.length > promptMaxChars) {
    throw new AppError('validation_failed', `prompt must be at most ${promptMaxChars} characters`, {
      details: [{ field: 'prompt', messages: [`must be at most ${promptMaxChars} characters`] }],
    });
  }
  const started = performance.now();
  const cmd = command(ctx, '/api/v1/text/generate', 'auto', 'balanced', [{ role: 'user', content: body.prompt }]);
  return {
    command: { ...cmd, maxTokens: body.max_tokens, temperature: body.temperature },
    body: (outcome) => {
      const total = (performance.now() - started) / 1000;
      const generation = outcome.latencyMs / 1000;
      return {
        success: true,
        data: {
          text: outcome.text,
          generated_tokens: outcome.usage.output_tokens,
          input_tokens: outcome.usage.input_tokens,
        },
        metrics: {
          generation_time: round(generation),
          total_time: round(total),
          tokens_per_second: generation > 0 ? round(outcome.usage.output_tokens / generation) : 0,
        },
        request_id: ctx.requestId,
      };
    },
  };
}

/** POST /chat: a reply to a message with its history. */
export function legacyChat(body: LegacyChatDto, ctx: RequestContext): ChatExchange {
  const messages: ChatMessage[] = [...(body.history ?? []), { role: 'user', content: body.message }];
  return {
    command: { ...command(ctx, '/chat', body.model ?? 'auto', 'balanced', messages), maxTokens: body.max_tokens },
    body: (outcome) => ({
      status: 'success',
      response: outcome.text,
      model: outcome.candidate.model.name,
      prompt_tokens: outcome.usage.input_tokens,
      response_tokens: outcome.usage.output_tokens,
      total_tokens: outcome.usage.input_tokens + outcome.usage.output_tokens,
      timestamp: new Date().toISOString(),
    }),
  };
}

/**
 * The catalog modality an estimate prices: OneFlow.AI's `text` is chat. The catalog models chat,
 * embeddings and vision only, so `image` and `audio` (image generation, speech) are refused with a 400
 * naming the modality.
 */
export function catalogModality(modality: EstimateModality = 'chat'): EstimateQuery['modality'] {
  const served = CATALOG_MODALITY[modality];
  if (served === undefined) {
    const message = `No model in the catalog serves modality "${modality}"`;
    throw new AppError('validation_failed', message, { details: [{ field: 'modality', messages: [message] }] });
  }
  return served;
}

const CATALOG_MODALITY: Record<EstimateModality, EstimateQuery['modality'] | undefined> = {
  text: 'chat',
  chat: 'chat',
  embeddings: 'embeddings',
  vision: 'vision',
  image: undefined,
  audio: undefined,
};

/** POST /api/v1/estimate: primary model, fallback chain, estimated credits and USD, with the strategy applied. */
export function estimateBody(strategy: Strategy, quote: Quote): object {
  return {
    strategy,
    primary_model: quote.primary.candidate.model.name,
    primary: quoted(quote.primary),
    fallback_chain: quote.fallbacks.map(quoted),
    input_tokens: quote.inputTokens,
    output_tokens: quote.outputTokens,
    estimated_credits: quote.primary.cost.credits,
    estimated_usd: quote.primary.cost.usd,
  };
}

/** GET /models: models per upstream instance, with its status. */
export function providerList(instances: readonly ProviderInstanceInfo[]): object {
  return {
    providers: instances.map((i) => ({
      id: i.id,
      kind: i.kind,
      status: i.breaker === 'open' ? 'unavailable' : i.reachable === false ? 'unreachable' : 'available',
      breaker: i.breaker,
      reachable: i.reachable,
      latency_ms: i.probe_latency_ms,
      last_checked: i.last_probe_at,
      models: i.models,
    })),
  };
}

function command(
  ctx: RequestContext,
  endpoint: string,
  model: string,
  strategy: Strategy,
  messages: ChatMessage[],
): ChatCommand {
  return { ...ctx, endpoint, model, strategy, messages, vision: false };
}

function quoted({ candidate, cost }: QuotedCandidate): object {
  return {
    model: candidate.model.name,
    provider: candidate.instanceId,
    estimated_credits: cost.credits,
    estimated_usd: cost.usd,
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
