import { Logger } from '@nestjs/common';
import type { Span } from '@opentelemetry/api';
import type { CallControl, CallOptions } from '../common/upstream/call-control';
import { type Attempt, type AttemptRecorder, UpstreamEndpoint } from '../common/upstream/upstream-endpoint';
import { classOfStatus, sanitizeMessage } from '../common/upstream/http-errors';
import { UpstreamError } from '../common/upstream/upstream-error';
import type { ProviderDeclaration } from '../config/gateway-config';
import type { ChatRequest, ChatResult, ChatStreamEvent, EmbeddingRequest, EmbeddingResult } from './dto/chat';
import type { ProviderInstanceInfo } from './dto/provider-info';
import {
  finishAttributes,
  type GenAiOperation,
  resultAttributes,
  usageAttributes,
  withAttemptSpan,
} from './gen-ai-attributes';
import { mapperFor } from './kinds';
import type {
  KindMapper,
  ListedModel,
  ModelDetailsWire,
  ShownModel,
  StreamFraming,
  WireRequest,
} from './kinds/kind-mapper';
import { parseWith } from './kinds/parse';
import { parseJson } from './kinds/wire';
import type { InstanceLabels, ProviderMetrics } from './providers.metrics';
import { decodeChatStream } from './streaming/chat-stream';

const logger = new Logger('ProviderInstance');
const AUTH_WARNING_INTERVAL_MS = 60_000;

const STREAM_ACCEPT: Record<StreamFraming, string> = {
  sse: 'text/event-stream',
  ndjson: 'application/x-ndjson',
};

interface OpenStream {
  attempt: Attempt;
  events: AsyncGenerator<ChatStreamEvent, void, undefined>;
  first: IteratorResult<ChatStreamEvent, void>;
}

interface ProbeStatus {
  reachable: boolean | null;
  latencyMs: number | null;
  at: string | null;
  models: string[] | null;
}

export interface ProviderInstanceOptions {
  /** Jitter source (tests make backoff deterministic). */
  random?: () => number;
}

/**
 * One declared upstream instance: the kind's mapper for translation and one UpstreamEndpoint
 * (transport, breaker, retry policy) for every call, plus the cached result of the background probe.
 */
export class ProviderInstance {
  readonly id: string;
  private readonly mapper: KindMapper;
  /** The instance in its metrics. */
  private readonly labels: InstanceLabels;
  private readonly endpoint: UpstreamEndpoint;
  /** What no message leaving the instance may contain. */
  private readonly secrets: string[];
  private readonly closing = new AbortController();
  private probing = false;
  private authWarnedAt = -Infinity;
  private closed?: Promise<void>;
  private lastProbe: ProbeStatus = { reachable: null, latencyMs: null, at: null, models: null };

  constructor(
    private readonly declaration: ProviderDeclaration,
    private readonly metrics: ProviderMetrics,
    options: ProviderInstanceOptions = {},
  ) {
    this.id = declaration.id;
    this.labels = { provider: declaration.id, kind: declaration.kind };
    this.mapper = mapperFor(declaration.kind);
    this.secrets = declaration.api_key ? [declaration.api_key] : [];
    this.endpoint = new UpstreamEndpoint({
      name: declaration.id,
      subject: 'the upstream',
      baseUrl: declaration.base_url,
      apiRoot: (path) => this.mapper.apiRoot(path),
      headers: this.mapper.headers(declaration.api_key),
      secrets: this.secrets,
      errorMessage: (body) => this.mapper.errorMessage(body),
      timeoutMs: declaration.timeout_ms,
      breaker: declaration.breaker,
      retry: {
        settings: declaration.retry,
        maxRetryAfterMs: Math.max(declaration.timeout_ms, declaration.retry.max_delay_ms),
        onRetry: () => metrics.retried(declaration.id),
        random: options.random,
      },
      onState: (state) => metrics.breakerState(this.labels, state),
    });
  }

  info(): ProviderInstanceInfo {
    return {
      id: this.id,
      kind: this.declaration.kind,
      base_url: publicUrl(this.declaration.base_url),
      self_hosted: this.declaration.self_hosted === true,
      models: [...this.declaration.models],
      breaker: this.endpoint.state,
      reachable: this.lastProbe.reachable,
      probe_latency_ms: this.lastProbe.latencyMs,
      last_probe_at: this.lastProbe.at,
      upstream_models: this.lastProbe.models ? [...this.lastProbe.models] : null,
    };
  }

  /** True for an ollama instance declared without models: it serves what its /api/tags reports. */
  get discovers(): boolean {
    return this.declaration.kind === 'ollama' && this.declaration.models.length === 0;
  }

  /** The declared models, or for a discovering instance those of the last probe (none before it). */
  servedModels(): string[] {
    return this.discovers ? [...(this.lastProbe.models ?? [])] : [...this.declaration.models];
  }

  serves(model: string): boolean {
    return (this.discovers ? (this.lastProbe.models ?? []) : this.declaration.models).includes(model);
  }

