import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { CallOptions } from '../common/upstream/call-control';
import { AppConfig } from '../config/app-config';
import type { ChatRequest, ChatResult, ChatStreamEvent, EmbeddingRequest, EmbeddingResult } from './dto/chat';
import type { ProviderInstanceInfo } from './dto/provider-info';
import type { ServedModel } from './dto/served-model';
import { ModelDetails } from './model-details';
import { ProviderInstance } from './provider-instance';
import { ProviderMetrics } from './providers.metrics';

/**
 * The upstream instances declared in PROVIDERS_FILE: their cached status, and bounded,
 * retried, circuit-broken calls to one of them. Choosing an instance is the router's job.
 * Failures are always UpstreamError (see common/upstream/upstream-error.ts).
 */
@Injectable()
export class ProvidersService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProvidersService.name);
  private readonly byId: ReadonlyMap<string, ProviderInstance>;
  /** Ollama instances declared without models. */
  private readonly discovering: readonly ProviderInstance[];
  private readonly details: ModelDetails;
  private probeTimer?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    metrics: ProviderMetrics,
  ) {
    this.byId = new Map(
      config.gateway.providers.map((declaration) => [declaration.id, new ProviderInstance(declaration, metrics)]),
    );
    this.discovering = [...this.byId.values()].filter((instance) => instance.discovers);
    this.details = new ModelDetails([...this.byId.values()], {
      ttlMs: config.MODELS_CACHE_TTL_MS,
      timeoutMs: config.MODELS_DETAILS_TIMEOUT_MS,
    });
  }

  /** Every instance with its cached status; never blocks. */
  instances(): ProviderInstanceInfo[] {
    return [...this.byId.values()].map((instance) => instance.info());
  }

  /**
   * Every (model, instance) pair the gateway can route to, with what the instance says of the model
   * (Ollama: size, parameters, template, capabilities), cached for MODELS_CACHE_TTL_MS. Waits at most
   * MODELS_DETAILS_TIMEOUT_MS for a refresh; never throws: what is unknown is null.
   */
  models(): Promise<ServedModel[]> {
    return this.details.models();
  }

  instance(id: string): ProviderInstanceInfo | undefined {
    return this.byId.get(id)?.info();
  }

  /** Instances declared as serving this model (whatever their state). */
  instancesForModel(model: string): ProviderInstanceInfo[] {
    return [...this.byId.values()].filter((i) => i.serves(model)).map((i) => i.info());
  }

  /** Whether PROVIDERS_FILE declares any instance. */
  get configured(): boolean {
    return this.byId.size > 0;
  }

  /** Ollama instances declared without models, with what their last probe listed (empty before it). */
  discovered(): { instanceId: string; models: string[] }[] {
    return this.discovering.map((instance) => ({ instanceId: instance.id, models: instance.servedModels() }));
  }

  /** False while the instance's breaker is open (calls would fail fast). */
  isAvailable(id: string): boolean {
    return this.byId.get(id)?.available ?? false;
  }

  async chat(id: string, req: ChatRequest, opts?: CallOptions): Promise<ChatResult> {
    return this.require(id).chat(req, opts);
  }

  /**
   * Errors before the first event are thrown from the first next(); a cut after events were
   * yielded throws UpstreamError('stream_cut'); return() aborts the upstream request.
   */
  async *chatStream(id: string, req: ChatRequest, opts?: CallOptions): AsyncIterable<ChatStreamEvent> {
    yield* this.require(id).chatStream(req, opts);
  }

  async embed(id: string, req: EmbeddingRequest, opts?: CallOptions): Promise<EmbeddingResult> {
    return this.require(id).embed(req, opts);
  }

  onApplicationBootstrap(): void {
    if (this.byId.size === 0) {
      this.logger.warn('No provider instance: the LLM routes answer 503 no_providers until PROVIDERS_FILE names one');
      return;
    }
    for (const instance of this.byId.values()) this.logger.log(`Provider ${instance.describe()}`);
    this.probeAll();
    this.probeTimer = setInterval(() => this.probeAll(), this.config.PROVIDER_PROBE_INTERVAL_MS);
    this.probeTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    await Promise.all([...this.byId.values()].map((instance) => instance.close()));
  }

  /** Starts a probe of every instance (one in flight per instance); never awaited by requests. */
  private probeAll(): void {
    for (const instance of this.byId.values()) {
      instance.probe().catch((err: unknown) => this.logger.warn(`probe of ${instance.id} failed: ${String(err)}`));
    }
  }

  private require(id: string): ProviderInstance {
    const instance = this.byId.get(id);
    if (!instance) throw new Error(`Unknown provider instance "${id}"`);
    return instance;
  }
}
