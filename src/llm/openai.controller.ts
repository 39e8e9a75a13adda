import { Body, Controller, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { NativeErrors } from '../common/errors/all-exceptions.filter';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { STRATEGIES } from '../routing/routing.api';
import { RoutingService } from '../routing/routing.service';
import { CallerGuard } from './caller.guard';
import { replyChat } from './chat-reply';
import { ChatUseCase } from './chat.usecase';
import { ChatCompletionRequestDto, EmbeddingsRequestDto } from './dto/chat-completions.dto';
import { EmbeddingsUseCase } from './embeddings.usecase';
import { embeddingInputs, embeddingList, modelList, modelObject, openAiChat } from './formats/openai.format';
import { IdempotencyGuard } from './idempotency.guard';
import { RequestContext } from './request-context';
import { sendJson, SERVED_HEADERS_DOC } from './reply';

/** OpenAI-compatible API: chat completions (JSON and SSE), embeddings, models. */
@ApiTags('llm')
@ApiAuthenticated()
@ApiHeader({ name: 'X-Conflux-Project', required: false, description: 'Project to bill (signed-in users)' })
@ApiHeader({ name: 'Idempotency-Key', required: false })
@UseGuards(IdempotencyGuard)
@NativeErrors('openai')
@Controller('v1')
export class OpenAiController {
  constructor(
    private readonly chat: ChatUseCase,
    private readonly embeddings: EmbeddingsUseCase,
    private readonly routing: RoutingService,
  ) {}

  @Post('chat/completions')
  @HttpCode(200)
  @UseGuards(CallerGuard)
  @ApiHeader({ name: 'X-Conflux-Strategy', required: false, enum: [...STRATEGIES] })
  @ApiOkResponse({
    description:
      'A chat.completion, or an SSE stream of chat.completion.chunk ending with [DONE]; with ' +
      '`stream_options.include_usage`, the usage chunk carries `usage.credits`',
    headers: SERVED_HEADERS_DOC,
  })
  completions(
    @Body() body: ChatCompletionRequestDto,
    @RequestContext() ctx: RequestContext,
    @Res() res: Response,
  ): Promise<void> {
    return replyChat(this.chat, res, openAiChat(body, ctx));
  }

  @Post('embeddings')
  @HttpCode(200)
  @UseGuards(CallerGuard)
  @ApiOkResponse({ description: 'OpenAI-compatible embedding list', headers: SERVED_HEADERS_DOC })
  async embed(
    @Body() body: EmbeddingsRequestDto,
    @RequestContext() ctx: RequestContext,
    @Res() res: Response,
  ): Promise<void> {
    const outcome = await this.embeddings.execute({
      ...ctx,
      model: body.model,
      inputs: embeddingInputs(body.input),
      dimensions: body.dimensions,
    });
    sendJson(res, outcome, embeddingList(outcome, body.encoding_format));
  }

  @Get('models')
  @ApiOkResponse({ description: 'OpenAI-compatible model list (models served by at least one instance)' })
  models(): object {
    return modelList(this.routing.listings());
  }

  /** A model by its name or an alias (names may hold slashes, as vLLM's do). */
  @Get('models/*model')
  @ApiParam({ name: 'model', description: 'A model name or alias; it may contain slashes' })
  @ApiOkResponse({ description: 'One OpenAI-compatible model object, if it is served; else 404 model_not_found' })
  model(@Param('model') model: string | string[]): object {
    const name = Array.isArray(model) ? model.join('/') : model;
    return modelObject(this.routing.servedListing(name));
  }
}
