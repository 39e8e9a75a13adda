import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export const PROVIDER_KINDS = ['openai', 'anthropic', 'ollama'] as const;
export type ProviderKindName = (typeof PROVIDER_KINDS)[number];
export const MODALITIES = ['chat', 'embeddings', 'vision'] as const;
export type Modality = (typeof MODALITIES)[number];

export interface BreakerSettings {
  /** Percentage of failed calls in the rolling window that opens the breaker. */
  error_threshold_percentage: number;
  /** How long the breaker stays open before a half-open trial call. */
  reset_timeout_ms: number;
  /** Calls needed in the window before the breaker may open. */
  volume_threshold: number;
  /** Length of the rolling statistics window. */
  rolling_window_ms: number;
}

export interface RetrySettings {
  /** Attempts on this instance, the first included. */
  max_attempts: number;
  base_delay_ms: number;
  max_delay_ms: number;
}

/** One upstream instance, as declared in PROVIDERS_FILE (secret resolved from `api_key_env`). */
export interface ProviderDeclaration {
  id: string;
  kind: ProviderKindName;
  base_url: string;
  api_key_env?: string;
  /** The secret itself, read from the environment variable named by api_key_env. Never logged. */
  api_key?: string;
  models: string[];
  timeout_ms: number;
  breaker: BreakerSettings;
  retry: RetrySettings;
}

/** A catalog entry declared in PROVIDERS_FILE, merged over the built-in catalog. */
export interface ModelDeclaration {
  name: string;
  input_usd_per_1m?: number;
  output_usd_per_1m?: number;
  quality?: number;
  context_window?: number;
  modalities?: Modality[];
  aliases?: string[];
}

export interface GatewayConfig {
  providers: ProviderDeclaration[];
  models: ModelDeclaration[];
}

export const DEFAULT_BREAKER: BreakerSettings = {
  error_threshold_percentage: 50,
  reset_timeout_ms: 10_000,
  volume_threshold: 5,
  rolling_window_ms: 10_000,
};

export const DEFAULT_RETRY: RetrySettings = { max_attempts: 2, base_delay_ms: 100, max_delay_ms: 2_000 };

type Raw = Record<string, unknown>;

class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
}

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(
  raw: Raw,
  key: string,
  path: string,
  p: Problems,
  opts: { min?: number; max?: number; int?: boolean } = {},
): number | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!opts.int || Number.isInteger(value)) &&
    (opts.min === undefined || value >= opts.min) &&
    (opts.max === undefined || value <= opts.max);
  if (!ok) {
    const range = `${opts.min ?? '-∞'}..${opts.max ?? '∞'}`;
    p.add(`${path}.${key}`, `must be ${opts.int ? 'an integer' : 'a number'} in ${range}`);
    return undefined;
  }
  return value;
}

function str(raw: Raw, key: string, path: string, p: Problems, required: boolean): string | undefined {
  const value = raw[key];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    p.add(`${path}.${key}`, 'must be a non-empty string');
    return undefined;
  }
  return value.trim();
}

function strList(raw: Raw, key: string, path: string, p: Problems): string[] | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) {
    p.add(`${path}.${key}`, 'must be a list of non-empty strings');
    return undefined;
  }
  return (value as string[]).map((v) => v.trim());
}

function parseBreaker(value: unknown, path: string, p: Problems): BreakerSettings {
  if (value === undefined) return { ...DEFAULT_BREAKER };
  if (!isRecord(value)) {
    p.add(path, 'must be a mapping');
    return { ...DEFAULT_BREAKER };
  }
  return {
    error_threshold_percentage:
      num(value, 'error_threshold_percentage', path, p, { min: 1, max: 100 }) ??
      DEFAULT_BREAKER.error_threshold_percentage,
    reset_timeout_ms:
      num(value, 'reset_timeout_ms', path, p, { min: 10, int: true }) ?? DEFAULT_BREAKER.reset_timeout_ms,
    volume_threshold:
      num(value, 'volume_threshold', path, p, { min: 0, int: true }) ?? DEFAULT_BREAKER.volume_threshold,
    rolling_window_ms:
      num(value, 'rolling_window_ms', path, p, { min: 100, int: true }) ?? DEFAULT_BREAKER.rolling_window_ms,
  };
}

function parseRetry(value: unknown, path: string, p: Problems): RetrySettings {
  if (value === undefined) return { ...DEFAULT_RETRY };
  if (!isRecord(value)) {
    p.add(path, 'must be a mapping');
    return { ...DEFAULT_RETRY };
  }
  return {
    max_attempts: num(value, 'max_attempts', path, p, { min: 1, max: 10, int: true }) ?? DEFAULT_RETRY.max_attempts,
    base_delay_ms: num(value, 'base_delay_ms', path, p, { min: 0, int: true }) ?? DEFAULT_RETRY.base_delay_ms,
    max_delay_ms: num(value, 'max_delay_ms', path, p, { min: 0, int: true }) ?? DEFAULT_RETRY.max_delay_ms,
  };
}

