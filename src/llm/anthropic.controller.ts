import { Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { NativeErrors } from '../common/errors/all-exceptions.filter';
import { STRATEGIES } from '../routing/routing.api';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { CallerGuard } from './caller.guard';
import { replyChat } from './chat-reply';
import { ChatUseCase } from './chat.usecase';
import { CountTokensUseCase } from './count-tokens.usecase';
import { CountTokensRequestDto, MessagesRequestDto } from './dto/messages.dto';
import { anthropicChat, canonicalFromAnthropic, canonicalTools } from './formats/anthropic.format';
import { IdempotencyGuard } from './idempotency.guard';
import { SERVED_HEADERS_DOC } from './reply';
import { RequestContext } from './request-context';

/** Anthropic-compatible Messages API, routed to any provider kind. */
@ApiTags('llm')
@ApiAuthenticated()
@ApiHeader({ name: 'Idempotency-Key', required: false })
@UseGuards(IdempotencyGuard)
@NativeErrors('anthropic')
@Controller('v1')
export class AnthropicController {
  constructor(
    private readonly chat: ChatUseCase,
    private readonly tokens: CountTokensUseCase,
  ) {}

  @Post('messages')
  @HttpCode(200)
  @UseGuards(CallerGuard)
  @ApiHeader({ name: 'X-Conflux-Strategy', required: false, enum: [...STRATEGIES] })
  @ApiOkResponse({
    description: 'An Anthropic message, or its SSE event stream (its message_delta usage carries `credits`)',
    headers: SERVED_HEADERS_DOC,
  })
  messages(
    @Body() body: MessagesRequestDto,
    @RequestContext() ctx: RequestContext,
    @Res() res: Response,
  ): Promise<void> {
    return replyChat(this.chat, res, anthropicChat(body, ctx));
  }

  @Post('messages/count_tokens')
  @HttpCode(200)
  @UseGuards(CallerGuard)
  @ApiOkResponse({
    description:
      '`{input_tokens}`: the count the gateway estimates a message at (its budget hold), for the model named; ' +
      'nothing is called or billed',
  })
  countTokens(@Body() body: CountTokensRequestDto): { input_tokens: number } {
    const messages = canonicalFromAnthropic(body);
    return { input_tokens: this.tokens.count(body.model, messages, canonicalTools(body.tools)) };
  }
}
