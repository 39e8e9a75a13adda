import type { Logger } from '@nestjs/common';
import { type BreakerState, UpstreamBreaker } from './breaker';
import { UpstreamError } from './upstream-error';

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
 * waiting out a timeout per request, and logs only the transitions. The circuit is the
 * one UpstreamBreaker, with Redis's own opening rules instead of an error percentage:
 *
 * A refused, reset or closed connection opens the circuit at once. A timeout opens it
 * only when `timeoutsToOpen` calls in a row time out: a process saturated by its own
 * load sees the odd reply arrive late, and skipping Redis for `retryAfterMs` after one
 * of those would move every decision to the local fallback while Redis is fine. Each
 * timed-out call is still decided locally within its bound. Once `retryAfterMs` has
 * passed, calls try Redis again; the first failure skips it again at once.
 */
export class RedisCircuit {
  private readonly breaker: UpstreamBreaker;
  private degraded = false;
  private timeouts = 0;
  private lastFailure: unknown;

  constructor(
    private readonly logger: Logger,
    private readonly messages: { down: string; up: string },
    options: { retryAfterMs?: number; timeoutsToOpen?: number } = {},
  ) {
    this.breaker = new UpstreamBreaker(
      'redis',
      {
        // Only the policy below opens this circuit, never a percentage.
        error_threshold_percentage: 100,
        volume_threshold: Number.MAX_SAFE_INTEGER,
        reset_timeout_ms: options.retryAfterMs ?? RETRY_REDIS_AFTER_MS,
        rolling_window_ms: 10_000,
      },
      (state) => this.changed(state),
      {
        consecutiveFailuresToOpen: options.timeoutsToOpen ?? TIMEOUTS_TO_OPEN,
        opensAtOnce: (failure) => failure.errorClass !== 'timeout',
      },
    );
  }

  /** True while Redis should not be tried. */
  get open(): boolean {
    return this.breaker.state === 'open';
  }

  succeeded(): void {
    this.timeouts = 0;
    this.breaker.record();
  }

  failed(err: unknown): void {
    this.lastFailure = err;
    const timeout = isTimeout(err);
    this.timeouts = timeout ? this.timeouts + 1 : 0;
    if (timeout && this.breaker.state === 'closed') {
      this.logger.debug(`A Redis call timed out (${this.timeouts} in a row): ${String(err)}`);
    }
    this.breaker.record(new UpstreamError(timeout ? 'timeout' : 'network', String(err), { cause: err }));
  }

  private changed(state: BreakerState): void {
    if (state === 'open') {
      this.timeouts = 0;
      if (this.degraded) return;
      this.degraded = true;
      this.logger.warn(`${this.messages.down}: ${String(this.lastFailure)}`);
    } else if (state === 'closed' && this.degraded) {
      this.degraded = false;
      this.logger.log(this.messages.up);
    }
  }
}
