import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import { AppError } from '../common/errors/app-error';
import { checkedBodyParser, jsonBodyParser } from '../common/http/body-parser';
import { AppConfig } from '../config/app-config';
import { imageTooLarge } from './image-content';
import { promptTooLong } from './legacy-llm.format';

/** The route whose body is parsed here, with its own limits (the global JSON parser leaves it alone). */
export const IMAGE_ANALYZE_ROUTE = 'api/v1/image/analyze';
/** Where the Production API's image form posted: the same route as IMAGE_ANALYZE_ROUTE, body parsed here too. */
export const IMAGE_FORM_ROUTE = 'avision';

/** The room a body needs besides the image: the other fields, the data URL's header, JSON syntax. */
const FIELDS_ALLOWANCE = 64 * 1024;

/**
 * The body of POST /api/v1/image/analyze (and of POST /avision, the same route), read before the guards (as every JSON body is), so that
 * the Idempotency-Key covers the image too:
 * - multipart/form-data: the image part `file` is streamed into memory up to IMAGE_MAX_BYTES; past it the
 *   upload is cut (nothing more is kept, the rest of the request is read and dropped) and the answer is
 *   413. The text fields are bounded too (a prompt field longer than any prompt of
 *   LEGACY_PROMPT_MAX_CHARS characters is refused as the Production API refuses it).
 * - application/json: `{image: "data:…;base64,…" | base64, prompt, …}`, parsed with a limit sized for
 *   an image of IMAGE_MAX_BYTES in base64 (line breaks included) and the longest prompt.
 * Any other body is 415; none at all reaches the route, which asks for the image.
 */
@Injectable()
export class ImageBodyMiddleware implements NestMiddleware {
  private readonly multipart: RequestHandler;
  private readonly json: RequestHandler;
  private readonly maxBytes: number;
  private readonly promptMaxChars: number;

  constructor(config: AppConfig) {
    this.maxBytes = config.IMAGE_MAX_BYTES;
    this.promptMaxChars = config.LEGACY_PROMPT_MAX_CHARS;
    // A UTF-16 code unit takes at most 3 bytes of UTF-8; in JSON at most 6 (`\uXXXX`).
    const promptBytes = 3 * this.promptMaxChars;
    this.multipart = checkedBodyParser(
      multer({
        storage: multer.memoryStorage(),
        limits: { fileSize: this.maxBytes, files: 1, fields: 8, parts: 9, fieldNameSize: 100, fieldSize: promptBytes },
      }).single('file'),
      (err) => this.uploadError(err),
    );
    const base64 = 4 * Math.ceil(this.maxBytes / 3);
    this.json = jsonBodyParser(base64 + Math.ceil(base64 / 32) + 2 * promptBytes + FIELDS_ALLOWANCE, {
      tooLargeMessage: imageTooLarge(this.maxBytes).message,
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if (req.is('multipart/form-data')) {
      this.multipart(req, res, next);
      return;
    }
    if (req.is('json') !== false) {
      // JSON, or no body at all (the route then asks for the image).
      this.json(req, res, next);
      return;
    }
    next(
      new AppError(
        'unsupported_media_type',
        'Send the image as multipart/form-data (part `file`) or as JSON ({"image": "data:image/png;base64,…"})',
      ),
    );
  }

  private uploadError(err: unknown): AppError {
    if (!(err instanceof multer.MulterError)) {
      return new AppError('bad_request', 'The multipart body could not be read (malformed or cut short)');
    }
    switch (err.code) {
      case 'LIMIT_FILE_SIZE':
        return imageTooLarge(this.maxBytes);
      case 'LIMIT_FIELD_VALUE':
        return err.field === 'prompt'
          ? promptTooLong(this.promptMaxChars)
          : new AppError('validation_error', 'A field of the form is too long');
      case 'LIMIT_UNEXPECTED_FILE':
        return new AppError('validation_error', 'Unexpected file part: send one image as the part `file`');
      case 'LIMIT_FILE_COUNT':
      case 'LIMIT_FIELD_COUNT':
      case 'LIMIT_FIELD_KEY':
      case 'LIMIT_PART_COUNT':
      case 'MISSING_FIELD_NAME':
        return new AppError(
          'validation_error',
          `${err.message}: send one image as the part \`file\`, and the fields prompt, max_tokens, temperature, model`,
        );
    }
  }
}
