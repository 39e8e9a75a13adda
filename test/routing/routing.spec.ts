import { loadConfig } from '../../src/config/app-config';
import { ConfigError } from '../../src/config/app-config';
import type { ProvidersService } from '../../src/providers/providers.service';
import { BUILT_IN_MODELS, mergeCatalog, ModelEntry } from '../../src/routing/catalog';
import { costOf, costOfUsage, usdString } from '../../src/metering/pricing';
import { RoutingService } from '../../src/routing/routing.service';
import { balanced, Candidate, costOptimized, latencyOptimized, qualityOptimized } from '../../src/routing/strategies';
import { countChatTokens, countTextTokens } from '../../src/metering/tokenizer';

const model = (name: string): ModelEntry => {
  const found = BUILT_IN_MODELS.find((m) => m.name === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
};

describe('pricing', () => {
  it('matches the catalog arithmetic: GPT-4, 1500 in + 500 out = $0.075 = 7.5 credits', () => {
    const cost = costOf(model('gpt-4'), 1500, 500, 100);
    expect(cost).toEqual({ micro_credits: 7_500_000, credits: 7.5, usd: 0.075 });
    expect(usdString(cost.micro_credits, 100)).toBe('0.0750000000');
  });

  it('is exact in integer micro-credits for prices with cents', () => {
    expect(costOf(model('gpt-4o-mini'), 1_000_000, 1_000_000, 100).micro_credits).toBe(75_000_000);
    expect(costOf(model('claude-3-haiku-20240307'), 3, 7, 100).micro_credits).toBe(3 * 25 + 7 * 125);
    expect(costOf(model('llama-3.1-8b'), 10_000, 10_000, 100).micro_credits).toBe(0);
  });

  it('follows the credits-per-dollar rate', () => {
    expect(costOf(model('gpt-4'), 1500, 500, 1000).credits).toBe(75);
  });

  it('prices cached input at the cache-read price and reasoning once, as output', () => {
    // gpt-4o: 2.50 input, 1.25 cached input, 10 output. 1000 in (800 cached) + 200 out (150 reasoning).
    const usage = { input_tokens: 1000, output_tokens: 200, cached_input_tokens: 800, reasoning_tokens: 150 };
    expect(costOfUsage(model('gpt-4o'), usage, 100).micro_credits).toBe(200 * 250 + 800 * 125 + 200 * 1000);
    expect(costOfUsage(model('gpt-4o-mini'), usage, 100).micro_credits).toBe(200 * 15 + 800 * 7.5 + 200 * 60);
  });

  it('prices cache writes at the cache-write price (Anthropic: 1.25× input, reads 0.1×)', () => {
    const opus = model('claude-3-opus-20240229');
    expect([opus.cache_read_usd_per_1m, opus.cache_write_usd_per_1m]).toEqual([1.5, 18.75]);
    const usage = { input_tokens: 1000, output_tokens: 10, cached_input_tokens: 600, cache_write_input_tokens: 300 };
    // 100 plain × 15 + 600 read × 1.5 + 300 written × 18.75 + 10 out × 75 (USD per 1M), × 100 credits per USD.
    expect(costOfUsage(opus, usage, 100).micro_credits).toBe(100 * 1500 + 600 * 150 + 300 * 1875 + 10 * 7500);
  });

  it('prices cached input as input when the model has no cache price', () => {
    const gpt4 = model('gpt-4');
    const usage = { input_tokens: 1500, output_tokens: 500, cached_input_tokens: 1000, cache_write_input_tokens: 100 };
    expect(costOfUsage(gpt4, usage, 100)).toEqual(costOf(gpt4, 1500, 500, 100));
  });

  it('never prices input below zero when a report counts more cached than input tokens', () => {
    const usage = { input_tokens: 10, output_tokens: 0, cached_input_tokens: 20 };
    expect(costOfUsage(model('gpt-4o'), usage, 100).micro_credits).toBe(20 * 125);
  });
});

describe('catalog', () => {
  it('ships the price table', () => {
    const prices = Object.fromEntries(BUILT_IN_MODELS.map((m) => [m.name, [m.input_usd_per_1m, m.output_usd_per_1m]]));
    expect(prices).toMatchObject({
      'gpt-4o': [2.5, 10],
      'gpt-4-turbo': [10, 30],
      'gpt-4': [30, 60],
      'gpt-3.5-turbo': [0.5, 1.5],
      'claude-3-opus-20240229': [15, 75],
      'claude-3-sonnet-20240229': [3, 15],
      'claude-3-haiku-20240307': [0.25, 1.25],
      'gpt-4o-mini': [0.15, 0.6],
    });
  });

  it('merges declared overrides and refuses a new model without a price', () => {
    const { models, problems } = mergeCatalog([
      { name: 'gpt-4', input_usd_per_1m: 1 },
      { name: 'my-model', quality: 0.9 },
      { name: 'cheap', input_usd_per_1m: 0, output_usd_per_1m: 0, aliases: ['fast'] },
    ]);
    expect(models.find((m) => m.name === 'gpt-4')).toMatchObject({ input_usd_per_1m: 1, output_usd_per_1m: 60 });
    expect(models.find((m) => m.name === 'cheap')?.aliases).toEqual(['fast']);
    expect(models.some((m) => m.name === 'my-model')).toBe(false);
    expect(problems).toEqual([expect.stringContaining('my-model has no price')]);
  });

  it('merges declared cache prices, output limits and token-limit fields', () => {
    const { models, problems } = mergeCatalog([
      { name: 'gpt-4o', cache_read_usd_per_1m: 1, max_output_tokens: 8_000 },
      {
        name: 'o3-mini',
        input_usd_per_1m: 1.1,
        output_usd_per_1m: 4.4,
        cache_read_usd_per_1m: 0.55,
        max_output_tokens: 100_000,
        max_tokens_field: 'max_completion_tokens',
      },
    ]);
    expect(problems).toEqual([]);
    expect(models.find((m) => m.name === 'gpt-4o')).toMatchObject({
      input_usd_per_1m: 2.5,
      cache_read_usd_per_1m: 1,
      max_output_tokens: 8_000,
      max_tokens_field: 'max_tokens',
    });
    expect(models.find((m) => m.name === 'o3-mini')).toMatchObject({
      cache_read_usd_per_1m: 0.55,
      cache_write_usd_per_1m: undefined,
      max_output_tokens: 100_000,
      max_tokens_field: 'max_completion_tokens',
    });
  });

  it('prices a declared model of a self-hosted instance at 0 when it names no price', () => {
    const { models, problems } = mergeCatalog(
      [{ name: 'qwen2.5:7b', context_window: 32_768 }],
      new Set(['qwen2.5:7b']),
    );
    expect(problems).toEqual([]);
    expect(models.find((m) => m.name === 'qwen2.5:7b')).toMatchObject({
      input_usd_per_1m: 0,
      output_usd_per_1m: 0,
      context_window: 32_768,
    });
  });

  it('refuses a declared modality it does not know', () => {
    const { models, problems } = mergeCatalog([
      { name: 'gpt-4', modalities: ['chat', 'vision'] },
      { name: 'cheap', input_usd_per_1m: 0, output_usd_per_1m: 0, modalities: ['chat', 'smell'] },
    ]);
    expect(models.find((m) => m.name === 'gpt-4')?.modalities).toEqual(['chat', 'vision']);
    expect(models.some((m) => m.name === 'cheap')).toBe(false);
    expect(problems).toEqual(['models[1].modalities: must be among chat, embeddings, vision']);
  });
});

describe('tokenizer', () => {
  it('counts with a real BPE tokenizer', () => {
    expect(countTextTokens('hello world', 'gpt-4o')).toBe(2);
    expect(countTextTokens('', 'gpt-4')).toBe(0);
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(100);
    const tokens = countTextTokens(long, 'gpt-4');
    expect(tokens).toBeGreaterThan(900);
    expect(tokens).toBeLessThan(1100);
  });

  it('adds the chat framing and a fixed estimate per image', () => {
    const text = countChatTokens([{ role: 'user', content: 'hello world' }], 'gpt-4o');
    expect(text).toBe(3 + 3 + 1 + 2);
    const withImage = countChatTokens(
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hello world' },
            { type: 'image_url', image_url: { url: 'data:x' } },
          ],
        },
      ],
      'gpt-4o',
    );
    expect(withImage).toBe(text + 765);
  });
});

