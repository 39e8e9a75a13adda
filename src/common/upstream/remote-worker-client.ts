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

/** The last call that reached a worker: whether it answered (a refusal of the request counts), how fast, when. */
export interface WorkerCall {
  ok: boolean;
  latency_ms: number;
  /** ISO 8601. */
  at: string;
}

/** What a module tells of one of its remote workers (status pages): plain values, the URL as an origin only. */
export interface RemoteWorkerInfo {
  id: string;
  /** scheme://host:port of the worker: never credentials, path or query. */
  url: string;
  breaker: BreakerState;
  /** Null until a call has reached the worker. */
  last_call: WorkerCall | null;
}

/** Failures where the worker was not reached or not at fault: not the worker's last call. */
const NOT_A_CALL: ReadonlySet<string> = new Set(['breaker_open', 'aborted', 'deadline_exceeded']);

/** scheme://host:port of a URL ('' when it cannot be parsed). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

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
  private readonly origin: string;
  private last: WorkerCall | null = null;

  constructor(options: RemoteWorkerClientOptions) {
    this.name = options.name;
    this.origin = originOf(options.url);
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

  /** The worker's breaker and last call, as `id`. */
  info(id: string): RemoteWorkerInfo {
    return { id, url: this.origin, breaker: this.state, last_call: this.last };
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
    const started = performance.now();
    return this.endpoint
      .call({ signal, span }, async (control) =>
        parse(await this.endpoint.client.text({ method: 'POST', path, body }, control, BODY_LIMIT)),
      )
      .then(
        (answer) => {
          this.noteCall(true, started);
          return answer;
        },
        (err: unknown) => {
          const errorClass = err instanceof UpstreamError ? err.errorClass : 'internal';
          if (!NOT_A_CALL.has(errorClass)) this.noteCall(errorClass === 'http_4xx', started);
          throw err;
        },
      );
  }

  private noteCall(ok: boolean, started: number): void {
    this.last = { ok, latency_ms: Math.round(performance.now() - started), at: new Date().toISOString() };
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
