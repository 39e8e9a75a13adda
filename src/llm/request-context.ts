import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import { clientGone } from '../common/http/client-gone';
import { requestIdOf } from '../common/http/request-id';
import type { Caller } from './caller';
import { callerOf } from './caller.guard';
import { IDEMPOTENCY_HEADER } from './idempotency.guard';

export const STRATEGY_HEADER = 'x-conflux-strategy';

/** What a gateway route knows of its request besides the body. */
export interface RequestContext {
  requestId: string;
  /** Who pays (resolved by CallerGuard, which the route must use). */
  caller: Caller;
  idempotencyKey: string | null;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** X-Conflux-Strategy as sent: each dialect parses it, and may prefer a field of its body. */
  strategyHeader: string | undefined;
}

/** The RequestContext of a gateway route's request (the route needs `@UseGuards(CallerGuard)`). */
export const RequestContext = createParamDecorator((_: unknown, context: ExecutionContext): RequestContext => {
  const http = context.switchToHttp();
  const req = http.getRequest<Request>();
  const strategy = req.headers[STRATEGY_HEADER];
  const idempotencyKey = req.headers[IDEMPOTENCY_HEADER];
  return {
    requestId: requestIdOf(req),
    caller: callerOf(req),
    idempotencyKey: typeof idempotencyKey === 'string' && idempotencyKey.trim() !== '' ? idempotencyKey.trim() : null,
    signal: clientGone(http.getResponse<Response>()),
    strategyHeader: typeof strategy === 'string' ? strategy : undefined,
  };
});
