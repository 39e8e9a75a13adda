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
    /**
     * The bound expired during a stall of this process (its timer ran 250 ms or a bound
     * late, whichever is longer): the reply may well have been waiting unread, so this
     * says nothing of Redis.
     */
    readonly stalled = false,
  ) {
    super(message);
  }
}

/** ioredis's own commandTimeout error. */
const COMMAND_TIMED_OUT = /Command timed out/;

function isTimeout(err: unknown): boolean {
  return err instanceof RedisTimeout || (err instanceof Error && COMMAND_TIMED_OUT.test(err.message));
}

/** A timer this late (or one bound late, if longer) shows this process stalled, not merely busy. */
const STALL_MS = 250;

/** True when a call bounded by `ms` and sent at `sentAt` ends a stall's length after its due time. */
function overran(sentAt: number, ms: number): boolean {
  return performance.now() - sentAt > ms + Math.max(ms, STALL_MS);
}

/**
 * The error of a Redis call sent at `sentAt` with the bound `ms`: ioredis's own
 * commandTimeout becomes a RedisTimeout that knows when its call was sent and whether
 * this process was stalled meanwhile (after a stall both bounds expire in the same turn
 * of the loop and ioredis's may reject first).
 */
export function asRedisError(err: unknown, sentAt: number, ms: number): Error {
  if (err instanceof RedisTimeout) return err;
  if (err instanceof Error && COMMAND_TIMED_OUT.test(err.message))
    return new RedisTimeout(err.message, sentAt, undefined, overran(sentAt, ms));
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Rejects with a RedisTimeout after `ms`, but only after the event loop has read pending
 * I/O: a reply that arrived while the loop was busy still wins over a timer that fired late.
 */
export function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  const sentAt = performance.now();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        setImmediate(() =>
          reject(new RedisTimeout(`Redis did not answer within ${ms} ms`, sentAt, promise, overran(sentAt, ms))),
        ),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(asRedisError(err, sentAt, ms));
      },
    );
  });
}

/**
 * Decides when timeouts show that Redis has gone silent, not merely slow: `needed`
 * timeouts in a row, each of a call sent after the previous counted one had already
 * timed out (calls sent together during a burst, or waiting together through a stall
 * of this process, are one piece of evidence, not many), with no reply at all heard
 * in between (`reset()`): a late reply to a timed-out call proves Redis alive. A bound
 * that expired while this process itself was stalled (its timer ran 250 ms late or
 * more: a long GC pause, a starved CPU) ends the run too: the late replies that would
 * have ended it may have been dropped unread when ioredis's own timeout fired first.
 */
export class SilenceEvidence {
  private timeouts = 0;
  /** When the last counted timeout of the current run fired (performance.now()). */
  private lastCountedAt = 0;

  constructor(private readonly needed = TIMEOUTS_TO_OPEN) {}

  /** Redis answered something. */
  reset(): void {
    this.timeouts = 0;
  }

  /**
   * Counts a failed call: true when it shows Redis silent (a timeout that completes the
   * run) or gone (any other error: refused, reset or closed connection).
   */
  shows(err: unknown): boolean {
    if (!isTimeout(err)) {
      this.timeouts = 0;
      return true;
    }
    if (err instanceof RedisTimeout && err.stalled) {
      // Replies to the run's calls may have been dropped unread during the stall: the run proves nothing.
      this.timeouts = 0;
      return false;
    }
    const sentAt = err instanceof RedisTimeout ? err.sentAt : undefined;
    // A call sent before the previous counted timeout fired says nothing new about Redis.
    if (this.timeouts > 0 && sentAt !== undefined && sentAt < this.lastCountedAt) return false;
    this.timeouts += 1;
    this.lastCountedAt = performance.now();
    if (this.timeouts < this.needed) return false;
    this.timeouts = 0;
    return true;
  }

  /** Timeouts counted in the current run. */
  get run(): number {
    return this.timeouts;
  }
}

/**
 * Remembers that Redis just failed, so that callers skip it for a while instead of
 * waiting out a timeout per request, and logs only the transitions. The circuit is the
 * one UpstreamBreaker, with Redis's own opening rules instead of an error percentage:
 * a refused, reset or closed connection opens it at once, timeouts only when they show
 * Redis silent (SilenceEvidence). So a frozen Redis is skipped after about
 * `timeoutsToOpen` bounds, whatever the load, while a burst of slow answers (after a
 * stall of this process, or of Redis under a spike) never opens it. Each timed-out call
 * is still decided locally within its bound. Once `retryAfterMs` has passed, calls try
 * Redis again; the first failure skips it again at once.
 */
export class RedisCircuit {
  private readonly breaker: UpstreamBreaker;
  private degraded = false;
  private readonly evidence: SilenceEvidence;
  private lastFailure: unknown;

  constructor(
    private readonly logger: Logger,
    private readonly messages: { down: string; up: string },
    options: { retryAfterMs?: number; timeoutsToOpen?: number } = {},
  ) {
    this.evidence = new SilenceEvidence(options.timeoutsToOpen ?? TIMEOUTS_TO_OPEN);
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
    this.evidence.reset();
    this.breaker.record();
  }

  failed(err: unknown): void {
    this.lastFailure = err;
    if (err instanceof RedisTimeout)
      err.reply?.then(
        () => this.succeeded(),
        () => undefined,
      );
    if (isTimeout(err) && this.breaker.state !== 'closed') {
      // A trial call that timed out: skip Redis again.
      this.breaker.record(new UpstreamError('timeout', String(err), { cause: err }));
      return;
    }
    if (this.evidence.shows(err)) {
      this.breaker.record(new UpstreamError(isTimeout(err) ? 'timeout' : 'network', String(err), { cause: err }));
    } else {
      this.logger.debug(`A Redis call timed out (${this.evidence.run} in a row): ${String(err)}`);
    }
  }

  /** Stops the breaker's rolling-window timer (at shutdown; the circuit then stays closed and records nothing). */
  close(): void {
    this.breaker.shutdown();
  }

  private changed(state: BreakerState): void {
    if (state === 'open') {
      this.evidence.reset();
      if (this.degraded) return;
      this.degraded = true;
      this.logger.warn(`${this.messages.down}: ${String(this.lastFailure)}`);
    } else if (state === 'closed' && this.degraded) {
      this.degraded = false;
      this.logger.log(this.messages.up);
    }
  }
}
