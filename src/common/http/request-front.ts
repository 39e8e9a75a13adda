import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { REQUEST_ID_HEADER, resolveRequestId } from './request-id';

/** Told once about every request, when its response closes (finished, or abandoned by the client). */
export interface ResponseObserver {
  /** `startedAt` is the request's `performance.now()` on arrival. */
  responseClosed(req: Request, res: Response, startedAt: number): void;
}

/** A header a middleware sets or removes the same way on every response. */
export type StaticHeader = readonly [name: string, value: string | undefined];

/**
 * The first middleware of the app, doing in one step what would otherwise be a chain of them: it gives
 * the request its id (`req.id`, echoed in X-Request-Id), sets the static response headers (security
 * headers) and tells the observers (access log, HTTP metrics) when the response closes, through one
 * `close` listener.
 */
export function requestFront(observers: readonly ResponseObserver[], headers: readonly StaticHeader[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const startedAt = performance.now();
    const id = resolveRequestId(req.headers[REQUEST_ID_HEADER]);
    req.id = id;
    res.setHeader('X-Request-Id', id);
    for (const [name, value] of headers) {
      if (value === undefined) res.removeHeader(name);
      else res.setHeader(name, value);
    }
    res.once('close', () => {
      for (const observer of observers) observer.responseClosed(req, res, startedAt);
    });
    next();
  };
}

/**
 * The headers a header-only middleware (helmet without a content security policy, whose headers do
 * not depend on the request) sets or removes, captured by running it once on a recording response. Throws
 * when the middleware does anything else or does not finish synchronously, so a middleware that
 * cannot be captured this way is noticed at startup.
 */
export function staticHeadersOf(middleware: RequestHandler): StaticHeader[] {
  const headers: StaticHeader[] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.push([name, String(value)]);
      return recorder;
    },
    removeHeader(name: string) {
      headers.push([name, undefined]);
    },
  };
  let finished = false;
  middleware({ headers: {} } as Request, recorder as unknown as Response, (error?: unknown) => {
    if (error instanceof Error) throw error;
    if (error) throw new Error('the middleware failed');
    finished = true;
  });
  if (!finished) throw new Error('the middleware did not call next() synchronously');
  return headers;
}
