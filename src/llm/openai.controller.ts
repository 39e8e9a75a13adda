import { Body, Controller, Get, Headers, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { requestIdOf } from '../common/http/request-id';
import { RoutingService, STRATEGIES } from '../routing/routing.service';
import { CallerService } from './caller.service';
import { ChatCommand, ChatUseCase } from './chat.usecase';
import { ChatCompletionRequestDto, EmbeddingsRequestDto } from './dto/chat-completions.dto';
import { EmbeddingsUseCase } from './embeddings.usecase';
import {
  canonicalMessages,
  chatCompletion,
  CompletionMeta,
  completionChunk,
  hasImages,
  stopList,
  streamError,
  usageChunk,
} from './formats/openai-format';
import { IdempotencyGuard } from './idempotency.guard';
import { idempotencyKeyOf, parseStrategy, routeHeaders, STRATEGY_HEADER } from './gateway-http';
import { clientGone } from '../common/http/client-gone';
import { SseWriter } from './sse';

/** OpenAI-compatible API: chat completions (JSON and SSE), embeddings, models. */
@ApiTags('llm')
@ApiAuthenticated()
@ApiHeader({ name: 'X-Conflux-Project', required: false, description: 'Project to bill (signed-in users)' })
@ApiHeader({ name: 'Idempotency-Key', required: false })
@UseGuards(IdempotencyGuard)
@Controller('v1')
export class OpenAiController {
  constructor(
    private readonly chat: ChatUseCase,
    private readonly embeddings: EmbeddingsUseCase,
    private readonly callers: CallerService,
    private readonly routing: RoutingService,
  ) {}

  @Post('chat/completions')
  @HttpCode(200)
  @ApiHeader({ name: 'X-Conflux-Strategy', required: false, enum: [...STRATEGIES] })
  @ApiOkResponse({ description: 'A chat.completion, or an SSE stream of chat.completion.chunk ending with [DONE]' })
  async completions(
    @Body() body: ChatCompletionRequestDto,
    @Req() req: Request,
    @Res() res: Response,
    @Headers(STRATEGY_HEADER) strategyHeader?: string,
  ): Promise<void> {
    const messages = canonicalMessages(body.messages);
    const cmd: ChatCommand = {
      requestId: requestIdOf(req),
      caller: await this.callers.resolve(req),
      endpoint: '/v1/chat/completions',
      model: body.model,
      strategy: parseStrategy(body.conflux_strategy ?? strategyHeader),
      messages,
      maxTokens: body.max_completion_tokens ?? body.max_tokens,
      temperature: body.temperature,
      topP: body.top_p,
      stop: stopList(body.stop),
      vision: hasImages(messages),
      idempotencyKey: idempotencyKeyOf(req),
      signal: clientGone(res),
    };
    const meta = (model: string): CompletionMeta => ({
      id: `chatcmpl-${requestIdOf(req)}`,
      model,
      created: Math.floor(Date.now() / 1000),
    });
    if (!body.stream) {
      const outcome = await this.chat.execute(cmd);
      for (const [name, value] of Object.entries(routeHeaders(outcome))) res.setHeader(name, value);
      res
        .status(200)
        .json(chatCompletion(meta(outcome.candidate.model.name), outcome.text, outcome.finish, outcome.usage));
      return;
    }
    const stream = await this.chat.openStream(cmd);
    const m = meta(stream.candidate.model.name);
    const sse = new SseWriter(res);
    sse.open(routeHeaders(stream));
    await sse.send(completionChunk(m, { role: 'assistant', content: '' }, null));
    try {
      for await (const event of stream.events) {
        if (sse.closed) break;
        if (event.type === 'delta') await sse.send(completionChunk(m, { content: event.text }, null));
        else if (event.type === 'finish') await sse.send(completionChunk(m, {}, event.finish_reason));
      }
      const { usage } = await stream.settled;
      if (body.stream_options?.include_usage) await sse.send(usageChunk(m, usage));
      await sse.send('[DONE]');
    } catch (err) {
      // A cut after the first token: an error event, never a clean [DONE].
      const code = (err as { errorClass?: string }).errorClass ?? 'internal';
      await sse.send(streamError('The upstream stream failed before completion', code));
    } finally {
      sse.end();
    }
  }

  @Post('embeddings')
  @HttpCode(200)
  @ApiOkResponse({ description: 'OpenAI-compatible embedding list' })
  async embed(@Body() body: EmbeddingsRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    const outcome = await this.embeddings.execute({
      requestId: requestIdOf(req),
      caller: await this.callers.resolve(req),
      model: body.model,
      inputs,
      idempotencyKey: idempotencyKeyOf(req),
      signal: clientGone(res),
    });
    for (const [name, value] of Object.entries(routeHeaders(outcome))) res.setHeader(name, value);
    res.status(200).json({
      object: 'list',
      model: outcome.candidate.model.name,
      data: outcome.vectors.map((vector, index) => ({
        object: 'embedding',
        index,
        embedding:
          body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
      })),
      usage: { prompt_tokens: outcome.inputTokens, total_tokens: outcome.inputTokens },
    });
  }

  @Get('models')
  @ApiOkResponse({ description: 'OpenAI-compatible model list (models served by at least one instance)' })
  models(): object {
    return {
      object: 'list',
      data: this.routing.listings().map(({ model, instances }) => ({
        id: model.name,
        object: 'model',
        created: 0,
        owned_by: 'conflux',
        aliases: model.aliases,
        modalities: model.modalities,
        context_window: model.context_window,
        pricing: { input_usd_per_1m: model.input_usd_per_1m, output_usd_per_1m: model.output_usd_per_1m },
        providers: instances,
      })),
    };
  }
}
