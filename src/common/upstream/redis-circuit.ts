import type { Logger } from '@nestjs/common';

const RETRY_REDIS_AFTER_MS = 2000;
/** Consecutive timeouts that open the circuit (a refused or closed connection opens it at once). */
const TIMEOUTS_TO_OPEN = 3;

/** A Redis call that got no answer within its bound. */
export class RedisTimeout extends Error {}

/** ioredis's own commandTimeout error. */
const COMMAND_TIMED_OUT = /Command timed out/;

function isTimeout(err: unknown): boolean {
  return err instanceof RedisTimeout || (err instanceof Error && COMMAND_TIMED_OUT.test(err.message));
}

/**
 * Remembers that Redis just failed, so that callers skip it for a while instead of
 * waiting out a timeout per request, and logs only the transitions.
 *
 * A refused, reset or closed connection opens the circuit at once. A timeout opens it
 * only when `timeoutsToOpen` calls in a row time out: a process saturated by its own
 * load sees the odd reply arrive late, and skipping Redis for `retryAfterMs` after one
 * of those would move every decision to the local fallback while Redis is fine. Each
 * timed-out call is still decided locally within its bound.
 */
export class RedisCircuit {
  private degraded = false;
  private skipUntil = 0;
  private timeouts = 0;

  private readonly retryAfterMs: number;
  private readonly timeoutsToOpen: number;

  constructor(
    private readonly logger: Logger,
    private readonly messages: { down: string; up: string },
    options: { retryAfterMs?: number; timeoutsToOpen?: number } = {},
  ) {
    this.retryAfterMs = options.retryAfterMs ?? RETRY_REDIS_AFTER_MS;
    this.timeoutsToOpen = options.timeoutsToOpen ?? TIMEOUTS_TO_OPEN;
  }

  /** True while Redis should not be tried. */
  get open(): boolean {
    return Date.now() < this.skipUntil;
  }

  succeeded(): void {
    this.timeouts = 0;
    if (!this.degraded) return;
    this.degraded = false;
    this.logger.log(this.messages.up);
  }

  failed(err: unknown): void {
    if (isTimeout(err) && !this.degraded) {
      this.timeouts += 1;
      if (this.timeouts < this.timeoutsToOpen) {
        this.logger.debug(`A Redis call timed out (${this.timeouts} in a row): ${String(err)}`);
        return;
      }
    }
    this.timeouts = 0;
    this.skipUntil = Date.now() + this.retryAfterMs;
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(`${this.messages.down}: ${String(err)}`);
  }
}
