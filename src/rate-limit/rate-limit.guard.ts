import { ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { AppError } from '../common/errors/app-error';
import { RateLimitStore } from './rate-limit.store';

const NO_RATE_LIMIT = 'conflux:no-rate-limit';

/** Exempts probes and scrapes from the global rate limits (every window). */
export const NoRateLimit = (): MethodDecorator & ClassDecorator => SetMetadata(NO_RATE_LIMIT, true);

/**
 * Global rate limit per API key, else per user, else per client IP. Runs after
 * authentication so that the caller is known. 429 carries Retry-After.
 *
 * The windows (minute, hour) come from ThrottlerModule, routes opt out with
 * @NoRateLimit and answers carry the usual X-RateLimit-{Limit,Remaining,Reset}-<window>
 * headers, but every window of a request is counted in one round trip to the store,
 * where ThrottlerGuard makes one per window, one after the other. So a request refused
 * by one window still counts in the others. (So ThrottlerGuard's own storage, the
 * module's default, is never used.) A busy caller's hits are counted from this instance's
 * shares of its counters, without a round trip (see RateShares).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly store: RateLimitStore,
  ) {
    super(options, storage, reflector);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(NO_RATE_LIMIT, targets)) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const tracker = await this.getTracker(req as unknown as Record<string, unknown>);
    const windows = this.throttlers.map((t) => ({
      key: this.generateKey(context, tracker, t.name ?? 'default'),
      windowMs: Number(t.ttl),
      limit: Number(t.limit),
    }));
    const states = await this.store.hitAll(windows);
    const res = context.switchToHttp().getResponse<Response>();
    for (const [i, throttler] of this.throttlers.entries()) {
      const limit = Number(throttler.limit);
      const { hits, resetMs } = states[i];
      const seconds = Math.max(1, Math.ceil(resetMs / 1000));
      const suffix = throttler.name === 'default' ? '' : `-${throttler.name}`;
      if (hits > limit) {
        res.setHeader(`Retry-After${suffix}`, seconds);
        throw limitError(limit, windows[i].windowMs, seconds);
      }
      res.setHeader(`${this.headerPrefix}-Limit${suffix}`, limit);
      res.setHeader(`${this.headerPrefix}-Remaining${suffix}`, Math.max(0, limit - hits));
      res.setHeader(`${this.headerPrefix}-Reset${suffix}`, seconds);
    }
    return true;
  }

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
}

function limitError(limit: number, windowMs: number, retryAfter: number): AppError {
  return new AppError('rate_limited', `Rate limit exceeded: ${limit} requests per ${windowMs / 1000} s`, {
    headers: { 'Retry-After': String(retryAfter) },
    details: { limit, window_seconds: windowMs / 1000, retry_after_seconds: retryAfter },
  });
}
