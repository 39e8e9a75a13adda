import type { Logger } from '@nestjs/common';
import { type BreakerState, UpstreamBreaker } from './breaker';
import { UpstreamError } from './upstream-error';

const RETRY_REDIS_AFTER_MS = 2000;
/** Consecutive timeouts that open the circuit (a refused or closed connection opens it at once). */
const TIMEOUTS_TO_OPEN = 3;

/** A Redis call that got no answer within its bound. */
export class RedisTimeout extends Error {
  constructor(
    message: string,
    /** When the call was sent (performance.now()), if known. */
    readonly sentAt?: number,
    /** The call itself, still pending: when it answers after all, Redis was slow, not gone. */
    readonly reply?: Promise<unknown>,
  ) {
    super(message);
  }
}

/** ioredis's own commandTimeout error. */
const COMMAND_TIMED_OUT = /Command timed out/;

function isTimeout(err: unknown): boolean {
  return err instanceof RedisTimeout || (err instanceof Error && COMMAND_TIMED_OUT.test(err.message));
}

/**
 * Rejects with a RedisTimeout after `ms`, but only after the event loop has read pending
 * I/O: a reply that arrived while the loop was busy still wins over a timer that fired late.
 */
export function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  const sentAt = performance.now();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => setImmediate(() => reject(new RedisTimeout(`Redis did not answer within ${ms} ms`, sentAt, promise))),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/**
 * Remembers that Redis just failed, so that callers skip it for a while instead of
 * waiting out a timeout per request, and logs only the transitions. The circuit is the
 * one UpstreamBreaker, with Redis's own opening rules instead of an error percentage:
 *
 * A refused, reset or closed connection opens the circuit at once. Timeouts open it only
 * when they show that Redis has gone silent, not merely slow: `timeoutsToOpen` timeouts
 * in a row, each of a call sent after the previous counted one had already timed out
 * (calls sent together during a burst are one piece of evidence, not many), with no
 * reply at all heard in between: a late reply to a timed-out call proves Redis alive
 * and ends the run. So a frozen Redis is skipped after about `timeoutsToOpen` bounds,
 * whatever the load, while a burst of slow answers (after a stall of this process, or
 * of Redis under a spike) never opens it. Each timed-out call is still decided locally
 * within its bound. Once `retryAfterMs` has passed, calls try Redis again; the first
 * failure skips it again at once.
 */
export class RedisCircuit {
  private readonly breaker: UpstreamBreaker;
  private degraded = false;
  private timeouts = 0;
  /** When the last counted timeout of the current run fired (performance.now()). */
  private lastCountedAt = 0;
  private readonly timeoutsToOpen: number;
  private lastFailure: unknown;

  constructor(
    private readonly logger: Logger,
    private readonly messages: { down: string; up: string },
    options: { retryAfterMs?: number; timeoutsToOpen?: number } = {},
  ) {
    this.timeoutsToOpen = options.timeoutsToOpen ?? TIMEOUTS_TO_OPEN;
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
      // Only failures that show an outage are recorded (see failed()): each opens it.
      { opensAtOnce: () => true },
    );
  }

  /** True while Redis should not be tried. */
  get open(): boolean {
    return this.breaker.state === 'open';
  }

  /** Redis answered (in time, or late: it is alive either way). */
  succeeded(): void {
    this.timeouts = 0;
    this.breaker.record();
  }

  failed(err: unknown): void {
    this.lastFailure = err;
    if (!isTimeout(err)) {
      this.timeouts = 0;
      this.breaker.record(new UpstreamError('network', String(err), { cause: err }));
      return;
    }
    if (err instanceof RedisTimeout)
      err.reply?.then(
        () => this.succeeded(),
        () => undefined,
      );
    if (this.breaker.state !== 'closed') {
      // A trial call that timed out: skip Redis again.
      this.breaker.record(new UpstreamError('timeout', String(err), { cause: err }));
      return;
    }
    const sentAt = err instanceof RedisTimeout ? err.sentAt : undefined;
    // A call sent before the previous counted timeout fired says nothing new about Redis.
    if (this.timeouts > 0 && sentAt !== undefined && sentAt < this.lastCountedAt) return;
    this.timeouts += 1;
    this.lastCountedAt = performance.now();
    this.logger.debug(`A Redis call timed out (${this.timeouts} in a row): ${String(err)}`);
    if (this.timeouts >= this.timeoutsToOpen) {
      this.breaker.record(new UpstreamError('timeout', String(err), { cause: err }));
    }
  }

  /** Stops the breaker's rolling-window timer (at shutdown; the circuit then stays closed and records nothing). */
  close(): void {
    this.breaker.shutdown();
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
