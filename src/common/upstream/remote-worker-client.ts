import { tracingOn } from '../tracing/tracing';
import type { BreakerSettings, BreakerState } from './breaker';
import { UpstreamEndpoint } from './upstream-endpoint';
import { UpstreamError } from './upstream-error';

export interface RemoteWorkerClientOptions {
  /** Breaker name (logs and opossum's events). */
  readonly name: string;
  /** Base URL; call paths are appended to its path. */
  readonly url: string;
  /** Deadline of one call, connection included; past it the request is aborted. */
  readonly timeoutMs: number;
  /** Sent as a bearer token when set. */
  readonly token?: string;
  readonly breaker: BreakerSettings;
  /** Called with every breaker state, starting with 'closed'. */
  readonly onState: (state: BreakerState) => void;
}

const BODY_LIMIT = 16 * 1024 * 1024;

/**
 * A remote HTTP worker (a GPU box running a model) spoken to in JSON, through its own UpstreamEndpoint:
 * each call has a deadline and follows the caller's signal (the request is really aborted when either
 * fires). Failures, timeouts and answers that `parse` refuses as malformed count against the worker's
 * breaker; its refusals of a request (4xx) and callers that went away do not. While the breaker is
 * open, calls fail at once with 'breaker_open' and the caller serves its fallback. Never retried.
 */
export class RemoteWorkerClient {
  private readonly endpoint: UpstreamEndpoint;
  private readonly name: string;

  constructor(options: RemoteWorkerClientOptions) {
    this.name = options.name;
    this.endpoint = new UpstreamEndpoint({
      name: options.name,
      subject: 'the remote worker',
      baseUrl: options.url,
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      secrets: options.token ? [options.token] : [],
      timeoutMs: options.timeoutMs,
      breaker: options.breaker,
      onState: options.onState,
    });
  }

  get state(): BreakerState {
    return this.endpoint.state;
  }

  /**
   * POSTs `body` as JSON to `path` (below the base URL) and returns `parse` of the answer's text.
   * With tracing on, the call has its CLIENT span `{name} {path}`, parent of the HTTP span.
   * @throws UpstreamError, always: `parse` should throw one of class 'malformed' for an unusable answer.
   */
  post<T>(path: string, body: unknown, parse: (text: string) => T, signal?: AbortSignal): Promise<T> {
    const span = tracingOn()
      ? { name: `${this.name} ${path}`, attributes: { 'conflux.instance': this.name } }
      : undefined;
    return this.endpoint.call({ signal, span }, async (control) =>
      parse(await this.endpoint.client.text({ method: 'POST', path, body }, control, BODY_LIMIT)),
    );
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }
}

/** Parses a worker answer that must be a JSON object; anything else is 'malformed'. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UpstreamError('malformed', 'the remote worker answered something that is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UpstreamError('malformed', 'the remote worker answer is not a JSON object');
  }
  return parsed as Record<string, unknown>;
}
