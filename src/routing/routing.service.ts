import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { AppConfig, ConfigError } from '../config/app-config';
import { ProvidersService } from '../providers/providers.service';
import { mergeCatalog, type Modality, ModelEntry } from './catalog';
import { LatencyTracker } from './latency-tracker';
import { Candidate, Strategy, STRATEGY_FUNCTIONS } from './strategies';

export interface RouteRequest {
  /** A model name, an alias, or `auto`. */
  model: string;
  strategy: Strategy;
  modality: Extract<Modality, 'chat' | 'embeddings'>;
  inputTokens: number;
  /** Worst-case output tokens (max_tokens). */
  outputTokens: number;
  /** The request carries images. */
  vision: boolean;
}

export interface RoutePlan {
  /** Primary first, then the fallback chain. */
  candidates: Candidate[];
  /** Instances left out, and why (open breaker). */
  skipped: { instanceId: string; model: string; reason: 'breaker_open' }[];
}

export interface ModelListing {
  model: ModelEntry;
  instances: string[];
}

/** How many (model, instance) pairs a plan tries at most. */
const MAX_CANDIDATES = 4;

/**
 * The model catalog and routing decisions. Strategies are pure functions
 * over candidates (see strategies.ts); this service builds the candidates from the
 * catalog and the provider instances, skipping instances whose breaker is open.
 */
@Injectable()
export class RoutingService {
  private readonly models: ModelEntry[];
  private readonly byName = new Map<string, ModelEntry>();
  /** catalog model name → [instance id, name the instance uses] */
  private readonly servedBy = new Map<string, { instanceId: string; upstreamModel: string }[]>();
  private readonly latency = new LatencyTracker();

  constructor(
    config: AppConfig,
    private readonly providers: ProvidersService,
  ) {
    const { models, problems } = mergeCatalog(config.gateway.models);
    this.models = models;
    for (const model of models) for (const key of [model.name, ...model.aliases]) this.byName.set(key, model);
    for (const provider of config.gateway.providers) {
      for (const declared of provider.models) {
        const model = this.byName.get(declared);
        if (!model) {
          problems.push(
            `providers.${provider.id}: model ${declared} is not in the catalog (declare it with its price under models)`,
          );
          continue;
        }
        const list = this.servedBy.get(model.name) ?? [];
        list.push({ instanceId: provider.id, upstreamModel: declared });
        this.servedBy.set(model.name, list);
      }
    }
    if (problems.length > 0) throw new ConfigError(problems.map((p) => `PROVIDERS_FILE ${p}`));
  }

  /** The catalog entry for a name or alias. */
  resolve(nameOrAlias: string): ModelEntry | undefined {
    return this.byName.get(nameOrAlias);
  }

  /** Models that at least one instance serves, with those instances. */
  listings(): ModelListing[] {
    return this.models
      .filter((m) => (this.servedBy.get(m.name)?.length ?? 0) > 0)
      .map((m) => ({ model: m, instances: (this.servedBy.get(m.name) ?? []).map((s) => s.instanceId) }));
  }

  catalog(): readonly ModelEntry[] {
    return this.models;
  }

  /** Records how long a call took, for latency_optimized and balanced. */
  observe(instanceId: string, model: string, latencyMs: number): void {
    this.latency.observe(instanceId, model, latencyMs);
  }

  /** Primary and fallbacks for a request; 404 for an unknown model, 503 when nothing can serve it. */
  plan(req: RouteRequest): RoutePlan {
    const models = this.eligibleModels(req);
    const skipped: RoutePlan['skipped'] = [];
    const candidates: Candidate[] = [];
    for (const model of models) {
      for (const { instanceId, upstreamModel } of this.servedBy.get(model.name) ?? []) {
        if (!this.providers.isAvailable(instanceId)) {
          skipped.push({ instanceId, model: model.name, reason: 'breaker_open' });
          continue;
        }
        candidates.push({ model, instanceId, upstreamModel, latencyMs: this.latency.get(instanceId, model.name) });
      }
    }
    if (candidates.length === 0) {
      throw new AppError('service_unavailable', 'No upstream can serve this request right now', {
        details: { model: req.model, skipped },
        headers: { 'Retry-After': '5' },
      });
    }
    const ordered = STRATEGY_FUNCTIONS[req.strategy](candidates, {
      inputTokens: Math.max(1, req.inputTokens),
      outputTokens: Math.max(1, req.outputTokens),
    });
    return { candidates: ordered.slice(0, MAX_CANDIDATES), skipped };
  }

  private eligibleModels(req: RouteRequest): ModelEntry[] {
    if (req.model !== 'auto') {
      const model = this.resolve(req.model);
      if (!model || !this.servedBy.has(model.name)) {
        throw new AppError('model_not_found', `The model ${req.model} does not exist or is not served here`);
      }
      this.assertFits(model, req);
      return [model];
    }
    const fits = this.models.filter(
      (m) =>
        this.servedBy.has(m.name) &&
        m.modalities.includes(req.modality) &&
        (!req.vision || m.modalities.includes('vision')) &&
        m.context_window >= req.inputTokens + (req.modality === 'chat' ? req.outputTokens : 0),
    );
    if (fits.length === 0) {
      throw new AppError(
        'unprocessable_entity',
        'No served model fits this request (modality, vision or context window)',
      );
    }
    return fits;
  }

  private assertFits(model: ModelEntry, req: RouteRequest): void {
    if (!model.modalities.includes(req.modality)) {
      throw new AppError('validation_failed', `The model ${model.name} does not support ${req.modality}`);
    }
    if (req.vision && !model.modalities.includes('vision')) {
      throw new AppError('validation_failed', `The model ${model.name} does not accept images`);
    }
    const needed = req.inputTokens + (req.modality === 'chat' ? req.outputTokens : 0);
    if (needed > model.context_window) {
      throw new AppError(
        'validation_failed',
        `This request needs ${needed} tokens but ${model.name} has a context window of ${model.context_window}`,
      );
    }
  }
}
