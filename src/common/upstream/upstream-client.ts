import type { IncomingHttpHeaders } from 'node:http';
import { type Dispatcher, Pool } from 'undici';
import { withSpan } from '../tracing/tracing';
import type { CallControl } from './call-control';
import { httpError } from './http-errors';
import { UpstreamError } from './upstream-error';

type ResponseBody = Dispatcher.ResponseData['body'];

const ERROR_BODY_LIMIT = 64 * 1024;
const PROBE_BODY_LIMIT = 1024 * 1024;
const CLOSE_GRACE_MS = 1_000;
/** What is left of a stream after its end marker is read away (for keep-alive) within these bounds. */
const DRAIN_LIMIT = 64 * 1024;
const DRAIN_TIMEOUT_MS = 1_000;

/** One HTTP exchange, its path relative to the API root. */
export interface UpstreamRequest {
  method: 'GET' | 'POST';
  path: string;
  /** Sent as JSON. */
  body?: unknown;
}

export interface UpstreamClientOptions {
  /** The declared base URL: origin plus optional path prefix. */
  baseUrl: string;
  /** Maps the base URL's path to the API root the request paths are relative to (default: itself). */
  apiRoot?: (basePath: string) => string;
  /** Sent with every request (authentication, API version). */
  headers: Record<string, string>;
  /** Values that must never appear in error messages. */
  secrets: string[];
  /** The human message inside the upstream's error bodies, if it has one. */
  errorMessage?: (body: unknown) => string | undefined;
  /** Names the upstream in failure messages ("the upstream", "the remote worker"). */
  subject: string;
  connectTimeoutMs: number;
}

export interface ProbeAnswer {
  status: number;
  body: unknown;
}

/**
 * HTTP to one upstream (a provider instance of any kind, a remote worker): a keep-alive undici
 * Pool, JSON bodies, streamed bodies with an idle timeout, and every failure turned into an
 * UpstreamError. Each call is bounded and aborted through its CallControl.
 */
export class UpstreamClient {
  private readonly pool: Pool;
  private readonly root: string;

  constructor(private readonly options: UpstreamClientOptions) {
    const url = new URL(options.baseUrl);
    const basePath = url.pathname.replace(/\/+$/, '');
    this.root = options.apiRoot ? options.apiRoot(basePath) : basePath;
    this.pool = new Pool(url.origin, {
      connect: { timeout: options.connectTimeoutMs },
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
    });
  }

  /**
   * A JSON exchange answered by the text of a 2xx body; the whole of it (head and body) within the
   * control's timeout. A body longer than `limit` bytes is 'malformed'.
   */
  async text(req: UpstreamRequest, control: CallControl, limit = Infinity): Promise<string> {
    control.arm();
    try {
      const res = await this.send(req, control, 'application/json');
      if (!isSuccess(res.statusCode)) throw await this.httpFailure(res.statusCode, res.headers, res.body);
      const body = await readLimited(res.body, limit);
      if (body.truncated) {
        throw new UpstreamError('malformed', `${this.options.subject} answered more than ${limit} bytes`);
      }
      return body.text;
    } catch (err) {
      throw control.failure(err);
    }
  }

  /**
   * Opens a streamed exchange: resolves once a 2xx head arrived, with the body as text chunks.
   * The control's timeout bounds the wait for the head and then every gap between chunks.
   */
  async stream(req: UpstreamRequest, control: CallControl, accept: string): Promise<AsyncIterable<string>> {
    control.arm();
    try {
      const res = await this.send(req, control, accept);
      if (!isSuccess(res.statusCode)) throw await this.httpFailure(res.statusCode, res.headers, res.body);
      return textChunks(res.body, control);
    } catch (err) {
      throw control.failure(err);
    }
  }

  /** A status probe: any HTTP answer is returned (the caller judges it); no retry, no breaker. */
  async probe(req: UpstreamRequest, control: CallControl): Promise<ProbeAnswer> {
    control.arm();
    try {
      const res = await this.send(req, control, 'application/json');
      const { text } = await readLimited(res.body, PROBE_BODY_LIMIT);
      return { status: res.statusCode, body: tryParse(text) };
    } catch (err) {
      throw control.failure(err);
    }
  }

  /** Lets in-flight requests finish briefly, then cuts them. */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), CLOSE_GRACE_MS);
    });
    try {
      const outcome = await Promise.race([this.pool.close().then(() => 'closed' as const), grace]);
      if (outcome === 'late') await this.pool.destroy();
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sent below the attempt's span when there is one: the HTTP client span and `traceparent` follow it. */
  private send(req: UpstreamRequest, control: CallControl, accept: string) {
    const hasBody = req.body !== undefined;
    return withSpan(control.span, () =>
      this.pool.request({
        method: req.method,
        path: `${this.root}${req.path}`,
        headers: {
          ...this.options.headers,
          accept,
          'user-agent': 'conflux',
          ...(hasBody ? { 'content-type': 'application/json' } : {}),
        },
        body: hasBody ? JSON.stringify(req.body) : undefined,
        signal: control.signal,
      }),
    );
  }

  /** The UpstreamError for a non-2xx answer, with the message from its (bounded) error body. */
  private async httpFailure(status: number, headers: IncomingHttpHeaders, body: AsyncIterable<unknown>) {
    const { text } = await readLimited(body, ERROR_BODY_LIMIT).catch(() => ({ text: '' }));
    const message = this.options.errorMessage?.(tryParse(text));
    return httpError(status, headers, message, this.options.secrets, this.options.subject);
  }
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Reads at most `limit` bytes of a body (the rest is dropped with the connection); `truncated`
 * when there was more.
 */
async function readLimited(body: AsyncIterable<unknown>, limit: number): Promise<{ text: string; truncated: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    parts.push(buffer);
    size += buffer.length;
    if (size > limit) break;
  }
  return { text: Buffer.concat(parts).subarray(0, limit).toString('utf8'), truncated: size > limit };
}

/**
 * The body as UTF-8 text chunks; each chunk re-arms the idle timeout. When the reader stops
 * early (the kind's end marker came before the end of the body), the rest is drained in the
 * background, bounded, so the connection can be kept alive; a cut call was already aborted.
 */
async function* textChunks(body: ResponseBody, control: CallControl): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  let finished = false;
  try {
    for (let next = await reader.next(); !next.done; next = await reader.next()) {
      control.arm();
      const text = decoder.decode(next.value, { stream: true });
      if (text) yield text;
    }
    finished = true;
    const tail = decoder.decode();
    if (tail) yield tail;
  } catch (err) {
    finished = true;
    throw control.failure(err);
  } finally {
    if (!finished) releaseBody(body, control.signal);
  }
}

function releaseBody(body: ResponseBody, signal: AbortSignal): void {
  if (signal.aborted) {
    body.destroy();
    return;
  }
  body.dump({ limit: DRAIN_LIMIT, signal: AbortSignal.timeout(DRAIN_TIMEOUT_MS) }).catch(() => body.destroy());
}
