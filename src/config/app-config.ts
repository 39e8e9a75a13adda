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
  ValidateBy,
  ValidationError,
} from 'class-validator';
import { parse as parseYaml } from 'yaml';
import { BreakerSettings, DEFAULT_BREAKER, GatewayConfig, loadGatewayConfig } from './gateway-config';

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
  'FORECAST_REMOTE_TOKEN',
  'ML_REMOTE_TOKEN',
  'ML_REMOTE_WORKERS',
]);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// ── ML remote workers (ML_REMOTE_WORKERS) ─────────────────────────────────────

export const ML_REMOTE_PROTOCOLS = ['v2', 'predict'] as const;
export type MlRemoteProtocol = (typeof ML_REMOTE_PROTOCOLS)[number];

/** One model version served by a remote HTTP worker, as declared in ML_REMOTE_WORKERS. */
export interface MlRemoteWorkerSetting {
  /** Registry model name and version id this worker serves. */
  model: string;
  version: string;
  /** Base URL; `/v2/models/<remote_model>/infer` or `/predict` is appended. */
  url: string;
  protocol: MlRemoteProtocol;
  /** Model name at the worker (V2 protocol), default `model`. */
  remote_model: string;
  timeout_ms: number;
  /** Local version that serves when the worker cannot; default: the production version. */
  fallback_version?: string;
  breaker: BreakerSettings;
}

const ML_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Parses ML_REMOTE_WORKERS: a JSON (or YAML) list of `{model, version, url, protocol, remote_model?,
 * timeout_ms?, fallback_version?, breaker?}`. Never throws; problems are listed.
 */
