import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json } from 'express';
import { AppError } from '../errors/app-error';
import { checkJsonBody, checkUrlText } from './input-text';

interface BodyParserError {
  type?: string;
  status?: number;
}

/** Body-parser failures become envelope errors; the parser's message (which may quote the body) is dropped. */
function toAppError(err: BodyParserError, limit: number): AppError {
  switch (err.type ?? '') {
    case 'entity.too.large':
      return new AppError('payload_too_large', `Request body exceeds the limit of ${limit} bytes`);
    case 'entity.parse.failed':
      return new AppError('malformed_json', 'Request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported_media_type', 'Unsupported body encoding or charset');
    case 'request.aborted':
      return new AppError('bad_request', 'Request body was aborted by the client');
    default:
      return new AppError('bad_request', 'Request body could not be read');
  }
}

/**
 * JSON body parsing with a size limit, answering errors in the envelope. Before anything reads them, the
 * URL and the parsed body are checked (see input-text.ts): a NUL or a lone surrogate in the URL or a body
 * string, or a body nested deeper than MAX_JSON_DEPTH, is refused with 400.
 */
export function jsonBodyParser(limit: number): RequestHandler {
  const parse = json({ limit, strict: true });
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      checkUrlText(req.url);
    } catch (error: unknown) {
      next(error);
      return;
    }
    parse(req, res, (err?: unknown) => {
      if (err) {
        next(toAppError(err, limit));
        return;
      }
      try {
        checkJsonBody(req.body);
        next();
      } catch (error: unknown) {
        next(error);
      }
    });
  };
}
