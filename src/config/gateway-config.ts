import { readFileSync } from 'node:fs';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, ValidateNested } from 'class-validator';
import { BreakerSettings } from './breaker-settings';
import {
  IfPresent,
  IsIntIn,
  IsMapping,
  isMapping,
  IsNonEmptyString,
  IsNonEmptyStringList,
  IsNumberIn,
  parseDocument,
  type Problem,
  readMapping,
  trim,
  trimEach,
} from './validation';

export const PROVIDER_KINDS = ['openai', 'anthropic', 'ollama'] as const;
export type ProviderKindName = (typeof PROVIDER_KINDS)[number];

/** The request fields that can carry a model's output limit. */
export const MAX_TOKENS_FIELDS = ['max_tokens', 'max_completion_tokens'] as const;
export type MaxTokensField = (typeof MAX_TOKENS_FIELDS)[number];

const PROVIDER_ID = /^[a-z0-9][a-z0-9_.-]{0,62}$/i;

/** How a provider instance's calls are retried; a key left out keeps its default. */
export class RetrySettings {
  /** Attempts on this instance, the first included. */
  @IsIntIn(1, 10)
  max_attempts = 2;

  @IsIntIn(0)
  base_delay_ms = 100;

  @IsIntIn(0)
  max_delay_ms = 2_000;
}

/** One upstream instance, as declared in PROVIDERS_FILE (secret resolved from `api_key_env`). */
export class ProviderDeclaration {
  @Transform(trim)
  @IsNonEmptyString({ test: (id) => PROVIDER_ID.test(id), message: 'must match [a-z0-9][a-z0-9_.-]{0,62}' })
  id!: string;

  @Transform(trim)
  @IsNonEmptyString({
    test: (kind) => (PROVIDER_KINDS as readonly string[]).includes(kind),
    message: `must be one of ${PROVIDER_KINDS.join(', ')}`,
  })
  kind!: ProviderKindName;

  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().replace(/\/+$/, '') : value))
  @IsNonEmptyString({ test: (url) => /^https?:\/\/[^\s]+$/.test(url), message: 'must be an http(s) URL' })
  base_url!: string;

  @Transform(trim)
  @IfPresent()
  @IsNonEmptyString()
  api_key_env?: string;

  /** The secret itself, read from the environment variable named by api_key_env. Never logged. */
  api_key?: string;

  /** Empty on an ollama instance: it serves what its /api/tags reports (see the first probe). */
  @Transform(trimEach)
  @IsNonEmptyStringList()
  models: string[] = [];

  /** A server run by the user (vLLM, LM Studio...): its models cost 0 unless the catalog prices them. */
  @IfPresent()
  @IsBoolean({ message: 'must be true or false' })
  self_hosted?: boolean;

  @IsIntIn(10)
  timeout_ms = 30_000;

  @IsMapping()
  @ValidateNested()
  @Type(() => BreakerSettings)
  breaker = new BreakerSettings();

  @IsMapping()
  @ValidateNested()
  @Type(() => RetrySettings)
  retry = new RetrySettings();
}

/**
 * A catalog entry declared in PROVIDERS_FILE, merged over the built-in catalog. Its modalities are
 * checked by the catalog, which knows them.
 */
export class ModelDeclaration {
  @Transform(trim)
  @IsNonEmptyString()
  name!: string;

  @IfPresent()
  @IsNumberIn(0)
  input_usd_per_1m?: number;

  @IfPresent()
  @IsNumberIn(0)
  output_usd_per_1m?: number;

  @IfPresent()
  @IsNumberIn(0, 1)
  quality?: number;

  @IfPresent()
  @IsIntIn(1)
  context_window?: number;

  @Transform(trimEach)
  @IfPresent()
  @IsNonEmptyStringList()
  modalities?: string[];

  @Transform(trimEach)
  @IfPresent()
  @IsNonEmptyStringList()
  aliases?: string[];

  @IfPresent()
  @IsIntIn(1)
  max_output_tokens?: number;

  @Transform(trim)
  @IfPresent()
  @IsNonEmptyString({
    test: (field) => (MAX_TOKENS_FIELDS as readonly string[]).includes(field),
    message: `must be one of ${MAX_TOKENS_FIELDS.join(', ')}`,
  })
  max_tokens_field?: MaxTokensField;

  @IfPresent()
  @IsNumberIn(0)
  cache_read_usd_per_1m?: number;

  @IfPresent()
  @IsNumberIn(0)
  cache_write_usd_per_1m?: number;
}

export interface GatewayConfig {
  providers: ProviderDeclaration[];
  models: ModelDeclaration[];
}

/** Problems of a PROVIDERS_FILE document, each naming its path (e.g. `providers[1].kind`). */
class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
  addAll(prefix: string, problems: Problem[]): void {
    for (const p of problems) this.add(`${prefix}.${p.path}`, p.message);
  }
}

/** Reads each mapping of a list into `cls`; items with a problem are left out (the problems say why). */
function readList<T extends object>(
  cls: new () => T,
  raw: unknown,
  key: string,
  p: Problems,
  check: (item: T, path: string) => void = () => undefined,
): T[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    p.add(key, 'must be a list');
    return [];
  }
  const items: T[] = [];
  raw.forEach((item: unknown, i) => {
    const path = `${key}[${i}]`;
    if (!isMapping(item)) {
      p.add(path, 'must be a mapping');
      return;
    }
    const before = p.list.length;
    const { value, problems } = readMapping(cls, item);
    p.addAll(path, problems);
    check(value, path);
    if (p.list.length === before) items.push(value);
  });
  return items;
}

/**
 * Parses the gateway declaration (YAML or JSON text). Returns the problems found,
 * each naming its path (e.g. `providers[1].kind`); secrets come from `env`.
 */
export function parseGatewayConfig(
  text: string,
  env: Record<string, string | undefined>,
): { config: GatewayConfig; problems: string[] } {
  const empty: GatewayConfig = { providers: [], models: [] };
  const parsed = parseDocument(text);
  if ('error' in parsed) return { config: empty, problems: [`file: not valid YAML/JSON (${parsed.error})`] };
  const doc = parsed.doc;
  if (doc === null || doc === undefined) return { config: empty, problems: [] };
  if (!isMapping(doc)) return { config: empty, problems: ['file: must be a mapping with `providers` and `models`'] };
  const p = new Problems();
  const providers = readList(ProviderDeclaration, doc.providers, 'providers', p, (provider, path) => {
    if (Array.isArray(provider.models) && provider.models.length === 0 && provider.kind !== 'ollama')
      p.add(`${path}.models`, 'must list at least one model (only an ollama instance may leave it out)');
    const keyEnv = provider.api_key_env;
    if (typeof keyEnv === 'string' && keyEnv !== '') {
      provider.api_key = env[keyEnv];
      if (!provider.api_key) p.add(`${path}.api_key_env`, `names ${keyEnv}, which is not set`);
    }
  });
  const models = readList(ModelDeclaration, doc.models, 'models', p);
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
