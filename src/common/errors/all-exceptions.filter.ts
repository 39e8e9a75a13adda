import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  Logger,
  NotFoundException,
  UseFilters,
} from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { requestIdOf } from '../http/request-id';
import { AppError, codeForStatus, ErrorAnswer, ErrorCode } from './app-error';
import { DIALECT_SHAPES, dialectOfPath, ErrorDialect } from './error-dialects';
import { ResponseAlreadySent } from './response-sent';

const logger = new Logger('Errors');

/** Nest's own HTTP exceptions: keep the status, take a readable message. */
function fromHttpException(err: HttpException): ErrorAnswer {
  const status = err.getStatus();
  const response = err.getResponse();
  let message = err.message;
  if (typeof response === 'object' && response !== null) {
    const m = (response as { message?: unknown }).message;
    if (typeof m === 'string') message = m;
    else if (Array.isArray(m)) message = m.map(String).join('; ');
  }
  const code: ErrorCode = status === 400 ? 'validation_failed' : codeForStatus(status);
  return { status, body: { error: code, message }, headers: {} };
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);
const UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Command timed out|enableOfflineQueue|Connection is closed|Reached the max retries/i;

/**
 * True for errors that mean Postgres or Redis could not be reached in time (not a
 * bug of ours): they answer 503 so clients and load balancers retry.
 */
export function isDependencyUnavailable(err: unknown, depth = 0): boolean {
  // By shape, not instanceof: errors raised by Node internals may come from another realm.
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const { code, message, driverError } = err as { code?: unknown; message?: unknown; driverError?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || /^(08|57P0)/.test(code))) return true;
  if (driverError !== undefined && driverError !== err && isDependencyUnavailable(driverError, depth + 1)) return true;
  return typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
}

function map(err: unknown, req: Request): ErrorAnswer | null {
  if (isDependencyUnavailable(err)) {
    return {
      status: 503,
      body: { error: 'service_unavailable', message: 'A backing service is unavailable; retry shortly' },
      headers: { 'Retry-After': '1' },
    };
  }
  if (err instanceof AppError) {
    const body: ErrorAnswer['body'] = { error: err.code, message: err.message };
    if (err.details !== undefined) body.details = err.details;
    return { status: err.status, body, headers: err.headers };
  }
  if (err instanceof NotFoundException && /^Cannot [A-Z]+ /.test(err.message)) {
    // Nest's own message quotes the URL with its query string, which may carry secrets.
    return {
      status: 404,
      body: { error: 'not_found', message: `No route for ${req.method} ${req.path}` },
      headers: {},
    };
  }
  if (err instanceof HttpException) return fromHttpException(err);
  return null;
}

/**
 * The answer to any error, the same for every route. A 5xx is logged at error, with the error in full
 * when it is unexpected (then answered with a bare 500).
 */
export function answerFor(exception: unknown, req: Request): ErrorAnswer {
  const mapped = map(exception, req);
  if (!mapped) {
    logger.error({ err: exception, request_id: req.id }, 'Unhandled error');
    return { status: 500, body: { error: 'internal_error', message: 'Internal server error' }, headers: {} };
  }
  if (mapped.status >= 500) logger.error({ err: exception, request_id: req.id }, mapped.body.message);
  return mapped;
}

/**
 * Writes an answer with its status and headers: as the envelope `{error, message, request_id, details?}`,
 * or as the body `shape` makes of it, plus `request_id` (ends a response already started).
 */
export function sendAnswer(
  answer: ErrorAnswer,
  req: Request,
  res: Response,
  shape: (answer: ErrorAnswer) => Record<string, unknown> = (a) => a.body,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.status(answer.status).json({ ...shape(answer), request_id: requestIdOf(req) });
}

/**
 * Writes any error: in `dialect`, else in the dialect of the request's path (see `dialectOfPath`), else
 * in the envelope. Used by the Nest filters and by the Express error handler.
 */
function sendError(exception: unknown, req: Request, res: Response, dialect = dialectOfPath(req.path)): void {
  if (exception instanceof ResponseAlreadySent) return;
  sendAnswer(answerFor(exception, req), req, res, dialect && DIALECT_SHAPES[dialect]);
}

/**
 * The global exception filter: every error answers `{error, message, request_id, details?}`. It also
 * answers what fails before Nest has matched a route (body parsing, an unknown route or method): on the
 * paths of routes with @NativeErrors, such errors take those routes' dialect. Anything unexpected is
 * logged in full and answered with a bare 500.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    sendError(exception, ctx.getRequest<Request>(), ctx.getResponse<Response>());
  }
}

/** The filter @NativeErrors puts on a route: the same answer as everywhere, in the route's dialect. */
@Catch()
class NativeErrorsFilter implements ExceptionFilter {
  constructor(private readonly dialect: ErrorDialect) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    sendError(exception, ctx.getRequest<Request>(), ctx.getResponse<Response>(), this.dialect);
  }
}

/**
 * Errors of the decorated routes (a controller or a handler) answer in the body their API's official
 * clients parse (see error-dialects.ts), with our status, message, code, headers and `request_id`. The
 * route's filter catches whatever its guards (authentication, rate limits, idempotency), pipes and
 * handler throw. A request that fails before routing has no route yet: list the route's path in
 * error-dialects.ts too.
 */
export function NativeErrors(dialect: ErrorDialect): ClassDecorator & MethodDecorator {
  return UseFilters(new NativeErrorsFilter(dialect));
}

/** Express-level errors that reach past Nest's own error handler (which uses the global filter). */
export function expressErrorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  sendError(err, req, res);
}
