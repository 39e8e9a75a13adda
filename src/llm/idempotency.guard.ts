import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppError } from '../common/errors/app-error';
import { ResponseAlreadySent } from '../common/errors/response-sent';
import { IdempotencyService, requestHash } from './idempotency.service';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Response headers worth replaying. */
const REPLAYED_HEADERS = ['x-conflux-provider', 'x-conflux-model', 'x-conflux-attempts', 'x-conflux-credits'];

function scopeOf(req: Request): string {
  const p = req.principal;
  if (!p) return 'anonymous';
  return p.kind === 'api_key' ? `project:${p.projectId}` : `user:${p.userId}`;
}

/** The bytes of a multipart upload (multer's `req.file`), part of what the key covers beside the fields. */
function uploadOf(req: Request): Buffer | undefined {
  const buffer = (req as { file?: { buffer?: unknown } }).file?.buffer;
  return Buffer.isBuffer(buffer) ? buffer : undefined;
}

/**
 * `Idempotency-Key` on POSTs: the same key and body within IDEMPOTENCY_TTL_SECONDS
 * replays the stored response (with `Idempotent-Replayed: true`); the same key with
 * another body is 422; a duplicate while the first runs is 409. Never a second
 * upstream call. Streamed responses are not stored: their key stays claimed, so a
 * duplicate gets 409.
 *
 * A guard (after authentication, which scopes the key), not an interceptor: a request
 * without the header costs one header lookup, where Nest's interceptor chain costs
 * ~50 µs of RxJS and async-context plumbing on every request. The JSON answer is caught
 * as it is sent (the gateway's answers leave through res.json, in sendJson, and errors
 * are written by the exception filter): a success is stored before it goes out, so an
 * immediate duplicate already replays; an error gives the key up.
 */
@Injectable()
export class IdempotencyGuard implements CanActivate {
  constructor(private readonly store: IdempotencyService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const raw = req.headers[IDEMPOTENCY_HEADER];
    if (req.method !== 'POST' || typeof raw !== 'string') return true;
    const key = raw.trim();
    if (key.length === 0 || key.length > 255) {
      throw new AppError('validation_failed', 'Idempotency-Key must be 1 to 255 characters');
    }
    const res = context.switchToHttp().getResponse<Response>();
    const scope = scopeOf(req);
    const hash = requestHash(req.method, req.path, req.body, uploadOf(req));
    const claim = await this.store.claim(scope, key, hash);
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
        res.status(claim.response.status).json(claim.response.body);
        throw new ResponseAlreadySent();
      case 'claimed':
        this.captureAnswer(res, scope, key, hash);
        return true;
    }
  }

  private captureAnswer(res: Response, scope: string, key: string, hash: string): void {
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
  }
}
