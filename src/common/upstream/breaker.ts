import CircuitBreaker from 'opossum';
import { UpstreamError } from './upstream-error';

export type BreakerState = 'closed' | 'half_open' | 'open';

/** A breaker state as the value of a breaker-state gauge. */
export const BREAKER_GAUGE: Readonly<Record<BreakerState, number>> = { closed: 0, half_open: 1, open: 2 };

/** When a breaker opens and for how long (the shape of a breaker's settings in the configuration). */
export interface BreakerSettings {
  /** Percentage of failed calls in the rolling window that opens the breaker. */
  error_threshold_percentage: number;
  /** How long the breaker stays open before a half-open trial call. */
  reset_timeout_ms: number;
  /** Calls needed in the window before the breaker may open. */
  volume_threshold: number;
  /** Length of the rolling statistics window. */
  rolling_window_ms: number;
}

/**
 * Opening rules besides opossum's error percentage, for upstreams whose failures say more
 * than a rate does (Redis: a refused connection is an outage, three timeouts in a row too).
 */
export interface BreakerPolicy {
  /** Counted failures in a row that open the breaker, whatever the window's percentage. */
  consecutiveFailuresToOpen?: number;
  /** Failures that open the breaker at once. */
  opensAtOnce?: (failure: UpstreamError) => boolean;
}

type Outcome = { ok: true } | { ok: false; error: UpstreamError };

/** Failures that say nothing about the upstream's health (the client's 4xx, an abandoned call). */
export function isNeutral(error: unknown): boolean {
  return error instanceof UpstreamError && !error.countsAgainstUpstream;
}

/** One admitted call; settle it exactly once, when it is over (for a stream: when the stream ends). */
export interface BreakerPass {
  settle(failure?: UpstreamError): Promise<void>;
}

/**
 * One opossum circuit per upstream (a provider instance, a remote worker), fed with outcomes rather
 * than wrapping the call:
 *
 * - Opossum decides when to open (error percentage over the rolling window, volume threshold)
 *   and when to go half-open (reset timer). Its own timeout is off (the transport bounds calls)
 *   and its shared abortController is never used (each call has its own signal).
 * - A call is admitted here (`admit`) and its outcome reported when it is over, so a stream is
 *   one call that settles at its end, not at its first byte.
 * - Neutral failures (4xx, aborted) go through opossum's errorFilter and count as successes while
 *   closed. Opossum 9 closes a half-open circuit on any 'success', filtered errors included, and
 *   opens it on any failure; so while half-open a neutral outcome is not reported at all: the
 *   circuit stays half-open and the next call is the trial.
 * - While half-open exactly one trial call is admitted at a time; the others fail fast.
 * - An optional BreakerPolicy opens it sooner: after failures in a row, or at once.
 * - Callers that keep their own fallback may instead read `state` and `record` each outcome
 *   (no trial limit: while half-open every call is a trial, the first failure reopens it).
 */
export class UpstreamBreaker {
  private readonly circuit: CircuitBreaker<[Outcome], void>;
  private trialInFlight = false;
  private failuresInARow = 0;

  constructor(
    name: string,
    settings: BreakerSettings,
    onStateChange: (state: BreakerState) => void,
    private readonly policy: BreakerPolicy = {},
  ) {
    this.circuit = new CircuitBreaker<[Outcome], void>(
      (outcome) => (outcome.ok ? Promise.resolve() : Promise.reject(outcome.error)),
      {
        name,
        timeout: false,
        errorThresholdPercentage: settings.error_threshold_percentage,
        resetTimeout: settings.reset_timeout_ms,
        volumeThreshold: settings.volume_threshold,
        rollingCountTimeout: settings.rolling_window_ms,
        errorFilter: (error: unknown) => isNeutral(error),
      },
    );
    this.circuit.on('open', () => onStateChange('open'));
    this.circuit.on('halfOpen', () => onStateChange('half_open'));
    this.circuit.on('close', () => onStateChange('closed'));
  }

  get state(): BreakerState {
    if (this.circuit.opened) return 'open';
    if (this.circuit.halfOpen) return 'half_open';
    return 'closed';
  }

  /** Lets a call through, or throws UpstreamError('breaker_open'). */
  admit(): BreakerPass {
    if (this.circuit.closed) return this.pass(false);
    if (this.circuit.halfOpen && !this.trialInFlight) {
      this.trialInFlight = true;
      return this.pass(true);
    }
    throw new UpstreamError('breaker_open', 'the circuit breaker is open: failing fast');
  }

  /** Reports the outcome of a call made without a pass (the caller checked `state` itself). */
  record(failure?: UpstreamError): void {
    void this.report(failure === undefined ? { ok: true } : { ok: false, error: failure });
  }

  shutdown(): void {
    this.circuit.shutdown();
  }

  private pass(trial: boolean): BreakerPass {
    let settled = false;
    return {
      settle: async (failure?: UpstreamError) => {
        if (settled) return;
        settled = true;
        if (trial) this.trialInFlight = false;
        await this.report(failure === undefined ? { ok: true } : { ok: false, error: failure });
      },
    };
  }

  private async report(outcome: Outcome): Promise<void> {
    if (!outcome.ok && isNeutral(outcome.error) && !this.circuit.closed) return;
    if (this.circuit.isShutdown) return;
    this.applyPolicy(outcome);
    // Rejected when the circuit opened meanwhile, or with the reported failure itself: nothing to do.
    await this.circuit.fire(outcome).catch(() => undefined);
  }

  /** Opens the circuit at once when the policy says so (before opossum hears of the outcome). */
  private applyPolicy(outcome: Outcome): void {
    if (outcome.ok || isNeutral(outcome.error)) {
      this.failuresInARow = 0;
      return;
    }
    this.failuresInARow += 1;
    const { consecutiveFailuresToOpen, opensAtOnce } = this.policy;
    const tooMany = consecutiveFailuresToOpen !== undefined && this.failuresInARow >= consecutiveFailuresToOpen;
    if (this.circuit.closed && (tooMany || opensAtOnce?.(outcome.error) === true)) {
      this.failuresInARow = 0;
      this.circuit.open();
    }
  }
}