function parseProvider(
  raw: unknown,
  index: number,
  env: Record<string, string | undefined>,
  p: Problems,
): ProviderDeclaration | null {
  const path = `providers[${index}]`;
  if (!isRecord(raw)) {
    p.add(path, 'must be a mapping');
    return null;
  }
  const id = str(raw, 'id', path, p, true);
  if (id !== undefined && !/^[a-z0-9][a-z0-9_.-]{0,62}$/i.test(id))
    p.add(`${path}.id`, 'must match [a-z0-9][a-z0-9_.-]{0,62}');
  const kind = str(raw, 'kind', path, p, true);
  if (kind !== undefined && !(PROVIDER_KINDS as readonly string[]).includes(kind)) {
    p.add(`${path}.kind`, `must be one of ${PROVIDER_KINDS.join(', ')}`);
  }
  const baseUrl = str(raw, 'base_url', path, p, true);
  if (baseUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(baseUrl))
    p.add(`${path}.base_url`, 'must be an http(s) URL');
  const apiKeyEnv = str(raw, 'api_key_env', path, p, false);
  const apiKey = apiKeyEnv ? env[apiKeyEnv] : undefined;
  if (apiKeyEnv && !apiKey) p.add(`${path}.api_key_env`, `names ${apiKeyEnv}, which is not set`);
  const models = strList(raw, 'models', path, p);
  if (!models || models.length === 0) p.add(`${path}.models`, 'must list at least one model');
  const timeout = num(raw, 'timeout_ms', path, p, { min: 10, int: true }) ?? 30_000;
  const breaker = parseBreaker(raw.breaker, `${path}.breaker`, p);
  const retry = parseRetry(raw.retry, `${path}.retry`, p);
  if (!id || !kind || !baseUrl || !models) return null;
  return {
    id,
    kind: kind as ProviderKindName,
    base_url: baseUrl.replace(/\/+$/, ''),
    api_key_env: apiKeyEnv,
    api_key: apiKey,
    models,
    timeout_ms: timeout,
    breaker,
    retry,
  };
}

function parseModel(raw: unknown, index: number, p: Problems): ModelDeclaration | null {
  const path = `models[${index}]`;
  if (!isRecord(raw)) {
    p.add(path, 'must be a mapping');
    return null;
  }
  const name = str(raw, 'name', path, p, true);
  const modalities = strList(raw, 'modalities', path, p);
  if (modalities?.some((m) => !(MODALITIES as readonly string[]).includes(m))) {
    p.add(`${path}.modalities`, `must be among ${MODALITIES.join(', ')}`);
  }
  const model: ModelDeclaration = {
    name: name ?? '',
    input_usd_per_1m: num(raw, 'input_usd_per_1m', path, p, { min: 0 }),
    output_usd_per_1m: num(raw, 'output_usd_per_1m', path, p, { min: 0 }),
    quality: num(raw, 'quality', path, p, { min: 0, max: 1 }),
    context_window: num(raw, 'context_window', path, p, { min: 1, int: true }),
    modalities: modalities as Modality[] | undefined,
    aliases: strList(raw, 'aliases', path, p),
  };
  return name ? model : null;
}

/**
 * Parses the gateway declaration (YAML or JSON text). Returns the problems found,
 * each naming its path (e.g. `providers[1].kind`); secrets come from `env`.
 */
export function parseGatewayConfig(
  text: string,
  env: Record<string, string | undefined>,
): { config: GatewayConfig; problems: string[] } {
  const p = new Problems();
  let doc: unknown;
  try {
    doc = parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    return {
      config: { providers: [], models: [] },
      problems: [`file: not valid YAML/JSON (${(err as Error).message.split('\n')[0]})`],
    };
  }
  if (doc === null || doc === undefined) return { config: { providers: [], models: [] }, problems: [] };
  if (!isRecord(doc))
    return {
      config: { providers: [], models: [] },
      problems: ['file: must be a mapping with `providers` and `models`'],
    };
  const rawProviders = doc.providers ?? [];
  const rawModels = doc.models ?? [];
  if (!Array.isArray(rawProviders)) p.add('providers', 'must be a list');
  if (!Array.isArray(rawModels)) p.add('models', 'must be a list');
  const providers = (Array.isArray(rawProviders) ? rawProviders : [])
    .map((r, i) => parseProvider(r, i, env, p))
    .filter((x): x is ProviderDeclaration => x !== null);
  const models = (Array.isArray(rawModels) ? rawModels : [])
    .map((r, i) => parseModel(r, i, p))
    .filter((x): x is ModelDeclaration => x !== null);
  const ids = new Set<string>();
  for (const provider of providers) {
    if (ids.has(provider.id)) p.add('providers', `duplicate id ${provider.id}`);
    ids.add(provider.id);
  }
  for (const key of Object.keys(doc)) if (key !== 'providers' && key !== 'models') p.add(key, 'unknown key');
  return { config: { providers, models }, problems: p.list };
}

/** Reads PROVIDERS_FILE (or nothing: no upstreams, built-in catalog only). */
export function loadGatewayConfig(
  path: string | undefined,
  env: Record<string, string | undefined>,
): { config: GatewayConfig; problems: string[] } {
  if (!path) return { config: { providers: [], models: [] }, problems: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return {
      config: { providers: [], models: [] },
      problems: [`PROVIDERS_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`],
    };
  }
  const result = parseGatewayConfig(text, env);
  return { config: result.config, problems: result.problems.map((p) => `PROVIDERS_FILE ${p}`) };
}
