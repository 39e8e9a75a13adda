import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
  ValidationError,
} from 'class-validator';
import { GatewayConfig, loadGatewayConfig } from './gateway-config';

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

const toBool = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return value;
};

const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** Keys whose values must never be echoed in errors or logs. */
export const SENSITIVE_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'DATABASE_URL',
  'REDIS_URL',
  'JWT_SECRET',
  'JWT_PRIVATE_KEY',
  'ADMIN_PASSWORD',
]);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Every setting of the process, read once from the environment and validated.
 * Nothing else in the code base reads `process.env`.
 */
export class AppConfig {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** Postgres connection URL. When absent, an embedded PGlite database under DATA_DIR is used. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  DATABASE_URL?: string = undefined;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_MAX = 10;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  DATABASE_CONNECT_TIMEOUT_MS = 5000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  DATABASE_STATEMENT_TIMEOUT_MS = 15000;

  @Transform(toBool)
  @IsBoolean()
  MIGRATIONS_RUN = true;

  /** Folder for the embedded database and generated local secrets. */
  @IsString()
  @MinLength(1)
  DATA_DIR = './data';

  /** Redis connection URL. When absent, an in-process store is used (single instance only). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL?: string = undefined;

  @IsString()
  @MaxLength(64)
  REDIS_KEY_PREFIX = 'conflux:';

  @Transform(toInt)
  @IsInt()
  @Min(50)
  REDIS_CONNECT_TIMEOUT_MS = 2000;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  REDIS_COMMAND_TIMEOUT_MS = 500;

  @IsIn(['HS256', 'RS256'])
  JWT_ALGORITHM: 'HS256' | 'RS256' = 'HS256';

  /** HS256 secret (≥ 32 chars). Optional outside production: one is generated and kept in DATA_DIR. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  JWT_SECRET?: string = undefined;

  /** RS256 private key (PEM). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/-----BEGIN [A-Z ]*PRIVATE KEY-----/, { message: 'must be a PEM private key' })
  JWT_PRIVATE_KEY?: string = undefined;

  /** RS256 public key (PEM). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/-----BEGIN [A-Z ]*PUBLIC KEY-----/, { message: 'must be a PEM public key' })
  JWT_PUBLIC_KEY?: string = undefined;

  @IsString()
  @MinLength(1)
  JWT_ISSUER = 'conflux';

  @IsString()
  @MinLength(1)
  JWT_AUDIENCE = 'conflux-api';

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(86400)
  JWT_ACCESS_TTL_SECONDS = 900;

  @Transform(toInt)
  @IsInt()
  @Min(60)
  REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  API_KEY_ROTATION_GRACE_SECONDS = 24 * 3600;

  /**
   * How long a verified API key is trusted without asking Postgres again. Revocation
   * and rotation reach every instance at once through Redis; the TTL bounds staleness
   * otherwise, and lets traffic continue through a short Postgres outage.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  API_KEY_CACHE_TTL_SECONDS = 30;

  @IsEmail()
  ADMIN_EMAIL = 'admin@conflux.local';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'must be at least 12 characters' })
  ADMIN_PASSWORD?: string = undefined;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  BODY_LIMIT_BYTES = 10 * 1024 * 1024;

  /** Comma-separated list of allowed origins, or `*`. Empty disables CORS. */
  @IsString()
  CORS_ORIGINS = '';

  /** Express `trust proxy` setting: false, true, a hop count or a list of addresses/subnets. */
  @IsString()
  TRUST_PROXY = 'false';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  RATE_LIMIT_PER_MINUTE = 60;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  RATE_LIMIT_PER_HOUR = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  SHUTDOWN_DELAY_MS = 0;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  SHUTDOWN_DRAIN_TIMEOUT_MS = 25000;

  @Transform(toInt)
  @IsInt()
  @Min(50)
  HEALTH_CHECK_TIMEOUT_MS = 1000;

  /** YAML or JSON file declaring upstream provider instances and catalog overrides. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  PROVIDERS_FILE?: string = undefined;

  /** Credits per US dollar (1 credit = 1 000 000 micro-credits). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  CREDITS_PER_USD = 100;

  /** Deadline of one gateway request across all its attempts. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  GATEWAY_DEADLINE_MS = 120_000;

  /** How often provider instances are probed in the background (status is cached in between). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  PROVIDER_PROBE_INTERVAL_MS = 15_000;

  /** Spend an instance may allow per project while Redis is unreachable (credits; 0 = none). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  QUOTA_OUTAGE_ALLOWANCE_CREDITS = 1;

  /** How long an Idempotency-Key and its stored response are kept. */
  @Transform(toInt)
  @IsInt()
  @Min(60)
  IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

  /** Longest prompt accepted by the legacy /api/v1/text/generate contract. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  LEGACY_PROMPT_MAX_CHARS = 2000;

  /** Ledger rows written per batch, and how often the writer flushes. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  LEDGER_BATCH_SIZE = 500;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  LEDGER_FLUSH_INTERVAL_MS = 250;

  /** Upstream instances and catalog overrides read from PROVIDERS_FILE (not an environment variable). */
  gateway: GatewayConfig = { providers: [], models: [] };

  get isProduction(): boolean {
    return this.NODE_ENV === 'production';
  }

  get embeddedDatabase(): boolean {
    return this.DATABASE_URL === undefined;
  }

  get embeddedRedis(): boolean {
    return this.REDIS_URL === undefined;
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function describe(error: ValidationError): string {
  const constraints = Object.values(error.constraints ?? {}).join('; ');
  const shown = SENSITIVE_CONFIG_KEYS.has(error.property) ? '' : ` (got ${JSON.stringify(error.value as unknown)})`;
  return `${error.property}: ${constraints}${shown}`;
}

function crossFieldProblems(config: AppConfig): string[] {
  const problems: string[] = [];
  if (config.JWT_ALGORITHM === 'RS256') {
    if (!config.JWT_PRIVATE_KEY) problems.push('JWT_PRIVATE_KEY: is required when JWT_ALGORITHM=RS256');
    if (!config.JWT_PUBLIC_KEY) problems.push('JWT_PUBLIC_KEY: is required when JWT_ALGORITHM=RS256');
  } else if (config.isProduction && !config.JWT_SECRET) {
    problems.push('JWT_SECRET: is required in production when JWT_ALGORITHM=HS256');
  }
  if (config.isProduction && config.embeddedDatabase) {
    problems.push('DATABASE_URL: is required in production (the embedded database is for development)');
  }
  return problems;
}

/** Reads and validates the configuration; throws a ConfigError naming every bad key. */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const known = Object.keys(new AppConfig()).filter((key) => key !== 'gateway');
  const source: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined) source[key] = value;
  }
  const config = plainToInstance(AppConfig, source, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: true, forbidUnknownValues: true });
  // Cross-key rules run too, but say nothing more about a key already reported.
  const bad = new Set(errors.map((e) => e.property));
  const crossField = crossFieldProblems(config).filter((p) => !bad.has(p.split(':')[0]));
  const gateway = loadGatewayConfig(config.PROVIDERS_FILE, env);
  config.gateway = gateway.config;
  const problems = [...errors.map(describe), ...crossField, ...gateway.problems];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
