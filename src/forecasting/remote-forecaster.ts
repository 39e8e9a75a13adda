import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { BreakerState } from '../common/upstream/breaker';
import { parseJsonObject, RemoteWorkerClient, type RemoteWorkerInfo } from '../common/upstream/remote-worker-client';
import { UpstreamError } from '../common/upstream/upstream-error';
import { AppConfig } from '../config/app-config';
import { ForecastingMetrics } from './forecasting.metrics';

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

/**
 * The remote forecasting worker (a GPU server speaking the same /forecast contract), behind its own
 * breaker (RemoteWorkerClient): each call has a deadline (the request is aborted when it passes),
 * failures and timeouts count against the worker, its refusals of a request (4xx) do not. While the
 * breaker is open calls fail fast and the caller serves locally.
 */
@Injectable()
export class RemoteForecaster implements OnModuleDestroy {
  private readonly client?: RemoteWorkerClient;

  constructor(config: AppConfig, metrics: ForecastingMetrics) {
    if (config.FORECAST_REMOTE_URL === undefined) return;
    this.client = new RemoteWorkerClient({
      name: 'forecast-remote',
      url: config.FORECAST_REMOTE_URL,
      timeoutMs: config.FORECAST_REMOTE_TIMEOUT_MS,
      token: config.FORECAST_REMOTE_TOKEN,
      breaker: {
        error_threshold_percentage: config.FORECAST_REMOTE_ERROR_THRESHOLD_PERCENTAGE,
        volume_threshold: config.FORECAST_REMOTE_VOLUME_THRESHOLD,
        reset_timeout_ms: config.FORECAST_REMOTE_RESET_TIMEOUT_MS,
        rolling_window_ms: config.FORECAST_REMOTE_WINDOW_MS,
      },
      onState: (state) => metrics.remoteBreaker(state),
    });
  }

  get configured(): boolean {
    return this.client !== undefined;
  }

  get state(): BreakerState | undefined {
    return this.client?.state;
  }

  /** The worker's breaker and last call; null when none is configured. */
  info(): RemoteWorkerInfo | null {
    return this.client?.info('forecast-remote') ?? null;
  }

  /** Throws UpstreamError when the worker is not usable for this request. */
  async forecast(body: RemoteForecastRequest, signal?: AbortSignal): Promise<RemoteForecastResult> {
    if (!this.client) throw new UpstreamError('network', 'no remote forecasting worker is configured');
    return this.client.post('/forecast', body, (text) => parseRemote(text, body), signal);
  }

  async onModuleDestroy(): Promise<void> {
    await this.client?.close();
  }
}

function finiteArray(value: unknown, length: number): value is number[] {
  return (
    Array.isArray(value) && value.length === length && value.every((v) => typeof v === 'number' && Number.isFinite(v))
  );
}

/** Accepts the worker's answer only when it is a well-formed forecast of the requested horizon. */
function parseRemote(text: string, request: RemoteForecastRequest): RemoteForecastResult {
  const answer = parseJsonObject(text);
  if (!finiteArray(answer.predictions, request.horizon)) {
    throw new UpstreamError('malformed', `the remote worker did not answer ${request.horizon} finite predictions`);
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
