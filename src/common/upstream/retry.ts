import { setTimeout as sleep } from 'node:timers/promises';
import type { CallOptions } from './call-control';
import { UpstreamError } from './upstream-error';

/** How often and how patiently a call is retried (the shape of retry settings in the configuration). */
export interface RetrySettings {
  /** Attempts on the same upstream, the first included. */
  max_attempts: number;
  base_delay_ms: number;
  max_delay_ms: number;
}

/** Failures worth another attempt on the same upstream. */
export function isRetryable(error: UpstreamError): boolean {
  switch (error.errorClass) {
    case 'network':
    case 'timeout':
    case 'http_429':
    case 'http_5xx':
    case 'malformed':
      return true;
    case 'http_4xx':
    case 'auth_failed': // the same credentials would be refused again
    case 'deadline_exceeded':
    case 'aborted':
    case 'breaker_open':
    case 'stream_cut':
      return false;
  }
}

/** Exponential backoff with full jitter: uniform in [0, min(max_delay, base · 2^retry)). */
export function backoffDelay(retry: number, settings: RetrySettings, random: () => number = Math.random): number {
  const ceiling = Math.min(settings.max_delay_ms, settings.base_delay_ms * 2 ** retry);
  return Math.floor(random() * ceiling);
}

export interface RetryHooks {
  /** Called before each retry (for the retries metric). */
  onRetry?: (error: UpstreamError, delayMs: number) => void;
  random?: () => number;
  /** Without a deadline, a Retry-After longer than this is not waited for. */
  maxRetryAfterMs: number;
}

function aborted(): UpstreamError {
  return new UpstreamError('aborted', 'the caller aborted the call');
}

/**
 * Runs `attempt` up to `max_attempts` times: only after retryable failures, waiting the backoff
 * or at least the upstream's Retry-After, and never past the caller's deadline (then the last
 * failure is thrown at once) nor after the caller's signal fired.
 */
export async function withRetries<T>(
  settings: RetrySettings,
  options: CallOptions,
  hooks: RetryHooks,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let n = 0; ; n++) {
    if (options.signal?.aborted) throw aborted();
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof UpstreamError) || !isRetryable(err) || n + 1 >= settings.max_attempts) throw err;
      const delay = retryDelay(err, n, settings, options, hooks);
      if (delay === undefined) throw err;
      hooks.onRetry?.(err, delay);
      await sleep(delay, undefined, { signal: options.signal }).catch(() => {
        throw aborted();
      });
    }
  }
}

/** How long to wait before retry n+1, or undefined to give up. */
function retryDelay(
  error: UpstreamError,
  n: number,
  settings: RetrySettings,
  options: CallOptions,
  hooks: RetryHooks,
): number | undefined {
  const retryAfter = error.retryAfterMs ?? 0;
  const delay = Math.max(backoffDelay(n, settings, hooks.random), retryAfter);
  if (options.deadline !== undefined) return Date.now() + delay >= options.deadline ? undefined : delay;
  return retryAfter > hooks.maxRetryAfterMs ? undefined : delay;
}
