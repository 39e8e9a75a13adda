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
import { BREAKER_BOUNDS } from './breaker-settings';
import { GatewayConfig, loadGatewayConfig } from './gateway-config';
import { MlRemoteWorkerSetting, parseMlRemoteWorkers } from './ml-workers';

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

const toBool = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return value;
};

/** The entries of a comma-separated list, trimmed, empty ones dropped. */
export function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

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
  'GPU_METRICS_URLS',
]);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const ML_GRAPH_OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;

/**
 * Every setting of the process, read once from the environment and validated.
 * Nothing else in the code base reads `process.env`, but the tracing setup (src/tracing.ts): the
 * OpenTelemetry SDK reads its standard OTEL_* variables itself, before the configuration is loaded.
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

  /**
   * Longest a request waits on Postgres for what the request path reads (API key, session, project
   * access, quota limits) when it is not cached: past it the request gets 503 and the query goes on
   * in the background. Cached values are served without waiting while they are refreshed.
   */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  DATABASE_HOT_PATH_TIMEOUT_MS = 1000;

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
   * How long a verified API key is trusted without asking Postgres again (0 = no cache). Past it
   * the key is still served while Postgres confirms it in the background. Revocation and rotation
   * reach every instance at once through Redis; the TTL bounds staleness otherwise.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  API_KEY_CACHE_TTL_SECONDS = 30;

  /**
   * How long past its TTL a cached API key keeps being served while Postgres cannot be reached
   * to confirm it: traffic of known keys goes on through a Postgres outage this long. A key that
   * Postgres answers is revoked or unknown is dropped at once.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  API_KEY_OUTAGE_GRACE_SECONDS = 900;

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

  /**
   * Local shares of rate-limit counters (see *Rate limits without a round trip* in the README): a busy
   * counter's share covers about this many requests, counted in process (0 = off: every request counts
   * in Redis). Also for the per-key rpm/tpm of quotas.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100_000)
  RATE_LIMIT_LOCAL_REQUESTS = 50;

  /** Most of what a counter has left under its limit that one share grant may take, in percent. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  RATE_LIMIT_LOCAL_SHARE_PERCENT = 5;

  /** Requests a second a counter needs on an instance before that instance takes shares of it. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  RATE_LIMIT_LOCAL_MIN_RATE = 10;

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

  /**
   * Prometheus text endpoints of GPU workers (Triton's metrics port, NVIDIA's dcgm-exporter),
   * comma-separated; `user:password@` in a URL is sent as basic authentication and never logged.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @ValidateBy({
    name: 'isUrlList',
    validator: {
      validate: (value) =>
        typeof value === 'string' && commaList(value).every((url) => /^https?:\/\/[^\s,]+$/.test(url)),
      defaultMessage: () => 'must be a comma-separated list of http(s) URLs',
    },
  })
  GPU_METRICS_URLS?: string = undefined;

  /** How often the GPU workers are polled, and how long one poll may take (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  GPU_METRICS_INTERVAL_MS = 15_000;

  @Transform(toInt)
  @IsInt()
  @Min(50)
  GPU_METRICS_TIMEOUT_MS = 2_000;

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

  /**
   * Deadline of a stream, from the request's arrival to its last event (default: GATEWAY_DEADLINE_MS,
   * never less). GATEWAY_DEADLINE_MS still bounds the wait for its first event, fallbacks included.
   */
  @Transform(({ value }: { value: unknown }) => toInt({ value: emptyToUndefined({ value }) }))
  @IsOptional()
  @IsInt()
  @Min(100)
  GATEWAY_STREAM_DEADLINE_MS?: number = undefined;

  /** How often provider instances are probed in the background (status is cached in between). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  PROVIDER_PROBE_INTERVAL_MS = 15_000;

  /** How long what instances say of their models (GET /models: size, parameters, template) is cached. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  MODELS_CACHE_TTL_MS = 30_000;

  /** Bound of one refresh of one instance's model details (its listing and a question per model). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  MODELS_DETAILS_TIMEOUT_MS = 3_000;

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

  /**
   * Budget leases (see *Budget leases* in the README): an instance takes a slice of a project's budget
   * from Redis covering about this many requests of the project's recent size, and reserves requests
   * from it without a round trip to Redis (0 = off: every paid request holds in Redis).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100_000)
  QUOTA_LEASE_REQUESTS = 50;

  /** Most of what a budget has left that one lease grant may take, in percent. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  QUOTA_LEASE_SHARE_PERCENT = 2;

  /** A lease is refilled in the background once its free part falls below this share of its size, in percent. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  QUOTA_LEASE_LOW_WATER_PERCENT = 50;

  /** How long Redis keeps a lease its instance stopped renewing (it died) before giving it back, in ms. */
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(600_000)
  QUOTA_LEASE_TTL_MS = 30_000;

  /** Requests a second a project needs on an instance before that instance takes a lease of its budget. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  QUOTA_LEASE_MIN_RATE = 10;

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

  /** Largest image accepted by the legacy /api/v1/image/analyze contract, in bytes (16 MiB). */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  IMAGE_MAX_BYTES = 16 * 1024 * 1024;

  /** Ledger rows written per batch, and how often the writer flushes. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  LEDGER_BATCH_SIZE = 500;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  LEDGER_FLUSH_INTERVAL_MS = 250;

  /**
   * Most entries the Redis ledger stream may hold (a long Postgres outage makes it grow): beyond it
   * entries wait in the recording process and paid requests are refused with 503 until it drains.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  LEDGER_STREAM_MAX_ENTRIES = 200_000;

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
   * smaller requests are answered inline, which is faster for them. `auto` cross-validates five model
   * families: a few ms for a 100-point series, tens to hundreds of ms for an hourly one of a thousand.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  FORECAST_INLINE_MAX_POINTS = 200;

  /** Worker threads for large forecasts (0 = one less than the CPUs, at least 1). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(64)
  FORECAST_WORKER_THREADS = 0;

  /** Remote forecasting worker (e.g. a Toto or Chronos GPU server), speaking FORECAST_REMOTE_KIND. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http:// or https:// URL' })
  FORECAST_REMOTE_URL?: string = undefined;

  /**
   * The remote worker's protocol: `forecast` (the /forecast contract) or `kserve` (KServe's
   * time-series protocol, POST /v1/timeseries/forecast, asking for FORECAST_REMOTE_MODEL).
   */
  @IsIn(['forecast', 'kserve'])
  FORECAST_REMOTE_KIND: 'forecast' | 'kserve' = 'forecast';

  /** The model a `kserve` worker is asked for (the request's `model`). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MaxLength(200)
  FORECAST_REMOTE_MODEL?: string = undefined;

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

  /**
   * Remote breaker: failure percentage that opens it, minimum calls in the window, open time, window
   * (within the bounds of every breaker).
   */
  @Transform(toInt)
  @IsInt()
  @Min(BREAKER_BOUNDS.error_threshold_percentage.min)
  @Max(BREAKER_BOUNDS.error_threshold_percentage.max)
  FORECAST_REMOTE_ERROR_THRESHOLD_PERCENTAGE = 50;

  @Transform(toInt)
  @IsInt()
  @Min(BREAKER_BOUNDS.volume_threshold.min)
  @Max(BREAKER_BOUNDS.volume_threshold.max)
  FORECAST_REMOTE_VOLUME_THRESHOLD = 5;

  @Transform(toInt)
  @IsInt()
  @Min(BREAKER_BOUNDS.reset_timeout_ms.min)
  @Max(BREAKER_BOUNDS.reset_timeout_ms.max)
  FORECAST_REMOTE_RESET_TIMEOUT_MS = 10_000;

  @Transform(toInt)
  @IsInt()
  @Min(BREAKER_BOUNDS.rolling_window_ms.min)
  @Max(BREAKER_BOUNDS.rolling_window_ms.max)
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

  /** Model versions served by remote HTTP workers: a JSON or YAML list (see .env.example), read into mlRemoteWorkers. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  ML_REMOTE_WORKERS?: string = undefined;

  /** Bearer token sent to the remote ML workers. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  ML_REMOTE_TOKEN?: string = undefined;

  // ── Structured parts, each read once by loadConfig (not environment variables) ──

  /** Upstream instances and catalog overrides read from PROVIDERS_FILE. */
  gateway: GatewayConfig = { providers: [], models: [] };

  /** The remote ML workers declared in ML_REMOTE_WORKERS. */
  mlRemoteWorkers: MlRemoteWorkerSetting[] = [];

  get isProduction(): boolean {
    return this.NODE_ENV === 'production';
  }

  get embeddedDatabase(): boolean {
    return this.DATABASE_URL === undefined;
  }

  /** How long a stream may run in all (GATEWAY_STREAM_DEADLINE_MS, else GATEWAY_DEADLINE_MS). */
  get streamDeadlineMs(): number {
    return this.GATEWAY_STREAM_DEADLINE_MS ?? this.GATEWAY_DEADLINE_MS;
  }

  /** The GPU workers' metrics endpoints of GPU_METRICS_URLS. */
  get gpuMetricsUrls(): string[] {
    return commaList(this.GPU_METRICS_URLS);
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
  if (
    config.GATEWAY_STREAM_DEADLINE_MS !== undefined &&
    config.GATEWAY_STREAM_DEADLINE_MS < config.GATEWAY_DEADLINE_MS
  ) {
    problems.push('GATEWAY_STREAM_DEADLINE_MS: must not be less than GATEWAY_DEADLINE_MS');
  }
  if (config.FORECAST_REMOTE_KIND === 'kserve' && config.FORECAST_REMOTE_URL && !config.FORECAST_REMOTE_MODEL) {
    problems.push('FORECAST_REMOTE_MODEL: is required when FORECAST_REMOTE_KIND=kserve');
  }
  if (config.isProduction && config.embeddedDatabase) {
    problems.push('DATABASE_URL: is required in production (the embedded database is for development)');
  }
  return problems;
}

