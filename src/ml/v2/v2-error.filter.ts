import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppError } from '../../common/errors/app-error';
import { sendError } from '../../common/errors/all-exceptions.filter';
import { requestIdOf } from '../../common/http/request-id';

const logger = new Logger('V2Errors');

/** Failures that are about the caller, not the inference request: answered with the service's envelope. */
const ENVELOPE_STATUSES = new Set([401, 403, 429]);

/**
 * Errors of the Open Inference Protocol routes: `{"error": "<message>"}` (the protocol's error body)
 * with the HTTP status, plus `request_id` (an extra member V2 clients ignore). Authentication,
 * permission and rate-limit refusals keep the service's envelope (`{error, message, request_id}`, whose
 * `error` is a string too), so every route of the service refuses callers alike.
 */
@Catch()
export class V2ErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const status =
      exception instanceof AppError
        ? exception.status
        : exception instanceof HttpException
          ? exception.getStatus()
          : 500;
    if (ENVELOPE_STATUSES.has(status) || res.headersSent) {
      sendError(exception, req, res);
      return;
    }
    let message: string;
    if (exception instanceof AppError) {
      message = exception.message;
      for (const [name, value] of Object.entries(exception.headers)) res.setHeader(name, value);
      if (status >= 500) logger.warn({ request_id: req.id, err: exception.options.cause ?? exception }, message);
    } else if (exception instanceof HttpException) {
      message = exception.message;
    } else {
      logger.error({ err: exception, request_id: req.id }, 'Unhandled error');
      message = 'Internal server error';
    }
    res.status(status).json({ error: message, request_id: requestIdOf(req) });
  }
}