describe('strategies', () => {
  const cand = (name: string, instanceId: string, latencyMs: number | null): Candidate => ({
    model: model(name),
    instanceId,
    upstreamModel: name,
    latencyMs,
  });
  const ctx = { inputTokens: 1000, outputTokens: 500 };
  const pool = [
    cand('gpt-4', 'openai', 900),
    cand('gpt-4o-mini', 'openai', 300),
    cand('claude-3-opus-20240229', 'anthropic', 1500),
    cand('llama-3.1-8b', 'vllm', 120),
  ];
  const names = (list: Candidate[]): string[] => list.map((c) => c.model.name);

  it('cost_optimized: cheapest first', () => {
    // At 1000 in / 500 out: opus 15·1000 + 75·500 = 52 500 < gpt-4 30·1000 + 60·500 = 60 000.
    expect(names(costOptimized(pool, ctx))).toEqual(['llama-3.1-8b', 'gpt-4o-mini', 'claude-3-opus-20240229', 'gpt-4']);
  });

  it('latency_optimized: fastest observed first, unmeasured instances tried first', () => {
    expect(names(latencyOptimized(pool, ctx))).toEqual([
      'llama-3.1-8b',
      'gpt-4o-mini',
      'gpt-4',
      'claude-3-opus-20240229',
    ]);
    const fresh = [...pool, cand('gpt-3.5-turbo', 'openai', null)];
    expect(latencyOptimized(fresh, ctx)[0].model.name).toBe('gpt-3.5-turbo');
  });

  it('quality_optimized: best first', () => {
    expect(names(qualityOptimized(pool, ctx))).toEqual([
      'claude-3-opus-20240229',
      'gpt-4',
      'gpt-4o-mini',
      'llama-3.1-8b',
    ]);
  });

  it('balanced: weighs quality, price and latency', () => {
    // Normalised (quality, price, latency): llama (0, 0, 0) → 0.50; mini (.48, .01, .13) → 0.71;
    // gpt-4 (.83, 1, .57) → 0.50; opus (1, .88, 1) → 0.54.
    expect(names(balanced(pool, ctx))).toEqual(['gpt-4o-mini', 'claude-3-opus-20240229', 'gpt-4', 'llama-3.1-8b']);
  });
});