export function parseMlRemoteWorkers(text: string | undefined): {
  workers: MlRemoteWorkerSetting[];
  problems: string[];
} {
  const problems: string[] = [];
  if (text === undefined || text.trim() === '') return { workers: [], problems };
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch {
    return { workers: [], problems: ['must be a JSON or YAML list'] };
  }
  if (!Array.isArray(raw)) return { workers: [], problems: ['must be a list of workers'] };
  const workers: MlRemoteWorkerSetting[] = [];
  const seen = new Set<string>();
  raw.forEach((item: unknown, i) => {
    const at = `[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`${at} must be a mapping`);
      return;
    }
    const w = item as Record<string, unknown>;
    const text = (key: string, required: boolean): string | undefined => {
      const v = w[key];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'string' || !ML_NAME.test(v)) {
        problems.push(`${at}.${key} must match ${ML_NAME.source}`);
        return undefined;
      }
      return v;
    };
    const int = (
      record: Record<string, unknown>,
      key: string,
      min: number,
      max: number,
      fallback: number,
      path: string,
    ) => {
      const v = record[key];
      if (v === undefined) return fallback;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        problems.push(`${path}.${key} must be an integer in ${min}..${max}`);
        return fallback;
      }
      return v;
    };
    const model = text('model', true);
    const version = text('version', true);
    const remoteModel = text('remote_model', false);
    const fallback = text('fallback_version', false);
    let url: string | undefined;
    if (typeof w.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(w.url))
      problems.push(`${at}.url must be an http(s) URL`);
    else if (/^https?:\/\/[^/]*@/.test(w.url))
      problems.push(`${at}.url must not carry credentials (use ML_REMOTE_TOKEN)`);
    else url = w.url.replace(/\/+$/, '');
    const protocol = w.protocol ?? 'v2';
    if (!ML_REMOTE_PROTOCOLS.includes(protocol as MlRemoteProtocol)) {
      problems.push(`${at}.protocol must be one of ${ML_REMOTE_PROTOCOLS.join(', ')}`);
    }
    const timeout = int(w, 'timeout_ms', 10, 600_000, 2000, at);
    let breaker = { ...DEFAULT_BREAKER };
    if (w.breaker !== undefined) {
      if (typeof w.breaker !== 'object' || w.breaker === null || Array.isArray(w.breaker)) {
        problems.push(`${at}.breaker must be a mapping`);
      } else {
        const b = w.breaker as Record<string, unknown>;
        breaker = {
          error_threshold_percentage: int(
            b,
            'error_threshold_percentage',
            1,
            100,
            breaker.error_threshold_percentage,
            `${at}.breaker`,
          ),
          volume_threshold: int(b, 'volume_threshold', 0, 1_000_000, breaker.volume_threshold, `${at}.breaker`),
          reset_timeout_ms: int(b, 'reset_timeout_ms', 10, 3_600_000, breaker.reset_timeout_ms, `${at}.breaker`),
          rolling_window_ms: int(b, 'rolling_window_ms', 100, 3_600_000, breaker.rolling_window_ms, `${at}.breaker`),
        };
      }
    }
    const known = new Set([
      'model',
      'version',
      'url',
      'protocol',
      'remote_model',
      'timeout_ms',
      'fallback_version',
      'breaker',
    ]);
    for (const key of Object.keys(w)) if (!known.has(key)) problems.push(`${at}.${key} is not a known setting`);
    if (fallback !== undefined && fallback === version) {
      problems.push(`${at}.fallback_version must be another version than the remote one`);
    }
    if (!model || !version || !url || !ML_REMOTE_PROTOCOLS.includes(protocol as MlRemoteProtocol)) return;
    const id = `${model}@${version}`;
    if (seen.has(id)) problems.push(`${at} declares ${id} a second time`);
    seen.add(id);
    workers.push({
      model,
      version,
      url,
      protocol: protocol as MlRemoteProtocol,
      remote_model: remoteModel ?? model,
      timeout_ms: timeout,
      fallback_version: fallback,
      breaker,
    });
  });
  return { workers, problems };
}

function IsMlRemoteWorkers(): PropertyDecorator {
  return ValidateBy({
    name: 'isMlRemoteWorkers',
    validator: {
      validate: (value: unknown) =>
        value === undefined || (typeof value === 'string' && parseMlRemoteWorkers(value).problems.length === 0),
      defaultMessage: (args) =>
        typeof args?.value === 'string'
          ? parseMlRemoteWorkers(args.value).problems.join('; ')
          : 'must be a JSON or YAML list',
    },
  });
}

export const ML_GRAPH_OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;

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

  /**
   * Bound of one quota call to Redis (ms): past it the decision falls back to this instance, so a request
   * gets its answer within ~100 ms even when Redis hangs (also capped by REDIS_COMMAND_TIMEOUT_MS).
   */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(10_000)
  QUOTA_REDIS_TIMEOUT_MS = 75;

  /**
   * Quota calls to Redis timing out in a row before Redis is skipped for 2 s (a refused or closed
   * connection skips it at once): one late reply under load only decides that one request locally.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  QUOTA_REDIS_TIMEOUTS_TO_OPEN = 3;

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

  /** Longest series accepted by /forecast (points). */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  FORECAST_MAX_POINTS = 100_000;

  /** Most items in one /forecast/batch request. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  FORECAST_BATCH_MAX_ITEMS = 1000;

  /**
   * Work (total points) above which forecasts run on worker threads instead of the event loop;
   * smaller requests are answered inline, which is faster for them.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  FORECAST_INLINE_MAX_POINTS = 2000;

  /** Worker threads for large forecasts (0 = one less than the CPUs, at least 1). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(64)
  FORECAST_WORKER_THREADS = 0;

  /** Remote forecasting worker speaking the /forecast contract (e.g. a Toto or Chronos GPU server). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http:// or https:// URL' })
  FORECAST_REMOTE_URL?: string = undefined;

  /** Bearer token sent to the remote worker. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  FORECAST_REMOTE_TOKEN?: string = undefined;

  /** Whether engine "auto" goes to the remote worker first when one is configured. */
  @Transform(toBool)
  @IsBoolean()
  FORECAST_REMOTE_FOR_AUTO = true;

  /** Deadline of one remote forecast call. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  FORECAST_REMOTE_TIMEOUT_MS = 2000;

  /** Remote breaker: failure percentage that opens it, minimum calls in the window, open time, window. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  FORECAST_REMOTE_ERROR_THRESHOLD_PERCENTAGE = 50;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  FORECAST_REMOTE_VOLUME_THRESHOLD = 5;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  FORECAST_REMOTE_RESET_TIMEOUT_MS = 10_000;

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  FORECAST_REMOTE_WINDOW_MS = 10_000;

  // ── ML model serving ──────────────────────────────────────────────────────

  /** Folder of the model store: one ONNX file per registered version. */
  @IsString()
  @MinLength(1)
  MODEL_STORE_DIR = './models';

  /** Model that /predict serves when a request names none. */
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, { message: 'must be a model name' })
  ML_DEFAULT_MODEL = 'trading-signal';

  /** Inference worker threads (0 = one per CPU the process may use, at most 4). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(64)
  ML_WORKER_THREADS = 0;

  /** Compiled inference worker script (default: the one beside the compiled code). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  ML_WORKER_SCRIPT?: string = undefined;

  /** onnxruntime session options: threads inside one run, threads across graph branches, graph optimisation. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  ML_SESSION_INTRA_OP_THREADS = 1;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  ML_SESSION_INTER_OP_THREADS = 1;

  @IsIn(ML_GRAPH_OPTIMIZATION_LEVELS)
  ML_GRAPH_OPTIMIZATION_LEVEL: (typeof ML_GRAPH_OPTIMIZATION_LEVELS)[number] = 'all';

  /** A run not answered within this many ms fails and its worker is replaced (0 = no limit). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  ML_RUN_TIMEOUT_MS = 10_000;

  /** Dynamic micro-batching of models whose first dimension is dynamic. */
  @Transform(toBool)
  @IsBoolean()
  ML_BATCHING = true;

  /** Longest a request waits for others to share its batch while another batch runs (ms; a request that finds no batch running goes at once), and most rows in one batch. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000)
  ML_BATCH_MAX_DELAY_MS = 2;

  /**
   * A request that finds no batch running goes at once (true), or waits up to ML_BATCH_MAX_DELAY_MS for
   * companions like any other (false, as Triton's dynamic batcher does: fuller batches at low load, for up
   * to the delay on every request).
   */
  @Transform(toBool)
  @IsBoolean()
  ML_BATCH_EAGER_WHEN_IDLE = true;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65_536)
  ML_BATCH_MAX_SIZE = 64;

  /** Requests waiting per loaded version before new ones are refused with 503. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ML_BATCH_MAX_QUEUE = 4096;

  /** Most items in one /api/ml/predict/batch request. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ML_PREDICT_BATCH_MAX_ITEMS = 1000;

  /** Largest accepted model upload (bytes). */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  ML_UPLOAD_MAX_BYTES = 100 * 1024 * 1024;

  /** Prediction records: rows per insert, how often the writer flushes, most rows held while Postgres is down. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(5000)
  ML_PREDICTION_BATCH_SIZE = 500;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  ML_PREDICTION_FLUSH_INTERVAL_MS = 250;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  ML_PREDICTION_BUFFER_MAX = 100_000;

  /**
   * Record every prediction (for feedback and the A/B statistics). Off: nothing is written and feedback
   * finds no prediction; with the embedded database the writes run on the main thread.
   */
  @Transform(toBool)
  @IsBoolean()
  ML_RECORD_PREDICTIONS = true;

  /** How often the registry is re-read to pick up changes made through another instance (0 = never). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  ML_REGISTRY_REFRESH_MS = 15_000;

  /** Model versions served by remote HTTP workers: a JSON or YAML list (see .env.example). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsMlRemoteWorkers()
  ML_REMOTE_WORKERS?: string = undefined;

  /** Bearer token sent to the remote ML workers. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  ML_REMOTE_TOKEN?: string = undefined;

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
