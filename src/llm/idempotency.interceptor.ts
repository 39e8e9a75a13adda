import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { from, Observable, of, switchMap, tap } from 'rxjs';
import { AppError } from '../common/errors/app-error';
import { IdempotencyService, requestHash } from './idempotency.service';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Response headers worth replaying. */
const REPLAYED_HEADERS = ['x-conflux-provider', 'x-conflux-model', 'x-conflux-attempts', 'x-conflux-credits'];

function scopeOf(req: Request): string {
  const p = req.principal;
  if (!p) return 'anonymous';
  return p.kind === 'api_key' ? `project:${p.projectId}` : `user:${p.userId}`;
}

/**
 * `Idempotency-Key` on POSTs: the same key and body within IDEMPOTENCY_TTL_SECONDS
 * replays the stored response (with `Idempotent-Replayed: true`); the same key with
 * another body is 422; a duplicate while the first runs is 409. Never a second
 * upstream call. Streamed responses are not stored: their key stays claimed, so a
 * duplicate gets 409.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly store: IdempotencyService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    const raw = req.headers[IDEMPOTENCY_HEADER];
    if (req.method !== 'POST' || typeof raw !== 'string') return next.handle();
    const key = raw.trim();
    if (key.length === 0 || key.length > 255) {
      throw new AppError('validation_failed', 'Idempotency-Key must be 1 to 255 characters');
    }
    const scope = scopeOf(req);
    const hash = requestHash(req.method, req.path, req.body);
    return from(this.store.claim(scope, key, hash)).pipe(
      switchMap((claim) => {
        switch (claim.kind) {
          case 'mismatch':
            throw new AppError('unprocessable_entity', 'This Idempotency-Key was used with a different request body');
          case 'in_progress':
            throw new AppError('conflict', 'A request with this Idempotency-Key is in progress (or was streamed)', {
              headers: { 'Retry-After': '1' },
            });
          case 'replay':
            for (const [name, value] of Object.entries(claim.response.headers)) res.setHeader(name, value);
            res.setHeader('Idempotent-Replayed', 'true');
            // The gateway's handlers write their responses themselves: so does the replay.
            res.status(claim.response.status).json(claim.response.body);
            return of(undefined);
          case 'claimed':
            return this.run(next, res, scope, key, hash);
        }
      }),
    );
  }

  /**
   * Captures the JSON body as it is sent (handlers may write the response themselves)
   * and stores it before it goes out, so an immediate duplicate already replays.
   */
  private run(next: CallHandler, res: Response, scope: string, key: string, hash: string): Observable<unknown> {
    const send = res.json.bind(res);
    res.json = (body: unknown): Response => {
      if (res.statusCode >= 400) {
        void this.store.abandon(scope, key).catch(() => undefined);
        return send(body);
      }
      const headers: Record<string, string> = {};
      for (const name of REPLAYED_HEADERS) {
        const value = res.getHeader(name);
        if (typeof value === 'string') headers[name] = value;
      }
      void this.store
        .complete(scope, key, hash, { status: res.statusCode, body, headers })
        .catch(() => undefined)
        .finally(() => send(body));
      return res;
    };
    return next.handle().pipe(
      tap({
        error: () => {
          void this.store.abandon(scope, key).catch(() => undefined);
        },
      }),
    );
  }
}
