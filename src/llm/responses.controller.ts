import { Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { NativeErrors } from '../common/errors/all-exceptions.filter';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { STRATEGIES } from '../routing/routing.api';
import { CallerGuard } from './caller.guard';
import { replyChat } from './chat-reply';
import { ChatUseCase } from './chat.usecase';
import { ResponsesRequestDto } from './dto/responses.dto';
import { responsesChat } from './formats/responses.format';
import { IdempotencyGuard } from './idempotency.guard';
import { SERVED_HEADERS_DOC } from './reply';
import { RequestContext } from './request-context';

/** OpenAI-compatible Responses API, stateless, routed to any provider kind. */
@ApiTags('llm')
@ApiAuthenticated()
@ApiHeader({ name: 'X-Conflux-Project', required: false, description: 'Project to bill (signed-in users)' })
@ApiHeader({ name: 'Idempotency-Key', required: false })
@UseGuards(IdempotencyGuard)
@NativeErrors('openai')
@Controller('v1')
export class ResponsesController {
  constructor(private readonly chat: ChatUseCase) {}

  @Post('responses')
  @HttpCode(200)
  @UseGuards(CallerGuard)
  @ApiHeader({ name: 'X-Conflux-Strategy', required: false, enum: [...STRATEGIES] })
  @ApiOkResponse({
    description:
      'A Response object, or its SSE event stream ending with response.completed (its `response.usage` ' +
      'carries `credits`)',
    headers: SERVED_HEADERS_DOC,
  })
  create(
    @Body() body: ResponsesRequestDto,
    @RequestContext() ctx: RequestContext,
    @Res() res: Response,
  ): Promise<void> {
    return replyChat(this.chat, res, responsesChat(body, ctx));
  }
}
