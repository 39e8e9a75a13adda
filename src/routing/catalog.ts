import type { ModelDeclaration } from '../config/gateway-config';

/** What a model can be asked for. */
export const MODALITIES = ['chat', 'embeddings', 'vision'] as const;
export type Modality = (typeof MODALITIES)[number];

function areModalities(list: readonly string[]): list is Modality[] {
  return list.every((value) => (MODALITIES as readonly string[]).includes(value));
}

/** One model the gateway can route to. Prices are USD per 1M tokens. */
export interface ModelEntry {
  name: string;
  input_usd_per_1m: number;
  output_usd_per_1m: number;
  /** 0..1, higher is better: used by quality_optimized and balanced. */
  quality: number;
  context_window: number;
  modalities: Modality[];
  aliases: string[];
  /** The most output tokens the model produces in one answer: the budget hold when a request sets no limit. */
  max_output_tokens: number;
  /** The request field that limits output (o-series and newer OpenAI models refuse `max_tokens`). */
  max_tokens_field: 'max_tokens' | 'max_completion_tokens';
  /** Prompt-cache prices, USD per 1M tokens; absent: cached input is priced as input. */
  cache_read_usd_per_1m?: number;
  cache_write_usd_per_1m?: number;
}

/** The output limit of a model whose catalog entry names none. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4_096;

/** Prompt-cache prices, USD per 1M tokens; an absent one is priced as input. */
interface CachePrices {
  read?: number;
  write?: number;
}

const CACHE_OPUS_3: CachePrices = { read: 1.5, write: 18.75 };
const CACHE_HAIKU_3: CachePrices = { read: 0.03, write: 0.3 };

/**
 * The built-in catalog: the price table of the system Conflux replaces, plus
 * zero-priced local models. Everything here can be overridden in PROVIDERS_FILE.
 */
export const BUILT_IN_MODELS: readonly ModelEntry[] = [
  m('gpt-4o', 2.5, 10, 0.9, 128_000, ['chat', 'vision'], [], 16_384, { read: 1.25 }),
  m('gpt-4o-mini', 0.15, 0.6, 0.7, 128_000, ['chat', 'vision'], [], 16_384, { read: 0.075 }),
  m('gpt-4-turbo', 10, 30, 0.88, 128_000, ['chat', 'vision'], [], 4_096),
  m('gpt-4', 30, 60, 0.85, 8_192, ['chat'], [], 8_192),
  m('gpt-3.5-turbo', 0.5, 1.5, 0.6, 16_385, ['chat'], [], 4_096),
  // Anthropic's published prompt-cache prices (Claude 3 Sonnet has no prompt caching).
  m('claude-3-opus-20240229', 15, 75, 0.92, 200_000, ['chat', 'vision'], ['claude-3-opus'], 4_096, CACHE_OPUS_3),
  m('claude-3-sonnet-20240229', 3, 15, 0.8, 200_000, ['chat', 'vision'], ['claude-3-sonnet'], 4_096),
  m('claude-3-haiku-20240307', 0.25, 1.25, 0.65, 200_000, ['chat', 'vision'], ['claude-3-haiku'], 4_096, CACHE_HAIKU_3),
  m('text-embedding-3-small', 0.02, 0, 0.6, 8_191, ['embeddings'], [], 0),
  m('text-embedding-3-large', 0.13, 0, 0.8, 8_191, ['embeddings'], [], 0),
  m('llama-3.1-8b', 0, 0, 0.5, 131_072, ['chat'], ['llama3.1:8b'], DEFAULT_MAX_OUTPUT_TOKENS),
  m('llama-3.1-70b', 0, 0, 0.75, 131_072, ['chat'], ['llama3.1:70b'], DEFAULT_MAX_OUTPUT_TOKENS),
  m('mistral-7b', 0, 0, 0.45, 32_768, ['chat'], ['mistral:7b'], DEFAULT_MAX_OUTPUT_TOKENS),
  m('nomic-embed-text', 0, 0, 0.5, 8_192, ['embeddings'], [], 0),
];

function m(
  name: string,
  input: number,
  output: number,
  quality: number,
  contextWindow: number,
  modalities: Modality[],
  aliases: string[],
  maxOutputTokens: number,
  cache: CachePrices = {},
): ModelEntry {
  return {
    name,
    input_usd_per_1m: input,
    output_usd_per_1m: output,
    quality,
    context_window: contextWindow,
    modalities,
    aliases,
    max_output_tokens: maxOutputTokens,
    max_tokens_field: 'max_tokens',
    ...(cache.read === undefined ? {} : { cache_read_usd_per_1m: cache.read }),
    ...(cache.write === undefined ? {} : { cache_write_usd_per_1m: cache.write }),
  };
}

/**
 * The built-in catalog with the declared entries merged over it (by name). A new
 * model must carry both prices: a model with no price is an error, never priced by
 * a default, unless it is in `selfHosted` (served by an ollama or self-hosted
 * instance), where a missing price is 0. A modality the catalog does not know is an
 * error too. Returns problems naming the offending entry.
 */
export function mergeCatalog(
  declared: readonly ModelDeclaration[],
  selfHosted: ReadonlySet<string> = new Set(),
): { models: ModelEntry[]; problems: string[] } {
  const byName = new Map(BUILT_IN_MODELS.map((entry) => [entry.name, { ...entry }]));
  const problems: string[] = [];
  declared.forEach((decl, i) => {
    if (decl.modalities !== undefined && !areModalities(decl.modalities)) {
      problems.push(`models[${i}].modalities: must be among ${MODALITIES.join(', ')}`);
      return;
    }
    const base = byName.get(decl.name);
    const free = selfHosted.has(decl.name) ? 0 : undefined;
    const input = decl.input_usd_per_1m ?? base?.input_usd_per_1m ?? free;
    const output = decl.output_usd_per_1m ?? base?.output_usd_per_1m ?? free;
    if (input === undefined || output === undefined) {
      problems.push(`models: ${decl.name} has no price (input_usd_per_1m and output_usd_per_1m are required)`);
      return;
    }
    byName.set(decl.name, {
      name: decl.name,
      input_usd_per_1m: input,
      output_usd_per_1m: output,
      quality: decl.quality ?? base?.quality ?? 0.5,
      context_window: decl.context_window ?? base?.context_window ?? 8_192,
      modalities: decl.modalities ?? base?.modalities ?? ['chat'],
      aliases: decl.aliases ?? base?.aliases ?? [],
      max_output_tokens: decl.max_output_tokens ?? base?.max_output_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
      max_tokens_field: decl.max_tokens_field ?? base?.max_tokens_field ?? 'max_tokens',
      cache_read_usd_per_1m: decl.cache_read_usd_per_1m ?? base?.cache_read_usd_per_1m,
      cache_write_usd_per_1m: decl.cache_write_usd_per_1m ?? base?.cache_write_usd_per_1m,
    });
  });
  const models = [...byName.values()];
  const names = new Map<string, string>();
  for (const model of models) {
    for (const key of [model.name, ...model.aliases]) {
      const owner = names.get(key);
      if (owner !== undefined && owner !== model.name)
        problems.push(`models: ${key} names both ${owner} and ${model.name}`);
      names.set(key, model.name);
    }
  }
  return { models, problems };
}