/** Fields of AppConfig read from a structured part rather than from one environment variable. */
const STRUCTURED_PARTS: ReadonlySet<string> = new Set(['gateway', 'mlRemoteWorkers']);

/** The names of the environment variables the configuration reads (AppConfig's settings). */
export function configEnvKeys(): string[] {
  return Object.keys(new AppConfig()).filter((key) => !STRUCTURED_PARTS.has(key));
}

/**
 * Reads and validates the configuration: the environment variables, then each structured part
 * (PROVIDERS_FILE, ML_REMOTE_WORKERS) once. Throws a ConfigError naming every bad key.
 */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const known = configEnvKeys();
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
  // Whitelisting dropped the structured fields: they are set here, from their one parse.
  const mlWorkers = parseMlRemoteWorkers(config.ML_REMOTE_WORKERS);
  config.mlRemoteWorkers = mlWorkers.workers;
  const gateway = loadGatewayConfig(config.PROVIDERS_FILE, env);
  config.gateway = gateway.config;
  const problems = [
    ...errors.map(describe),
    ...crossField,
    // One line, and never the value: ML_REMOTE_WORKERS is secret (a worker URL may carry a token).
    ...(mlWorkers.problems.length > 0 ? [`ML_REMOTE_WORKERS: ${mlWorkers.problems.join('; ')}`] : []),
    ...gateway.problems,
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
