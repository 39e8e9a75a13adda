import type { GatewayConfig } from '../config/gateway-config';
import { DEFAULT_MAX_OUTPUT_TOKENS, mergeCatalog, type ModelEntry } from './catalog';

/** One instance serving a catalog model. */
export interface Serving {
  instanceId: string;
  /** The name the instance uses (its declaration may use an alias). */
  upstreamModel: string;
}

/** The catalog and who is declared as serving what, read from PROVIDERS_FILE. */
export interface RoutingTable {
  models: ModelEntry[];
  /** Names and aliases → entry. */
  byName: Map<string, ModelEntry>;
  /** Catalog model name → the instances declared as serving it. */
  servedBy: Map<string, Serving[]>;
  /** Each naming what is wrong, prefixed with `PROVIDERS_FILE`. */
  problems: string[];
}

/** The entry of a self-hosted model the catalog does not price: it costs nothing. */
export function unpricedLocalModel(name: string): ModelEntry {
  return {
    name,
    input_usd_per_1m: 0,
    output_usd_per_1m: 0,
    quality: 0.5,
    context_window: 8_192,
    modalities: ['chat'],
    aliases: [],
    max_output_tokens: DEFAULT_MAX_OUTPUT_TOKENS,
    max_tokens_field: 'max_tokens',
  };
}

/**
 * Merges the declared catalog and maps each declared model to its instances. A model of a hosted
 * instance must be priced by the catalog; a model of an ollama or `self_hosted` instance the
 * catalog does not know costs 0. Pure: startup checks it before anything starts.
 */
export function routingTable(gateway: GatewayConfig): RoutingTable {
  const local = gateway.providers.filter((p) => p.kind === 'ollama' || p.self_hosted === true);
  const { models, problems } = mergeCatalog(gateway.models, new Set(local.flatMap((p) => p.models)));
  const byName = new Map<string, ModelEntry>();
  const index = (model: ModelEntry): void => {
    for (const key of [model.name, ...model.aliases]) byName.set(key, model);
  };
  models.forEach(index);
  const servedBy = new Map<string, Serving[]>();
  for (const provider of gateway.providers) {
    for (const declared of provider.models) {
      let model = byName.get(declared);
      if (!model && local.includes(provider)) {
        model = unpricedLocalModel(declared);
        models.push(model);
        index(model);
      }
      if (!model) {
        problems.push(
          `providers.${provider.id}: model ${declared} is not in the catalog (declare it with its price under models)`,
        );
        continue;
      }
      const list = servedBy.get(model.name) ?? [];
      list.push({ instanceId: provider.id, upstreamModel: declared });
      servedBy.set(model.name, list);
    }
  }
  return { models, byName, servedBy, problems: problems.map((p) => `PROVIDERS_FILE ${p}`) };
}
