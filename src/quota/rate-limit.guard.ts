import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { ThrottlerLimitDetail } from '@nestjs/throttler/dist/throttler.guard.interface';
import type { Request } from 'express';
import { AppError } from '../common/errors/app-error';

/**
 * Global rate limit per API key, else per user, else per client IP. Runs after
 * authentication so that the caller is known. 429 carries Retry-After.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as Request;
    const principal = request.principal;
    if (principal?.kind === 'api_key') return Promise.resolve(`key:${principal.keyId}`);
    if (principal?.kind === 'user') return Promise.resolve(`user:${principal.userId}`);
    return Promise.resolve(`ip:${request.ip ?? 'unknown'}`);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const retryAfter = Math.max(1, detail.timeToBlockExpire);
    throw new AppError('rate_limited', `Rate limit exceeded: ${detail.limit} requests per ${detail.ttl / 1000} s`, {
      headers: { 'Retry-After': String(retryAfter) },
      details: { limit: detail.limit, window_seconds: detail.ttl / 1000, retry_after_seconds: retryAfter },
    });
  }
}
