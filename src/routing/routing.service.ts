import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { AppConfig, ConfigError } from '../config/app-config';
import type { GatewayConfig } from '../config/gateway-config';
import { ProvidersService } from '../providers/providers.service';
import type { Modality, ModelEntry } from './catalog';
import { routingTable, type Serving, unpricedLocalModel } from './routing-table';
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

/** Where PROVIDERS_FILE is explained (a README section). */
const PROVIDERS_DOC = 'README, section "LLM gateway"';

/** Ollama's default tag: `llama3.2:latest` is also `llama3.2`. */
function withoutLatest(name: string): string {
  return name.endsWith(':latest') ? name.slice(0, -':latest'.length) : name;
}

/**
 * The model catalog and routing decisions. Strategies are pure functions
 * over candidates (see strategies.ts); this service builds the candidates from the
 * catalog and the provider instances, skipping instances whose breaker is open.
 */
function modelNotFound(nameOrAlias: string): AppError {
  return new AppError('model_not_found', `The model ${nameOrAlias} does not exist or is not served here`);
}

@Injectable()
export class RoutingService {
  private readonly models: ModelEntry[];
  private readonly byName: ReadonlyMap<string, ModelEntry>;
  /** catalog model name → the instances declared as serving it */
  private readonly servedBy: ReadonlyMap<string, Serving[]>;
  /** Entries of models that ollama instances without a `models` list report and the catalog does not price. */
  private readonly discoveredEntries = new Map<string, ModelEntry>();
  private readonly latency = new LatencyTracker();

  constructor(
    config: AppConfig,
    private readonly providers: ProvidersService,
  ) {
    const table = routingTable(config.gateway);
    if (table.problems.length > 0) throw new ConfigError(table.problems);
    this.models = table.models;
    this.byName = table.byName;
    this.servedBy = table.servedBy;
  }

  /** What is wrong with the catalog and models of PROVIDERS_FILE: startup checks it before anything starts. */
  static problems(gateway: GatewayConfig): string[] {
    return routingTable(gateway).problems;
  }

  /** The catalog entry for a name or alias (a model only a discovering ollama instance reports included). */
  resolve(nameOrAlias: string): ModelEntry | undefined {
    return this.byName.get(nameOrAlias) ?? this.discoveredEntries.get(nameOrAlias);
  }

  /** Models that at least one instance serves, with those instances. */
  listings(): ModelListing[] {
    const served = this.served();
    return this.everyModel()
      .filter((m) => (served.get(m.name)?.length ?? 0) > 0)
      .map((m) => ({ model: m, instances: (served.get(m.name) ?? []).map((s) => s.instanceId) }));
  }

  /** The listing of a served model named by its name or an alias; model_not_found when none serves it. */
  servedListing(nameOrAlias: string): ModelListing {
    const model = this.resolve(nameOrAlias);
    const instances = model ? this.served().get(model.name) : undefined;
    if (!model || !instances?.length) throw modelNotFound(nameOrAlias);
    return { model, instances: instances.map((s) => s.instanceId) };
  }

  catalog(): readonly ModelEntry[] {
    return this.models;
  }

  /** Records how long a call took, for latency_optimized and balanced. */
  observe(instanceId: string, model: string, latencyMs: number): void {
    this.latency.observe(instanceId, model, latencyMs);
  }

  /**
   * Primary and fallbacks for a request; 404 for an unknown model, 503 when nothing can serve it
   * (`no_providers` when PROVIDERS_FILE declares no instance at all).
   */
  plan(req: RouteRequest): RoutePlan {
    if (!this.providers.configured) {
      throw new AppError(
        'no_providers',
        `No LLM provider is configured: declare upstream instances in the file named by PROVIDERS_FILE (${PROVIDERS_DOC})`,
        { details: { setting: 'PROVIDERS_FILE', documentation: PROVIDERS_DOC } },
      );
    }
    const served = this.served();
    const models = this.eligibleModels(req, served);
    const skipped: RoutePlan['skipped'] = [];
    const candidates: Candidate[] = [];
    for (const model of models) {
      for (const { instanceId, upstreamModel } of served.get(model.name) ?? []) {
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
    return { candidates: this.order(candidates, req), skipped };
  }

  /**
   * A plan over the whole catalog, served or not, for pricing without calling anything: the
   * served plan when an instance serves the request, else catalog models as candidates with
   * no instance (`instanceId` empty). Errors as plan(), but never 503.
   */
  catalogPlan(req: RouteRequest): RoutePlan {
    if (this.providers.configured) {
      try {
        return this.plan(req);
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'model_not_found') throw err;
      }
    }
    const everything = new Map(this.models.map((m) => [m.name, [{ instanceId: '', upstreamModel: m.name }]]));
    const candidates = this.eligibleModels(req, everything).map((model): Candidate => ({
      model,
      instanceId: '',
      upstreamModel: model.name,
      latencyMs: null,
    }));
    return { candidates: this.order(candidates, req), skipped: [] };
  }

  private order(candidates: Candidate[], req: RouteRequest): Candidate[] {
    const ordered = STRATEGY_FUNCTIONS[req.strategy](candidates, {
      inputTokens: Math.max(1, req.inputTokens),
      outputTokens: Math.max(1, req.outputTokens),
    });
    return ordered.slice(0, MAX_CANDIDATES);
  }

  /**
   * Who serves what now: the declared instances, plus what ollama instances declared without
   * `models` reported at their last probe (nothing before the first one).
   */
  private served(): ReadonlyMap<string, Serving[]> {
    const discovered = this.providers.discovered();
    if (discovered.length === 0) return this.servedBy;
    const served = new Map([...this.servedBy].map(([name, list]) => [name, [...list]]));
    for (const { instanceId, models } of discovered) {
      for (const reported of models) {
        const model = this.resolve(reported) ?? this.resolve(withoutLatest(reported)) ?? this.discover(reported);
        served.set(model.name, [...(served.get(model.name) ?? []), { instanceId, upstreamModel: reported }]);
      }
    }
    return served;
  }

  /** A zero-priced entry for a reported model; `name:latest` also answers to `name`, as Ollama does. */
  private discover(name: string): ModelEntry {
    const short = withoutLatest(name);
    const model = { ...unpricedLocalModel(name), aliases: short === name ? [] : [short] };
    for (const key of [name, ...model.aliases]) this.discoveredEntries.set(key, model);
    return model;
  }

  /** The catalog, then the entries of models only discovering instances reported. */
  private everyModel(): ModelEntry[] {
    return [...this.models, ...new Set(this.discoveredEntries.values())];
  }

  private eligibleModels(req: RouteRequest, served: ReadonlyMap<string, Serving[]>): ModelEntry[] {
    if (req.model !== 'auto') {
      const model = this.resolve(req.model);
      if (!model || !served.has(model.name)) {
        throw modelNotFound(req.model);
      }
      this.assertFits(model, req);
      return [model];
    }
    const fits = this.everyModel().filter(
      (m) =>
        served.has(m.name) &&
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
