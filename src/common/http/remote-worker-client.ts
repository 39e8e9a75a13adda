import CircuitBreaker from 'opossum';
import { Pool } from 'undici';

/** Why a remote worker call gave no usable answer (a metrics label, and the fallback reason). */
export type RemoteFailureKind = 'breaker_open' | 'timeout' | 'network' | 'http_5xx' | 'http_4xx' | 'malformed';

export type RemoteBreakerState = 'closed' | 'half_open' | 'open';

export class RemoteCallError extends Error {
  constructor(
    readonly kind: RemoteFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteCallError';
  }
}

export interface RemoteWorkerClientOptions {
  /** Breaker name (logs and opossum's events). */
  readonly name: string;
  /** Base URL; call paths are appended to its path. */
  readonly url: string;
  /** Deadline of one call, connection included; past it the request is aborted. */
  readonly timeoutMs: number;
  /** Sent as a bearer token when set. */
  readonly token?: string;
  readonly breaker: {
    readonly errorThresholdPercentage: number;
    readonly volumeThreshold: number;
    readonly resetTimeoutMs: number;
    readonly rollingWindowMs: number;
  };
  /** Called with every breaker state, starting with 'closed'. */
  readonly onState: (state: RemoteBreakerState) => void;
}

const BODY_LIMIT = 16 * 1024 * 1024;

type Job = (signal: AbortSignal) => Promise<unknown>;

/**
 * A remote HTTP worker (a GPU box running a model) spoken to in JSON, behind its own opossum breaker.
 * Each call has a deadline and a per-call AbortSignal (the request is really aborted when it passes or
 * the caller leaves). Failures, timeouts and answers that `parse` refuses as malformed count against the
 * worker; its refusals of a request (4xx) and callers that went away do not. While the breaker is open,
 * calls fail at once with `breaker_open` and the caller serves its fallback.
 */
export class RemoteWorkerClient {
  private readonly url: URL;
  private readonly pool: Pool;
  private readonly breaker: CircuitBreaker<[Job, AbortSignal | undefined], unknown>;

  constructor(private readonly options: RemoteWorkerClientOptions) {
    this.url = new URL(options.url);
    this.pool = new Pool(this.url.origin, { connect: { timeout: options.timeoutMs }, keepAliveTimeout: 10_000 });
    this.breaker = new CircuitBreaker((job: Job, signal: AbortSignal | undefined) => this.guard(job, signal), {
      name: options.name,
      timeout: false,
      errorThresholdPercentage: options.breaker.errorThresholdPercentage,
      volumeThreshold: options.breaker.volumeThreshold,
      resetTimeout: options.breaker.resetTimeoutMs,
      rollingCountTimeout: options.breaker.rollingWindowMs,
      errorFilter: (error: unknown) => error instanceof RemoteCallError && error.kind === 'http_4xx',
    });
    this.breaker.on('open', () => options.onState('open'));
    this.breaker.on('halfOpen', () => options.onState('half_open'));
    this.breaker.on('close', () => options.onState('closed'));
    options.onState('closed');
  }

  get state(): RemoteBreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half_open';
    return 'closed';
  }

  /**
   * POSTs `body` as JSON to `path` (below the base URL) and returns `parse` of the answer's text.
   * @throws RemoteCallError, always: `parse` should throw one of kind 'malformed' for an unusable answer.
   */
  async post<T>(path: string, body: unknown, parse: (text: string) => T, signal?: AbortSignal): Promise<T> {
    const job = (s: AbortSignal): Promise<T> => this.request(path, body, s).then(parse);
    try {
      return (await this.breaker.fire(job, signal)) as T;
    } catch (error) {
      if (error instanceof RemoteCallError) throw error;
      if (this.breaker.opened || (error as { code?: string }).code === 'EOPENBREAKER') {
        throw new RemoteCallError('breaker_open', 'the remote worker circuit breaker is open');
      }
      throw new RemoteCallError('network', 'the remote worker call failed');
    }
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
    await this.pool.close();
  }

  /** Runs a job with the deadline and maps transport failures. */
  private async guard(job: Job, signal: AbortSignal | undefined): Promise<unknown> {
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
    try {
      return await job(combined);
    } catch (error) {
      if (error instanceof RemoteCallError) throw error;
      if (deadline.aborted) {
        throw new RemoteCallError('timeout', `the remote worker did not answer within ${this.options.timeoutMs} ms`);
      }
      if (signal?.aborted) throw new RemoteCallError('http_4xx', 'the caller went away');
      throw new RemoteCallError('network', `the remote worker is unreachable (${(error as Error).name})`);
    }
  }

  private async request(path: string, body: unknown, signal: AbortSignal): Promise<string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const res = await this.pool.request({
      method: 'POST',
      path: `${this.url.pathname.replace(/\/+$/, '')}${path}`,
      headers,
      body: JSON.stringify(body),
      signal,
    });
    const text = await readLimited(res.body, BODY_LIMIT);
    if (res.statusCode >= 500 || res.statusCode === 429) {
      throw new RemoteCallError('http_5xx', `the remote worker answered ${res.statusCode}`);
    }
    if (res.statusCode >= 400) {
      throw new RemoteCallError('http_4xx', `the remote worker refused the request (${res.statusCode})`);
    }
    return text;
  }
}

async function readLimited(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw new RemoteCallError('malformed', 'the remote worker answer is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a worker answer that must be a JSON object; anything else is 'malformed'. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RemoteCallError('malformed', 'the remote worker answered something that is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RemoteCallError('malformed', 'the remote worker answer is not a JSON object');
  }
  return parsed as Record<string, unknown>;
}
