import { Body, Controller, Get, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
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
import { embeddingList, modelList, openAiChat } from './formats/openai.format';
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
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    const outcome = await this.embeddings.execute({ ...ctx, model: body.model, inputs });
    sendJson(res, outcome, embeddingList(outcome, body.encoding_format));
  }

  @Get('models')
  @ApiOkResponse({ description: 'OpenAI-compatible model list (models served by at least one instance)' })
  models(): object {
    return modelList(this.routing.listings());
  }
}
