import CircuitBreaker from 'opossum';
import type { BreakerSettings } from '../../config/breaker-settings';
import type { BreakerState } from '../dto/provider-info';
import { UpstreamError } from '../dto/upstream-error';

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
 * One opossum circuit per upstream instance, fed with outcomes rather than wrapping the call:
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
 */
export class InstanceBreaker {
  private readonly circuit: CircuitBreaker<[Outcome], void>;
  private trialInFlight = false;

  constructor(name: string, settings: BreakerSettings, onStateChange: (state: BreakerState) => void) {
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
    // Rejected when the circuit opened meanwhile, or with the reported failure itself: nothing to do.
    await this.circuit.fire(outcome).catch(() => undefined);
  }
}
