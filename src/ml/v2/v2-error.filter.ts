import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { answerFor, sendAnswer } from '../../common/errors/all-exceptions.filter';
import { ResponseAlreadySent } from '../../common/errors/response-sent';

/** Failures that are about the caller, not the inference request: answered with the service's envelope. */
const ENVELOPE_STATUSES = new Set([401, 403, 429]);

/**
 * Errors of the Open Inference Protocol routes: `{"error": "<message>"}` (the protocol's error body)
 * with the HTTP status, plus `request_id` (an extra member V2 clients ignore). Status, message, headers
 * and logging are those of every other route (a backing service that is down answers 503 with
 * Retry-After; a 5xx is logged at error). Authentication, permission and rate-limit refusals keep the
 * service's envelope (`{error, message, request_id}`, whose `error` is a string too), so every route of
 * the service refuses callers alike.
 */
@Catch()
export class V2ErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof ResponseAlreadySent) return;
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const answer = answerFor(exception, req);
    if (ENVELOPE_STATUSES.has(answer.status)) sendAnswer(answer, req, res);
    else sendAnswer(answer, req, res, (a) => ({ error: a.body.message }));
  }
}
