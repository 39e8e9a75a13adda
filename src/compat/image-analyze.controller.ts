import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AppError } from '../common/errors/app-error';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { AppConfig } from '../config/app-config';
import { CallerGuard } from '../llm/caller.guard';
import { IdempotencyGuard } from '../llm/idempotency.guard';
import { ChatUseCase, replyChat, RequestContext } from '../llm/llm.api';
import { DEFAULT_IMAGE_PROMPT, ImageAnalyzeDto } from './dto/legacy-llm.dto';
import { IMAGE_ANALYZE_ROUTE, IMAGE_FORM_ROUTE } from './image-body.middleware';
import { acceptImage, decodeImageText } from './image-content';
import { imageAnalyze } from './legacy-llm.format';

const FIELDS = {
  prompt: {
    type: 'string',
    description: `At most LEGACY_PROMPT_MAX_CHARS (2000) characters; default "${DEFAULT_IMAGE_PROMPT}"`,
  },
  max_tokens: { type: 'integer', minimum: 1 },
  temperature: { type: 'number', minimum: 0, maximum: 2 },
  model: { type: 'string', description: 'A vision-capable model or alias; default `auto`' },
};

/**
 * The Production API's image analysis (Avision): an image and a prompt to a vision-capable model,
 * through the gateway's routing, budgets, breakers and ledger as any chat. Its body is read by
 * ImageBodyMiddleware.
 */
@ApiTags('legacy')
@ApiAuthenticated()
@UseGuards(IdempotencyGuard)
@Controller()
export class ImageAnalyzeController {
  constructor(
    private readonly chat: ChatUseCase,
    private readonly config: AppConfig,
  ) {}

  @Post([IMAGE_ANALYZE_ROUTE, IMAGE_FORM_ROUTE])
  @HttpCode(200)
  @UseGuards(CallerGuard)
  @ApiOperation({
    summary: 'Analyze an image with a vision-capable model (Production API contract)',
    description:
      'multipart/form-data with the image in the part `file` and the text fields below, or JSON with the ' +
      'image in `image` (a data URL or bare base64). PNG, JPEG, GIF and WebP, told by their content (not ' +
      'their name or declared type), up to IMAGE_MAX_BYTES (16 MB): larger → 413 `payload_too_large` ' +
      '"File too large. Maximum size: 16 MB"; another type → 415 `unsupported_media_type`; no image → 400 ' +
      '`validation_error`; a prompt over the limit → 400 `validation_error` "Prompt too long. Maximum ' +
      'length: 2000 characters". Answered as /api/v1/text/generate. `POST /avision`, where the Production ' +
      'API’s web form posted, is the same route.',
  })
  @ApiConsumes('multipart/form-data', 'application/json')
  @ApiBody({
    schema: {
      type: 'object',
      properties: {
        file: { type: 'string', format: 'binary', description: 'multipart/form-data: the image' },
        image: { type: 'string', description: 'application/json: the image as `data:image/…;base64,…` or base64' },
        ...FIELDS,
      },
    },
  })
  @ApiOkResponse({ description: '{success, data:{text, generated_tokens, input_tokens}, metrics, request_id}' })
  analyze(
    @Body() body: ImageAnalyzeDto,
    @Req() req: Request,
    @RequestContext() ctx: RequestContext,
    @Res() res: Response,
  ): Promise<void> {
    const image = acceptImage(this.imageBytes(body, req), this.config.IMAGE_MAX_BYTES);
    return replyChat(this.chat, res, imageAnalyze(body, image, ctx, this.config.LEGACY_PROMPT_MAX_CHARS));
  }

  private imageBytes(body: ImageAnalyzeDto, req: Request): Buffer {
    const file = (req as Request & { file?: Express.Multer.File }).file;
    if (file && body.image !== undefined) {
      throw new AppError('validation_error', 'Send the image once: as the part `file` or as `image`, not both');
    }
    if (file) return file.buffer;
    if (body.image !== undefined) return decodeImageText(body.image, this.config.IMAGE_MAX_BYTES);
    throw new AppError(
      'validation_error',
      'No image: send it as the multipart part `file`, or as `image` in a JSON body',
    );
  }
}
