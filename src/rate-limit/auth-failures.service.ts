import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { RateLimitStore } from './rate-limit.store';

const WINDOW_MS = 60_000;

/**
 * Failed authentications count per client address, so that guessing keys or
 * tokens is not free: past RATE_LIMIT_PER_MINUTE failures a minute, the answer is
 * 429 instead of 401. (Authenticated traffic is limited by RateLimitGuard.)
 */
@Injectable()
export class AuthFailuresService {
  constructor(
    private readonly store: RateLimitStore,
    private readonly config: AppConfig,
  ) {}

  /** Records a failure; returns the error to answer with (429 once over the limit). */
  async register(clientIp: string, failure: AppError): Promise<AppError> {
    const { hits, resetMs } = await this.store.hit(`authfail:ip:${clientIp}`, WINDOW_MS);
    const limit = this.config.RATE_LIMIT_PER_MINUTE;
    if (hits <= limit) return failure;
    const retryAfter = Math.max(1, Math.ceil(resetMs / 1000));
    return new AppError('rate_limited', `Too many failed authentication attempts: ${limit} per minute`, {
      headers: { 'Retry-After': String(retryAfter) },
      details: { limit, window_seconds: WINDOW_MS / 1000, retry_after_seconds: retryAfter },
    });
  }
}
