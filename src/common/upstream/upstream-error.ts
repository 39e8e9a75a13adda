/**
 * Why an upstream call (a provider instance, a remote worker) failed: recorded in the ledger, and
 * the failure label of every upstream metric.
 */
export type UpstreamErrorClass =
  | 'timeout'
  | 'network'
  | 'http_5xx'
  | 'http_429'
  | 'http_4xx'
  /** 401/403: the upstream refused our own credentials (the gateway's fault, never the client's). */
  | 'auth_failed'
  | 'malformed'
  | 'stream_cut'
  /** A stream still running when its deadline passed: cut by the gateway, not the upstream's fault. */
  | 'deadline_exceeded'
  | 'breaker_open'
  | 'aborted';

const NOT_THE_UPSTREAMS_FAULT: ReadonlySet<UpstreamErrorClass> = new Set([
  'http_4xx',
  'aborted',
  'breaker_open',
  'deadline_exceeded',
]);

/**
 * A failed upstream call. `retryable` failures (network, timeout, 429, 5xx, refused
 * credentials, malformed, open breaker) may fall through to the next candidate; a 4xx is the
 * client's fault and is answered as is, never retried, and never counted against a breaker.
 */
export class UpstreamError extends Error {
  constructor(
    readonly errorClass: UpstreamErrorClass,
    message: string,
    readonly options: {
      /** The upstream's HTTP status, when there was one. */
      status?: number;
      retryAfterMs?: number;
      instanceId?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'UpstreamError';
  }

  get status(): number | undefined {
    return this.options.status;
  }

  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }

  /** Worth trying again or elsewhere. */
  get retryable(): boolean {
    return this.errorClass !== 'http_4xx' && this.errorClass !== 'aborted' && this.errorClass !== 'deadline_exceeded';
  }

  /** Counts against the upstream's breaker (the client's own mistakes and our own deadline never do). */
  get countsAgainstUpstream(): boolean {
    return !NOT_THE_UPSTREAMS_FAULT.has(this.errorClass);
  }
}
