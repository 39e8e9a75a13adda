import { Injectable, OnModuleDestroy } from '@nestjs/common';
import CircuitBreaker from 'opossum';
import { Pool } from 'undici';
import { AppConfig } from '../config/app-config';
import { ForecastingMetrics } from './forecasting.metrics';

export type RemoteBreakerState = 'closed' | 'half_open' | 'open';

/** Why a remote call did not produce a usable forecast (a metrics label, and the `skipped` reason). */
export type RemoteFailureKind = 'breaker_open' | 'timeout' | 'network' | 'http_5xx' | 'http_4xx' | 'malformed';

export class RemoteForecastError extends Error {
  constructor(
    readonly kind: RemoteFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteForecastError';
  }
}

export interface RemoteForecastRequest {
  series: number[];
  horizon: number;
  metric?: string;
  season_length: number;
  frequency?: string;
  quantiles: number[];
}

export interface RemoteForecastResult {
  engine: string;
  model?: string;
  predictions: number[];
  quantiles?: Record<string, number[]>;
}

const BODY_LIMIT = 16 * 1024 * 1024;

/**
 * The remote forecasting worker (a GPU server speaking the same /forecast contract), behind its own
 * opossum breaker: each call has a deadline (the request is aborted when it passes), failures and
 * timeouts count against the worker, its refusals of a request (4xx) do not. While the breaker is
 * open calls fail fast and the caller serves locally.
 */
@Injectable()
export class RemoteForecaster implements OnModuleDestroy {
  private readonly url?: URL;
  private readonly pool?: Pool;
  private readonly breaker?: CircuitBreaker<[RemoteForecastRequest, AbortSignal | undefined], RemoteForecastResult>;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: ForecastingMetrics,
  ) {
    if (config.FORECAST_REMOTE_URL === undefined) return;
    this.url = new URL(config.FORECAST_REMOTE_URL);
    this.pool = new Pool(this.url.origin, {
      connect: { timeout: config.FORECAST_REMOTE_TIMEOUT_MS },
      keepAliveTimeout: 10_000,
    });
    this.breaker = new CircuitBreaker(
      (body: RemoteForecastRequest, signal: AbortSignal | undefined) => this.call(body, signal),
      {
        name: 'forecast-remote',
        timeout: false,
        errorThresholdPercentage: config.FORECAST_REMOTE_ERROR_THRESHOLD_PERCENTAGE,
        volumeThreshold: config.FORECAST_REMOTE_VOLUME_THRESHOLD,
        resetTimeout: config.FORECAST_REMOTE_RESET_TIMEOUT_MS,
        rollingCountTimeout: config.FORECAST_REMOTE_WINDOW_MS,
        errorFilter: (error: unknown) => error instanceof RemoteForecastError && error.kind === 'http_4xx',
      },
    );
    this.breaker.on('open', () => this.metrics.remoteBreaker('open'));
    this.breaker.on('halfOpen', () => this.metrics.remoteBreaker('half_open'));
    this.breaker.on('close', () => this.metrics.remoteBreaker('closed'));
    this.metrics.remoteBreaker('closed');
  }

  get configured(): boolean {
    return this.breaker !== undefined;
  }

  get state(): RemoteBreakerState | undefined {
    if (!this.breaker) return undefined;
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half_open';
    return 'closed';
  }

  /** Throws RemoteForecastError when the worker is not usable for this request. */
  async forecast(body: RemoteForecastRequest, signal?: AbortSignal): Promise<RemoteForecastResult> {
    if (!this.breaker) throw new RemoteForecastError('network', 'no remote forecasting worker is configured');
    try {
      return await this.breaker.fire(body, signal);
    } catch (error) {
      if (error instanceof RemoteForecastError) throw error;
      if (this.breaker.opened || (error as { code?: string }).code === 'EOPENBREAKER') {
        throw new RemoteForecastError('breaker_open', 'the remote worker circuit breaker is open');
      }
      throw new RemoteForecastError('network', 'the remote worker call failed');
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.breaker?.shutdown();
    await this.pool?.close();
  }

  private async call(body: RemoteForecastRequest, signal: AbortSignal | undefined): Promise<RemoteForecastResult> {
    const deadline = AbortSignal.timeout(this.config.FORECAST_REMOTE_TIMEOUT_MS);
    const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.config.FORECAST_REMOTE_TOKEN) headers.authorization = `Bearer ${this.config.FORECAST_REMOTE_TOKEN}`;
    let text: string;
    let status: number;
    try {
      const res = await this.pool!.request({
        method: 'POST',
        path: `${this.url!.pathname.replace(/\/+$/, '')}/forecast`,
        headers,
        body: JSON.stringify(body),
        signal: combined,
      });
      status = res.statusCode;
      text = await readLimited(res.body, BODY_LIMIT);
    } catch (error) {
      if (deadline.aborted)
        throw new RemoteForecastError(
          'timeout',
          `the remote worker did not answer within ${this.config.FORECAST_REMOTE_TIMEOUT_MS} ms`,
        );
      if (signal?.aborted) throw new RemoteForecastError('http_4xx', 'the caller went away');
      throw new RemoteForecastError('network', `the remote worker is unreachable (${(error as Error).name})`);
    }
    if (status >= 500 || status === 429)
      throw new RemoteForecastError('http_5xx', `the remote worker answered ${status}`);
    if (status >= 400) throw new RemoteForecastError('http_4xx', `the remote worker refused the request (${status})`);
    return parseRemote(text, body);
  }
}

async function readLimited(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw new Error('response too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function finiteArray(value: unknown, length: number): value is number[] {
  return (
    Array.isArray(value) && value.length === length && value.every((v) => typeof v === 'number' && Number.isFinite(v))
  );
}

/** Accepts the worker's answer only when it is a well-formed forecast of the requested horizon. */
function parseRemote(text: string, request: RemoteForecastRequest): RemoteForecastResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RemoteForecastError('malformed', 'the remote worker answered something that is not JSON');
  }
  const answer = parsed as Record<string, unknown> | null;
  if (typeof answer !== 'object' || answer === null || !finiteArray(answer.predictions, request.horizon)) {
    throw new RemoteForecastError(
      'malformed',
      `the remote worker did not answer ${request.horizon} finite predictions`,
    );
  }
  let quantiles: Record<string, number[]> | undefined;
  if (typeof answer.quantiles === 'object' && answer.quantiles !== null) {
    const entries = Object.entries(answer.quantiles as Record<string, unknown>).filter(([, v]) =>
      finiteArray(v, request.horizon),
    );
    if (entries.length > 0) quantiles = Object.fromEntries(entries) as Record<string, number[]>;
  }
  return {
    engine: typeof answer.engine === 'string' ? answer.engine.slice(0, 100) : 'remote',
    model: typeof answer.model === 'string' ? answer.model.slice(0, 200) : undefined,
    predictions: answer.predictions,
    quantiles,
  };
}
