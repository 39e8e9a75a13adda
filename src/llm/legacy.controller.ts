import { Body, Controller, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AppError } from '../common/errors/app-error';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { requestIdOf } from '../common/http/request-id';
import { AppConfig } from '../config/app-config';
import type { ChatMessage } from '../providers/dto/chat';
import { ProvidersService } from '../providers/providers.service';
import { ModelEntry, RoutingService, Strategy } from '../routing/routing.service';
import { CallerService } from './caller.service';
import { ChatOutcome, ChatUseCase, DEFAULT_MAX_TOKENS } from './chat.usecase';
import { EstimateRequestDto, LegacyChatDto, RouteRequestDto, TextGenerateDto } from './dto/legacy.dto';
import { GatewayStats } from './gateway-stats';
import { IdempotencyGuard } from './idempotency.guard';
import { idempotencyKeyOf, parseStrategy, routeHeaders } from './gateway-http';
import { clientGone } from '../common/http/client-gone';

/**
 * The contracts of the systems Conflux replaces, kept field for field so that their
 * existing clients keep working.
 */
@ApiTags('legacy')
@ApiAuthenticated()
@UseGuards(IdempotencyGuard)
@Controller()
export class LegacyController {
  constructor(
    private readonly chat: ChatUseCase,
    private readonly callers: CallerService,
    private readonly routing: RoutingService,
    private readonly providers: ProvidersService,
    private readonly stats: GatewayStats,
    private readonly config: AppConfig,
  ) {}

  @Post('api/v1/estimate')
  @HttpCode(200)
  @ApiOkResponse({ description: 'Primary model, fallback chain, estimated credits and USD' })
  estimate(@Body() body: EstimateRequestDto): object {
    const model = body.model ?? 'auto';
    const inputTokens =
      body.input_tokens ?? this.routing.countTextTokens(body.prompt ?? '', model === 'auto' ? 'gpt-4o' : model);
    const outputTokens = body.output_tokens ?? (body.modality === 'embeddings' ? 0 : DEFAULT_MAX_TOKENS);
    const plan = this.routing.plan({
      model,
      strategy: parseStrategy(body.strategy),
      modality: body.modality === 'embeddings' ? 'embeddings' : 'chat',
      inputTokens,
      outputTokens,
      vision: body.modality === 'vision',
    });
    const describe = (entry: { model: ModelEntry; instanceId: string }): object => {
      const cost = this.routing.cost(entry.model, inputTokens, outputTokens);
      return {
        model: entry.model.name,
        provider: entry.instanceId,
        estimated_credits: cost.credits,
        estimated_usd: cost.usd,
      };
    };
    const [primary, ...fallbacks] = plan.candidates;
    const cost = this.routing.cost(primary.model, inputTokens, outputTokens);
    return {
      strategy: body.strategy,
      primary_model: primary.model.name,
      primary: describe(primary),
      fallback_chain: fallbacks.map(describe),
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      estimated_credits: cost.credits,
      estimated_usd: cost.usd,
    };
  }

  @Post('api/v1/request')
  @HttpCode(200)
  @ApiOkResponse({ description: 'Routed completion: text, model, tokens, credits' })
  async request(@Body() body: RouteRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    const outcome = await this.run(
      req,
      res,
      '/api/v1/request',
      'auto',
      parseStrategy(body.strategy),
      [{ role: 'user', content: body.prompt }],
      body.max_tokens,
    );
    res.status(200).json({
      request_id: requestIdOf(req),
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
    });
  }

  @Post('api/v1/text/generate')
  @HttpCode(200)
  @ApiOkResponse({ description: '{success, data:{text, generated_tokens, input_tokens}, metrics, request_id}' })
  async generate(@Body() body: TextGenerateDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (body.prompt.length > this.config.LEGACY_PROMPT_MAX_CHARS) {
      throw new AppError(
        'validation_failed',
        `prompt must be at most ${this.config.LEGACY_PROMPT_MAX_CHARS} characters`,
        {
          details: [
            { field: 'prompt', messages: [`must be at most ${this.config.LEGACY_PROMPT_MAX_CHARS} characters`] },
          ],
        },
      );
    }
    const started = performance.now();
    const outcome = await this.run(
      req,
      res,
      '/api/v1/text/generate',
      'auto',
      'balanced',
      [{ role: 'user', content: body.prompt }],
      body.max_tokens,
      body.temperature,
    );
    const total = (performance.now() - started) / 1000;
    const generation = outcome.latencyMs / 1000;
    res.status(200).json({
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
      request_id: requestIdOf(req),
    });
  }

  @Post('chat')
  @HttpCode(200)
  @ApiOkResponse({ description: '{status, response, model, prompt_tokens, response_tokens, total_tokens, timestamp}' })
  async legacyChat(@Body() body: LegacyChatDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    const messages: ChatMessage[] = [...(body.history ?? []), { role: 'user', content: body.message }];
    const outcome = await this.run(req, res, '/chat', body.model ?? 'auto', 'balanced', messages, body.max_tokens);
    res.status(200).json({
      status: 'success',
      response: outcome.text,
      model: outcome.candidate.model.name,
      prompt_tokens: outcome.usage.input_tokens,
      response_tokens: outcome.usage.output_tokens,
      total_tokens: outcome.usage.input_tokens + outcome.usage.output_tokens,
      timestamp: new Date().toISOString(),
    });
  }

  @Get('models')
  @ApiOkResponse({ description: 'Models per upstream instance, with its status' })
  models(): object {
    return {
      providers: this.providers.instances().map((i) => ({
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

  @Get('stats')
  @ApiOkResponse({ description: 'Request counts, success rate, average latency and tokens, per provider' })
  statistics(): object {
    return this.stats.snapshot();
  }

  private async run(
    req: Request,
    res: Response,
    endpoint: string,
    model: string,
    strategy: Strategy,
    messages: ChatMessage[],
    maxTokens?: number,
    temperature?: number,
  ): Promise<ChatOutcome> {
    const outcome = await this.chat.execute({
      requestId: requestIdOf(req),
      caller: await this.callers.resolve(req),
      endpoint,
      model,
      strategy,
      messages,
      maxTokens,
      temperature,
      vision: false,
      idempotencyKey: idempotencyKeyOf(req),
      signal: clientGone(res),
    });
    for (const [name, value] of Object.entries(routeHeaders(outcome))) res.setHeader(name, value);
    return outcome;
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
