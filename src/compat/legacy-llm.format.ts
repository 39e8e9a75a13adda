import { AppError } from '../common/errors/app-error';
import type { ChatCommand, ChatExchange, EstimateQuery, Quote, QuotedCandidate, RequestContext } from '../llm/llm.api';
import type { ChatMessage, ContentPart } from '../providers/dto/chat';
import type { ProviderInstanceInfo } from '../providers/dto/provider-info';
import type { ServedModel } from '../providers/dto/served-model';
import { parseStrategy, type Strategy } from '../routing/routing.api';
import {
  DEFAULT_IMAGE_PROMPT,
  type EstimateModality,
  type ImageAnalyzeDto,
  type LegacyChatDto,
  type RouteRequestDto,
  type TextGenerateDto,
} from './dto/legacy-llm.dto';
import { imageDataUrl, type SniffedImage } from './image-content';

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
  checkPromptLength(body.prompt, promptMaxChars);
  return productionApiExchange(ctx, '/api/v1/text/generate', 'auto', body.prompt, {
    maxTokens: body.max_tokens,
    temperature: body.temperature,
  });
}

/**
 * POST /api/v1/image/analyze: the image (as a data URL of its sniffed type) and the prompt to a
 * vision-capable model; answered as /api/v1/text/generate is.
 */
export function imageAnalyze(
  body: ImageAnalyzeDto,
  image: SniffedImage,
  ctx: RequestContext,
  promptMaxChars: number,
): ChatExchange {
  const prompt = body.prompt === undefined || body.prompt === '' ? DEFAULT_IMAGE_PROMPT : body.prompt;
  checkPromptLength(prompt, promptMaxChars);
  const content: ContentPart[] = [
    { type: 'text', text: prompt },
    { type: 'image_url', image_url: { url: imageDataUrl(image) } },
  ];
  return productionApiExchange(ctx, '/api/v1/image/analyze', body.model ?? 'auto', content, {
    maxTokens: body.max_tokens,
    temperature: body.temperature,
  });
}

/** The Production API's answer to a prompt over its limit (its exact code and message). */
export function promptTooLong(promptMaxChars: number): AppError {
  return new AppError('validation_error', `Prompt too long. Maximum length: ${promptMaxChars} characters`);
}

function checkPromptLength(prompt: string, promptMaxChars: number): void {
  if (prompt.length > promptMaxChars) throw promptTooLong(promptMaxChars);
}

/** A Production API generation: one user message, answered `{success, data, metrics, request_id}`. */
function productionApiExchange(
  ctx: RequestContext,
  endpoint: string,
  model: string,
  content: string | ContentPart[],
  sampling: { maxTokens?: number; temperature?: number },
): ChatExchange {
  const started = performance.now();
  const cmd = command(ctx, endpoint, model, 'balanced', [{ role: 'user', content }]);
  return {
    command: { ...cmd, ...sampling, vision: typeof content !== 'string' },
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

/**
 * GET /models: the vLLM + Ollama service's `{status, models: [{name, size, parameters, template}],
 * total_count, timestamp}`, one entry per (model, instance), plus the instances with their status.
 */
export function legacyModelList(models: readonly ServedModel[], instances: readonly ProviderInstanceInfo[]): object {
  return {
    status: 'success',
    models: models.map((m) => ({
      name: m.name,
      size: m.size_bytes === null ? null : humanBytes(m.size_bytes),
      parameters: m.parameter_size,
      template: embeddingOnly(m.capabilities) ? 'embedding' : m.template,
      size_bytes: m.size_bytes,
      family: m.family,
      quantization_level: m.quantization_level,
      capabilities: m.capabilities,
      context_length: m.context_length,
      modified_at: m.modified_at,
      described_at: m.described_at,
      provider: m.instanceId,
      kind: m.kind,
      available: m.available,
    })),
    total_count: models.length,
    timestamp: new Date().toISOString(),
    providers: providerList(instances),
  };
}

/** Bytes as `ollama list` writes them (decimal units, one decimal below 10), without the space: "1.2GB". */
export function humanBytes(bytes: number): string {
  const units: [number, string][] = [
    [1e12, 'TB'],
    [1e9, 'GB'],
    [1e6, 'MB'],
    [1e3, 'KB'],
  ];
  const [scale, unit] = units.find(([size]) => bytes >= size) ?? [1, 'B'];
  const value = bytes / scale;
  if (value >= 10 || Number.isInteger(value)) return `${Math.floor(value)}${unit}`;
  return `${value.toFixed(1)}${unit}`;
}

/** A model that only embeds: the service said `template: "embedding"` of those (bge-m3). */
function embeddingOnly(capabilities: string[] | null): boolean {
  return capabilities !== null && capabilities.includes('embedding') && !capabilities.includes('completion');
}

/** The instances with their status and models. */
function providerList(instances: readonly ProviderInstanceInfo[]): object[] {
  return instances.map((i) => ({
    id: i.id,
    kind: i.kind,
    status: i.breaker === 'open' ? 'unavailable' : i.reachable === false ? 'unreachable' : 'available',
    breaker: i.breaker,
    reachable: i.reachable,
    latency_ms: i.probe_latency_ms,
    last_checked: i.last_probe_at,
    models: i.models,
  }));
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