  /** `id: kind, host, models`: what the startup log says of the instance (never a path, a query or a key). */
  describe(): string {
    const models = this.discovers
      ? 'what /api/tags reports (known after the first probe)'
      : this.declaration.models.join(', ');
    return `${this.id}: ${this.declaration.kind} at ${new URL(this.declaration.base_url).host}, models: ${models}`;
  }

  get available(): boolean {
    return this.endpoint.state !== 'open';
  }

  /** Whether the kind describes its models beyond their names (size, parameters, template): Ollama. */
  get describesModels(): boolean {
    return this.mapper.modelDetails !== undefined;
  }

  /**
   * The instance's own listing with what it says of each model. Like the probe: bounded by timeout_ms
   * and `signal`, no retry, never counted by the breaker. @throws UpstreamError
   */
  listModelDetails(signal: AbortSignal): Promise<ListedModel[]> {
    const wire = this.detailsWire();
    return this.metadata(wire.listRequest(), signal, wire.listing);
  }

  /** What the instance says of one model (template, capabilities…); bounded as listModelDetails. */
  showModel(name: string, signal: AbortSignal): Promise<ShownModel> {
    const wire = this.detailsWire();
    return this.metadata(wire.showRequest(name), signal, wire.show);
  }

  async chat(req: ChatRequest, callOpts: CallOptions = {}): Promise<ChatResult> {
    try {
      const wire = this.mapper.chatRequest(req, false);
      const opts = this.traced(callOpts, 'chat', req.model);
      return await this.endpoint.retrying(opts, () =>
        this.exchange(req.model, opts, wire, (body) => this.mapper.chatResult(body, req.model)),
      );
    } catch (err) {
      throw this.tag(err);
    }
  }

  async embed(req: EmbeddingRequest, callOpts: CallOptions = {}): Promise<EmbeddingResult> {
    try {
      const { embedRequest, embedResult } = this.mapper;
      if (!embedRequest || !embedResult) {
        throw new UpstreamError('http_4xx', `${this.declaration.kind} instances serve no embeddings`);
      }
      const wire = embedRequest(req);
      const opts = this.traced(callOpts, 'embeddings', req.model);
      return await this.endpoint.retrying(opts, () =>
        this.exchange(req.model, opts, wire, (body) => embedResult(body, req.model)),
      );
    } catch (err) {
      throw this.tag(err);
    }
  }

  /**
   * Retries happen only while opening the stream, up to its first event; a failure after that
   * throws 'stream_cut' (or 'aborted'); stopping early (return()) aborts the upstream request.
   */
  async *chatStream(req: ChatRequest, callOpts: CallOptions = {}): AsyncGenerator<ChatStreamEvent, void, undefined> {
    try {
      const wire = this.mapper.chatRequest(req, true);
      const opts = this.traced(callOpts, 'chat', req.model);
      const opened = await this.endpoint.retrying(opts, () => this.openStream(req.model, wire, opts));
      yield* this.relay(opened);
    } catch (err) {
      throw this.tag(err);
    }
  }

  /**
   * Refreshes the cached status (bounded by timeout_ms); never throws, never touches the breaker,
   * and does nothing while the previous probe is still running.
   */
  async probe(): Promise<void> {
    if (this.probing || this.closing.signal.aborted) return;
    this.probing = true;
    const started = performance.now();
    let status: Omit<ProbeStatus, 'at'>;
    try {
      const answer = await this.endpoint.probe(this.mapper.modelsRequest(), this.closing.signal);
      const reachable = this.mapper.probeReachable(answer.status);
      const listed = answer.status >= 200 && answer.status < 300;
      status = {
        reachable,
        latencyMs: reachable ? Math.round(performance.now() - started) : null,
        models: listed ? this.modelList(answer.body) : null,
      };
    } catch {
      status = { reachable: false, latencyMs: null, models: null };
    } finally {
      this.probing = false;
    }
    if (this.closing.signal.aborted) return;
    this.lastProbe = { ...status, at: new Date().toISOString() };
    this.metrics.probed(this.id, status.reachable === true);
  }

  /** Stops probing and closes the connections (idempotent). */
  close(): Promise<void> {
    if (!this.closed) {
      this.closing.abort();
      this.closed = this.endpoint.close();
    }
    return this.closed;
  }

  private detailsWire(): ModelDetailsWire {
    const wire = this.mapper.modelDetails;
    if (!wire) throw new UpstreamError('http_4xx', `${this.declaration.kind} instances do not describe their models`);
    return wire;
  }

  /** A metadata call through the probe path: any 2xx JSON answer is parsed, anything else is an UpstreamError. */
  private async metadata<T>(req: WireRequest, signal: AbortSignal, parse: (body: unknown) => T): Promise<T> {
    try {
      const answer = await this.endpoint.probe(req, AbortSignal.any([signal, this.closing.signal]));
      if (answer.status < 200 || answer.status >= 300) {
        throw new UpstreamError(classOfStatus(answer.status), `the upstream answered HTTP ${answer.status}`, {
          status: answer.status,
        });
      }
      return parseWith(() => parse(answer.body));
    } catch (err) {
      throw this.tag(err);
    }
  }

