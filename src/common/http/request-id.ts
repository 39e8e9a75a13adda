import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export const REQUEST_ID_HEADER = 'x-request-id';
const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts a caller's X-Request-Id when it is safe to echo, otherwise generates one. */
export function resolveRequestId(header: string | string[] | undefined): string {
  const candidate = Array.isArray(header) ? header[0] : header;
  return candidate !== undefined && VALID_REQUEST_ID.test(candidate) ? candidate : randomUUID();
}

/** The request id set by the first middleware (requestFront). */
export function requestIdOf(req: Request): string {
  const id: unknown = req.id;
  return typeof id === 'string' ? id : '';
}

/**
 * Echoes the request id under another header name as well, for clients that read it there: Anthropic's
 * SDKs take `request-id` into a message's `_request_id` and an error's `requestID`.
 */
export function requestIdAlsoAs(header: string): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    res.setHeader(header, requestIdOf(req));
    next();
  };
}