/** The AppError code `fn` throws, or 'none'. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code';
  }
  return 'none';
}

describe('RoutingService.plan', () => {
  const config = loadConfig({});
  config.gateway = {
    providers: [
      provider('openai-a', ['gpt-4o-mini', 'gpt-4']),
      provider('openai-b', ['gpt-4o-mini']),
      provider('vllm-a', ['fast-local']),
    ],
    models: [{ name: 'fast-local', input_usd_per_1m: 0, output_usd_per_1m: 0, quality: 0.4, aliases: ['fast'] }],
  };
  const open = new Set<string>();
  const providers = {
    configured: true,
    discovered: () => [],
    isAvailable: (id: string) => !open.has(id),
  } as unknown as ProvidersService;
  const routing = new RoutingService(config, providers);
  const base = {
    strategy: 'cost_optimized' as const,
    modality: 'chat' as const,
    inputTokens: 100,
    outputTokens: 100,
    vision: false,
  };

  afterEach(() => open.clear());

  it('pins a model (or alias) to the instances that serve it', () => {
    const plan = routing.plan({ ...base, model: 'gpt-4o-mini' });
    expect(plan.candidates.map((c) => c.instanceId).sort()).toEqual(['openai-a', 'openai-b']);
    expect(routing.plan({ ...base, model: 'fast' }).candidates[0]).toMatchObject({
      instanceId: 'vllm-a',
      upstreamModel: 'fast-local',
    });
  });

  it('skips instances whose breaker is open, and says so', () => {
    open.add('openai-a');
    const plan = routing.plan({ ...base, model: 'gpt-4o-mini' });
    expect(plan.candidates.map((c) => c.instanceId)).toEqual(['openai-b']);
    expect(plan.skipped).toEqual([{ instanceId: 'openai-a', model: 'gpt-4o-mini', reason: 'breaker_open' }]);
    open.add('openai-b');
    expect(codeOf(() => routing.plan({ ...base, model: 'gpt-4o-mini' }))).toBe('service_unavailable');
  });

  it('auto builds a fallback chain across models by strategy', () => {
    const plan = routing.plan({ ...base, model: 'auto', strategy: 'quality_optimized' });
    expect(plan.candidates[0].model.name).toBe('gpt-4');
    expect(plan.candidates.length).toBeGreaterThan(1);
    expect(routing.plan({ ...base, model: 'auto' }).candidates[0].model.name).toBe('fast-local');
  });

  it('refuses unknown and unserved models, and requests over the context window', () => {
    expect(codeOf(() => routing.plan({ ...base, model: 'nope' }))).toBe('model_not_found');
    expect(codeOf(() => routing.plan({ ...base, model: 'gpt-4o' }))).toBe('model_not_found');
    expect(codeOf(() => routing.plan({ ...base, model: 'gpt-4', inputTokens: 8000, outputTokens: 500 }))).toBe(
      'validation_failed',
    );
  });

  it('refuses a provider model that has no catalog price', () => {
    const bad = loadConfig({});
    bad.gateway = { providers: [provider('x', ['mystery-model'])], models: [] };
    expect(() => new RoutingService(bad, providers)).toThrow(ConfigError);
  });

  it('serves the unpriced models of ollama and self-hosted instances at no cost', () => {
    const local = loadConfig({});
    local.gateway = {
      providers: [
        provider('ollama', ['qwen2.5:7b', 'llama3.1:8b'], 'ollama'),
        { ...provider('vllm', ['my-finetune']), self_hosted: true },
      ],
      models: [],
    };
    const served = new RoutingService(local, providers);
    expect(served.plan({ ...base, model: 'qwen2.5:7b' }).candidates[0]).toMatchObject({
      instanceId: 'ollama',
      model: { name: 'qwen2.5:7b', input_usd_per_1m: 0, output_usd_per_1m: 0 },
    });
    // A catalog alias keeps its catalog entry.
    expect(served.plan({ ...base, model: 'llama3.1:8b' }).candidates[0].model.name).toBe('llama-3.1-8b');
    expect(served.plan({ ...base, model: 'my-finetune' }).candidates[0].model).toMatchObject({
      input_usd_per_1m: 0,
      output_usd_per_1m: 0,
    });
  });

  it('routes to what an ollama instance without models reported at its last probe', () => {
    const reported: string[] = [];
    const discovering = {
      configured: true,
      discovered: () => [{ instanceId: 'ollama', models: reported }],
      isAvailable: () => true,
    } as unknown as ProvidersService;
    const local = loadConfig({});
    local.gateway = { providers: [provider('ollama', [], 'ollama')], models: [] };
    const served = new RoutingService(local, discovering);
    expect(codeOf(() => served.plan({ ...base, model: 'phi3:mini' }))).toBe('model_not_found');
    reported.push('phi3:mini', 'mistral:7b', 'gemma2:latest');
    expect(served.plan({ ...base, model: 'phi3:mini' }).candidates[0]).toMatchObject({
      instanceId: 'ollama',
      upstreamModel: 'phi3:mini',
      model: { name: 'phi3:mini', input_usd_per_1m: 0 },
    });
    expect(served.plan({ ...base, model: 'mistral-7b' }).candidates[0].upstreamModel).toBe('mistral:7b');
    expect(served.plan({ ...base, model: 'gemma2' }).candidates[0]).toMatchObject({
      upstreamModel: 'gemma2:latest',
      model: { name: 'gemma2:latest', aliases: ['gemma2'], output_usd_per_1m: 0 },
    });
    expect(served.listings().map((l) => l.model.name)).toEqual(['mistral-7b', 'phi3:mini', 'gemma2:latest']);
  });

  it('answers no_providers when no instance is configured, and still prices the catalog', () => {
    const none = new RoutingService(loadConfig({}), {
      configured: false,
      discovered: () => [],
      isAvailable: () => false,
    } as unknown as ProvidersService);
    expect(codeOf(() => none.plan({ ...base, model: 'gpt-4o' }))).toBe('no_providers');
    expect(none.catalogPlan({ ...base, model: 'gpt-4o' }).candidates).toEqual([
      { model: model('gpt-4o'), instanceId: '', upstreamModel: 'gpt-4o', latencyMs: null },
    ]);
    const auto = none.catalogPlan({ ...base, model: 'auto' });
    expect(auto.candidates.length).toBeGreaterThan(1);
    expect(auto.candidates.every((c) => c.model.modalities.includes('chat'))).toBe(true);
    expect(codeOf(() => none.catalogPlan({ ...base, model: 'nope' }))).toBe('model_not_found');
  });

  it('prices an unserved catalog model alongside served ones', () => {
    expect(routing.catalogPlan({ ...base, model: 'claude-3-opus' }).candidates[0]).toMatchObject({
      instanceId: '',
      model: { name: 'claude-3-opus-20240229' },
    });
    expect(routing.catalogPlan({ ...base, model: 'gpt-4' }).candidates[0].instanceId).toBe('openai-a');
  });
});

function provider(
  id: string,
  models: string[],
  kind: 'openai' | 'ollama' = 'openai',
): ReturnType<typeof loadConfig>['gateway']['providers'][number] {
  return {
    id,
    kind,
    base_url: 'http://127.0.0.1:1/v1',
    models,
    timeout_ms: 1000,
    breaker: { error_threshold_percentage: 50, reset_timeout_ms: 1000, volume_threshold: 5, rolling_window_ms: 10_000 },
    retry: { max_attempts: 1, base_delay_ms: 0, max_delay_ms: 0 },
  };
}