  /** The options with each attempt's span, when tracing is on. */
  private traced(opts: CallOptions, operation: GenAiOperation, model: string): CallOptions {
    return withAttemptSpan(opts, operation, model, this.declaration.kind, this.id);
  }

  /** One JSON attempt; its span (if any) learns what the answer says of itself. */
  private exchange<T extends ChatResult | EmbeddingResult>(
    model: string,
    opts: CallOptions,
    wire: WireRequest,
    parse: (body: unknown) => T,
  ): Promise<T> {
    return this.endpoint.call(
      opts,
      async (control) => {
        const body = parseJson(await this.endpoint.client.text(wire, control), 'response body');
        const result = parseWith(() => parse(body));
        control.span?.setAttributes(resultAttributes(result));
        return result;
      },
      this.recorder(model),
    );
  }

  /** One stream attempt, up to its first event (so that failures before it may be retried). */
  private async openStream(model: string, wire: WireRequest, opts: CallOptions): Promise<OpenStream> {
    const attempt = this.endpoint.begin(opts, this.recorder(model));
    try {
      const chunks = await this.endpoint.client.stream(wire, attempt.control, STREAM_ACCEPT[this.mapper.framing]);
      const events = decodeChatStream(chunks, this.mapper);
      const first = await events.next();
      // Past its first event, a stream runs until its own deadline.
      attempt.control.extendDeadline(opts.streamDeadline);
      return { attempt, events, first };
    } catch (err) {
      throw await attempt.fail(err);
    }
  }

  private async *relay({ attempt, events, first }: OpenStream): AsyncGenerator<ChatStreamEvent, void, undefined> {
    let over = false;
    const span = attempt.control.span;
    try {
      for (let next = first; !next.done; next = await events.next()) {
        if (span !== undefined) describeStream(span, next.value);
        yield next.value;
      }
      over = true;
      await attempt.succeed();
    } catch (err) {
      over = true;
      throw await attempt.fail(midStream(attempt.control, err));
    } finally {
      if (!over) {
        // The consumer stopped reading: cut the upstream request, and count the call as abandoned.
        attempt.control.abort('cancelled');
        await events.return(undefined).catch(() => undefined);
        await attempt.fail(new UpstreamError('aborted', 'the consumer stopped reading the stream'));
      }
    }
  }

  /** Records each attempt in the metrics, by declared model (anything else is 'undeclared'). */
  private recorder(model: string): AttemptRecorder {
    const label = this.serves(model) ? model : 'undeclared';
    return (outcome, seconds) => {
      this.metrics.attempt(this.labels, label, outcome, seconds);
      if (outcome === 'auth_failed') this.warnAuthFailed();
    };
  }

  /** Says (at most once a minute) that the instance refuses our credentials: naming it, never the key. */
  private warnAuthFailed(): void {
    const now = Date.now();
    if (now - this.authWarnedAt < AUTH_WARNING_INTERVAL_MS) return;
    this.authWarnedAt = now;
    logger.warn(
      `Provider ${this.id} refused the gateway's credentials (HTTP 401/403): check the api_key declared for it; ` +
        'its calls fall back to other instances and count against its breaker',
    );
  }

  private modelList(body: unknown): string[] | null {
    try {
      return this.mapper.modelList(body);
    } catch {
      return null;
    }
  }

  /**
   * Every error leaving the instance says which instance it came from, and its message is cleared of
   * the instance's key wherever the message came from (an HTTP error body, an error event inside a
   * stream): upstreams echo the credentials they refuse.
   */
  private tag(err: unknown): Error {
    if (!(err instanceof Error)) return new Error(String(err));
    if (!(err instanceof UpstreamError) || err.options.instanceId !== undefined) return err;
    return new UpstreamError(err.errorClass, sanitizeMessage(err.message, this.secrets), {
      ...err.options,
      instanceId: this.id,
    });
  }
}

/**
 * A failure after events were delivered: the caller cannot retry it transparently. A stream cut
 * by its deadline says so ('deadline_exceeded'); any other failure is a 'stream_cut'.
 */
function midStream(control: CallControl, err: unknown): UpstreamError {
  const error = control.failure(err);
  if (control.deadlinePassed) {
    return new UpstreamError('deadline_exceeded', 'the stream did not end before its deadline', { cause: error });
  }
  if (error.errorClass === 'aborted' || error.errorClass === 'stream_cut') return error;
  return new UpstreamError('stream_cut', `the stream was cut: ${error.message}`, {
    status: error.status,
    cause: error,
  });
}

/** What a stream's events say of it, on its attempt's span: the reported token counts, the finish reason. */
function describeStream(span: Span, event: ChatStreamEvent): void {
  if (event.type === 'usage') span.setAttributes(usageAttributes(event.usage));
  else if (event.type === 'finish') span.setAttributes(finishAttributes(event.finish_reason));
}

/** The base URL without credentials or query (safe to show). */
function publicUrl(base: string): string {
  const url = new URL(base);
  url.username = '';
  url.password = '';
  url.search = '';
  return url.toString().replace(/\/$/, '');
}
