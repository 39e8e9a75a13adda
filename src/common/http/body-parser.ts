import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json } from 'express';
import { AppError } from '../errors/app-error';
import { checkJsonBody, checkUrlText } from './input-text';

interface BodyParserError {
  type?: string;
  status?: number;
}

export interface JsonBodyOptions {
  /**
   * Paths whose routes parse their own bodies (with their own limits): left untouched here. Matched
   * as Express routes them: case-insensitively, a trailing slash ignored.
   */
  ownBodyPaths?: readonly string[];
  /** The message of the 413 answer; by default it names the limit in bytes. */
  tooLargeMessage?: string;
}

/** Body-parser failures become envelope errors; the parser's message (which may quote the body) is dropped. */
function toAppError(err: BodyParserError, limit: number, tooLargeMessage: string | undefined): AppError {
  switch (err.type ?? '') {
    case 'entity.too.large':
      return new AppError('payload_too_large', tooLargeMessage ?? `Request body exceeds the limit of ${limit} bytes`);
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
 * JSON body parsing with a size limit, answering errors in the envelope, with the input checks of
 * `checkedBodyParser`.
 */
export function jsonBodyParser(limit: number, options: JsonBodyOptions = {}): RequestHandler {
  const parse = checkedBodyParser(json({ limit, strict: true }), (err) =>
    toAppError(err as BodyParserError, limit, options.tooLargeMessage),
  );
  const ownBodyPaths = new Set((options.ownBodyPaths ?? []).map(routeKey));
  return (req: Request, res: Response, next: NextFunction) => {
    if (ownBodyPaths.size > 0 && ownBodyPaths.has(routeKey(req.path))) {
      next();
      return;
    }
    parse(req, res, next);
  };
}

/**
 * A body parser with the input checks around it (see input-text.ts): before anything reads them, the
 * URL and the parsed body are checked, so a NUL or a lone surrogate in the URL or a body string, or a
 * body nested deeper than MAX_JSON_DEPTH, is refused with 400. The parser's failures become `failure(err)`.
 */
export function checkedBodyParser(parse: RequestHandler, failure: (err: unknown) => unknown): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      checkUrlText(req.url);
    } catch (error: unknown) {
      next(error);
      return;
    }
    void parse(req, res, (err?: unknown) => {
      if (err) {
        next(failure(err));
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

function routeKey(path: string): string {
  return path.toLowerCase().replace(/\/+$/, '');
}
