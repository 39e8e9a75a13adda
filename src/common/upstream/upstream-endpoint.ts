import type { Attributes } from '@opentelemetry/api';
import { endSpan, startClientSpan } from '../tracing/tracing';
import { type BreakerPass, type BreakerSettings, type BreakerState, UpstreamBreaker } from './breaker';
import { type CallOptions, CallControl } from './call-control';
import { type RetrySettings, withRetries } from './retry';
import { type ProbeAnswer, UpstreamClient, type UpstreamClientOptions, type UpstreamRequest } from './upstream-client';
import { UpstreamError, type UpstreamErrorClass } from './upstream-error';

/** Connecting never takes longer than this, whatever the attempt's timeout. */
const CONNECT_TIMEOUT_MS = 10_000;

/** What one attempt came to: the outcome label of the upstream metrics. */
export type AttemptOutcome = 'success' | UpstreamErrorClass;

/** Told once per attempt: its outcome, and its duration when it was admitted. */
export type AttemptRecorder = (outcome: AttemptOutcome, seconds?: number) => void;

export interface RetryPolicy {
  settings: RetrySettings;
  /** Without a deadline, a Retry-After longer than this is not waited for. */
  maxRetryAfterMs: number;
  /** Called before each retry (for the retries metric). */
  onRetry?: () => void;
  /** Jitter source (tests make backoff deterministic). */
  random?: () => number;
}

export interface UpstreamEndpointOptions extends Omit<UpstreamClientOptions, 'connectTimeoutMs'> {
  /** Breaker name (logs and opossum's events). */
  name: string;
  /** Bound of one attempt: up to its answer, and for a stream every gap between chunks. */
  timeoutMs: number;
  breaker: BreakerSettings;
  /** Without one, every call is a single attempt. */
  retry?: RetryPolicy;
  /** Called with every breaker state, starting with 'closed'. */
  onState: (state: BreakerState) => void;
}

/** One attempt: admitted by the breaker, bounded by its own CallControl, ended exactly once. */
export interface Attempt {
  readonly control: CallControl;
  /** Ends the attempt as a success: settles the breaker, records the outcome. */
  succeed(): Promise<void>;
  /** Ends the attempt as a failure; returns the failure as an UpstreamError, to throw. */
  fail(error: unknown): Promise<UpstreamError>;
}

/**
 * One upstream (a provider instance, a remote worker) with everything a call to it goes through:
 * its transport, its breaker, the retry policy and the bookkeeping of every attempt (timeout,
 * caller's signal and deadline, breaker outcome, metrics).
 */
export class UpstreamEndpoint {
  readonly client: UpstreamClient;
  private readonly breaker: UpstreamBreaker;
  /** `server.address` and `server.port` of every attempt's span. */
  private readonly server: Attributes;

  constructor(private readonly options: UpstreamEndpointOptions) {
    const url = new URL(options.baseUrl);
    this.server = {
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    };
    this.client = new UpstreamClient({
      ...options,
      connectTimeoutMs: Math.min(options.timeoutMs, CONNECT_TIMEOUT_MS),
    });
    this.breaker = new UpstreamBreaker(options.name, options.breaker, options.onState);
    options.onState('closed');
  }

  get state(): BreakerState {
    return this.breaker.state;
  }

  /** Runs `attempt` under the retry policy (once without one). */
  retrying<T>(opts: CallOptions, attempt: () => Promise<T>): Promise<T> {
    const retry = this.options.retry;
    if (!retry) return attempt();
    return withRetries(
      retry.settings,
      opts,
      { onRetry: retry.onRetry, random: retry.random, maxRetryAfterMs: retry.maxRetryAfterMs },
      attempt,
    );
  }

  /** One attempt that is over when `run` is: its result is the success, what it throws the failure. */
  async call<T>(opts: CallOptions, run: (control: CallControl) => Promise<T>, record?: AttemptRecorder): Promise<T> {
    const attempt = this.begin(opts, record);
    try {
      const result = await run(attempt.control);
      await attempt.succeed();
      return result;
    } catch (err) {
      throw await attempt.fail(err);
    }
  }

  /**
   * Starts an attempt that ends when its owner says so (a stream: at its end). With `opts.span` (tracing
   * on) the attempt has its CLIENT span, ended with the attempt: in error with the failure's class.
   * @throws UpstreamError 'timeout' when the deadline already passed, 'breaker_open' when not admitted.
   */
  begin(opts: CallOptions, record?: AttemptRecorder): Attempt {
    const now = Date.now();
    if (opts.deadline !== undefined && opts.deadline <= now) {
      throw new UpstreamError('timeout', 'the deadline passed before the call');
    }
    let pass: BreakerPass;
    try {
      pass = this.breaker.admit();
    } catch (err) {
      record?.('breaker_open');
      endSpan(this.startSpan(opts), 'breaker_open');
      throw err;
    }
    const control = new CallControl(opts.signal, this.options.timeoutMs, this.options.subject, opts.deadline);
    control.span = this.startSpan(opts);
    const started = performance.now();
    let ended: Promise<UpstreamError | undefined> | undefined;
    const end = async (failure?: UpstreamError): Promise<UpstreamError | undefined> => {
      if (failure) control.abort('cancelled'); // releases anything still attached to the request
      control.dispose();
      record?.(failure?.errorClass ?? 'success', (performance.now() - started) / 1000);
      endSpan(control.span, failure?.errorClass);
      await pass.settle(failure);
      return failure;
    };
    return {
      control,
      succeed: async () => {
        await (ended ??= end());
      },
      // A second end keeps the first outcome (the breaker and the metrics count an attempt once).
      fail: async (error: unknown) => {
        const failure = control.failure(error);
        return (await (ended ??= end(failure))) ?? failure;
      },
    };
  }

  private startSpan(opts: CallOptions) {
    if (opts.span === undefined) return undefined;
    return startClientSpan({ name: opts.span.name, attributes: { ...opts.span.attributes, ...this.server } });
  }

  /** A status probe within the endpoint's timeout: any HTTP answer is returned; no retry, no breaker. */
  async probe(req: UpstreamRequest, signal?: AbortSignal): Promise<ProbeAnswer> {
    const control = new CallControl(signal, this.options.timeoutMs, this.options.subject);
    try {
      return await this.client.probe(req, control);
    } finally {
      control.dispose();
    }
  }

  /** Stops the breaker and closes the connections. */
  async close(): Promise<void> {
    this.breaker.shutdown();
    await this.client.close();
  }
}
