import type { Logger } from '@nestjs/common';

const RETRY_REDIS_AFTER_MS = 2000;

/**
 * Remembers that Redis just failed, so that callers skip it for a while instead of
 * waiting out a timeout per request, and logs only the transitions.
 */
export class RedisCircuit {
  private degraded = false;
  private skipUntil = 0;

  constructor(
    private readonly logger: Logger,
    private readonly messages: { down: string; up: string },
    private readonly retryAfterMs = RETRY_REDIS_AFTER_MS,
  ) {}

  /** True while Redis should not be tried. */
  get open(): boolean {
    return Date.now() < this.skipUntil;
  }

  succeeded(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.logger.log(this.messages.up);
  }

  failed(err: unknown): void {
    this.skipUntil = Date.now() + this.retryAfterMs;
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(`${this.messages.down}: ${String(err)}`);
  }
}
