import { Body, Controller, Get, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { AppConfig } from '../config/app-config';
import { ProvidersService } from '../providers/providers.service';
import { parseStrategy } from '../routing/routing.api';
import { CallerGuard } from '../llm/caller.guard';
import { IdempotencyGuard } from '../llm/idempotency.guard';
import { ChatUseCase, EstimateUseCase, LlmStats, replyChat, RequestContext, SERVED_HEADERS_DOC } from '../llm/llm.api';
import { EstimateRequestDto, LegacyChatDto, RouteRequestDto, TextGenerateDto } from './dto/legacy-llm.dto';
import { LegacyModelListDto } from './dto/legacy-models.dto';
import {
  catalogModality,
  estimateBody,
  legacyChat,
  legacyModelList,
  routedRequest,
  textGenerate,
} from './legacy-llm.format';

/**
 * The contracts of the systems Conflux replaces, kept field for field so that their
 * existing clients keep working.
 */
@ApiTags('legacy')
@ApiAuthenticated()
@UseGuards(IdempotencyGuard)
@Controller()
export class LegacyLlmController {
  constructor(
    private readonly chat: ChatUseCase,
    private readonly estimates: EstimateUseCase,
    private readonly providers: ProvidersService,
    private readonly stats: LlmStats,
    private readonly config: AppConfig,
  ) {}

  @Post('api/v1/estimate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Estimate the cost of a request (OneFlow.AI): primary model, fallbacks, credits' })
  @ApiOkResponse({ description: 'Primary model, fallback chain, estimated credits and USD' })
  estimate(@Body() body: EstimateRequestDto): object {
    const strategy = parseStrategy(body.strategy);
    const quote = this.estimates.quote({
      model: body.model ?? 'auto',
      strategy,
      modality: catalogModality(body.modality),
      inputTokens: body.input_tokens,
      prompt: body.prompt,
      outputTokens: body.output_tokens,
    });
    return estimateBody(strategy, quote);
  }

  @Post('api/v1/request')
  @HttpCode(200)
  @UseGuards(CallerGuard)
  @ApiOkResponse({ description: 'Routed completion: text, model, tokens, credits', headers: SERVED_HEADERS_DOC })
  request(@Body() body: RouteRequestDto, @RequestContext() ctx: RequestContext, @Res() res: Response): Promise<void> {
    return replyChat(this.chat, res, routedRequest(body, ctx));
  }

  /** `POST /avibe`: the Production API's text generation form posted here; the same route. */
  @Post(['api/v1/text/generate', 'avibe'])
  @HttpCode(200)
  @UseGuards(CallerGuard)
  @ApiOperation({
    summary: 'Generate text (Production API contract); `POST /avibe`, where its web form posted, is the same route',
  })
  @ApiOkResponse({
    description: '{success, data:{text, generated_tokens, input_tokens}, metrics, request_id}',
    headers: SERVED_HEADERS_DOC,
  })
  generate(@Body() body: TextGenerateDto, @RequestContext() ctx: RequestContext, @Res() res: Response): Promise<void> {
    return replyChat(this.chat, res, textGenerate(body, ctx, this.config.LEGACY_PROMPT_MAX_CHARS));
  }

  @Post('chat')
  @HttpCode(200)
  @UseGuards(CallerGuard)
  @ApiOkResponse({
    description: '{status, response, model, prompt_tokens, response_tokens, total_tokens, timestamp}',
    headers: SERVED_HEADERS_DOC,
  })
  legacyChat(@Body() body: LegacyChatDto, @RequestContext() ctx: RequestContext, @Res() res: Response): Promise<void> {
    return replyChat(this.chat, res, legacyChat(body, ctx));
  }

  @Get('models')
  @ApiOperation({
    summary: 'Every model the gateway can route to, one entry per (model, instance)',
    description:
      "The vLLM + Ollama service's list: `size`, `parameters` and `template` come from the Ollama instances " +
      'themselves (/api/tags, /api/show), cached for MODELS_CACHE_TTL_MS; what is unknown (other kinds, an ' +
      'instance that does not answer within MODELS_DETAILS_TIMEOUT_MS and was never described) is null.',
  })
  @ApiOkResponse({ type: LegacyModelListDto })
  async models(): Promise<object> {
    return legacyModelList(await this.providers.models(), this.providers.instances());
  }

  @Get('stats')
  @ApiOkResponse({ description: 'Request counts, success rate, average latency and tokens, per provider' })
  statistics(): object {
    return this.stats.snapshot();
  }
}
