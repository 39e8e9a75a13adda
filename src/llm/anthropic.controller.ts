import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { requestIdOf } from '../common/http/request-id';
import { CallerService } from './caller.service';
import { ChatCommand, ChatUseCase } from './chat.usecase';
import { MessagesRequestDto } from './dto/messages.dto';
import {
  anthropicDelta,
  anthropicError,
  anthropicMessage,
  anthropicStreamEnd,
  anthropicStreamStart,
  canonicalFromAnthropic,
} from './formats/anthropic-format';
import { hasImages } from './formats/openai-format';
import { IdempotencyGuard } from './idempotency.guard';
import { idempotencyKeyOf, parseStrategy, routeHeaders, STRATEGY_HEADER } from './gateway-http';
import { clientGone } from '../common/http/client-gone';
import { SseWriter } from './sse';

/** Anthropic-compatible Messages API, routed to any provider kind. */
@ApiTags('llm')
@ApiAuthenticated()
@ApiHeader({ name: 'Idempotency-Key', required: false })
@UseGuards(IdempotencyGuard)
@Controller('v1')
export class AnthropicController {
  constructor(
    private readonly chat: ChatUseCase,
    private readonly callers: CallerService,
  ) {}

  @Post('messages')
  @HttpCode(200)
  @ApiOkResponse({ description: 'An Anthropic message, or its SSE event stream' })
  async messages(@Body() body: MessagesRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    const messages = canonicalFromAnthropic(body);
    const header = req.headers[STRATEGY_HEADER];
    const cmd: ChatCommand = {
      requestId: requestIdOf(req),
      caller: await this.callers.resolve(req),
      endpoint: '/v1/messages',
      model: body.model,
      strategy: parseStrategy(typeof header === 'string' ? header : undefined),
      messages,
      maxTokens: body.max_tokens,
      temperature: body.temperature,
      topP: body.top_p,
      stop: body.stop_sequences,
      vision: hasImages(messages),
      idempotencyKey: idempotencyKeyOf(req),
      signal: clientGone(res),
    };
    const id = `msg_${requestIdOf(req).replace(/[^A-Za-z0-9]/g, '')}`;
    if (!body.stream) {
      const outcome = await this.chat.execute(cmd);
      for (const [name, value] of Object.entries(routeHeaders(outcome))) res.setHeader(name, value);
      res
        .status(200)
        .json(anthropicMessage(id, outcome.candidate.model.name, outcome.text, outcome.finish, outcome.usage));
      return;
    }
    const stream = await this.chat.openStream(cmd);
    const sse = new SseWriter(res);
    sse.open(routeHeaders(stream));
    for (const [event, data] of anthropicStreamStart(id, stream.candidate.model.name, stream.inputTokens)) {
      await sse.send(data, event);
    }
    try {
      let finish: 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'error' = 'stop';
      for await (const event of stream.events) {
        if (sse.closed) break;
        if (event.type === 'delta') {
          const [name, data] = anthropicDelta(event.text);
          await sse.send(data, name);
        } else if (event.type === 'finish') finish = event.finish_reason;
      }
      const { usage } = await stream.settled;
      for (const [event, data] of anthropicStreamEnd(finish, usage)) await sse.send(data, event);
    } catch {
      const [event, data] = anthropicError('The upstream stream failed before completion');
      await sse.send(data, event);
    } finally {
      sse.end();
    }
  }
}
