import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { BreakerState } from '../common/upstream/breaker';
import { RemoteWorkerClient, type RemoteWorkerInfo } from '../common/upstream/remote-worker-client';
import { UpstreamError } from '../common/upstream/upstream-error';
import { AppConfig } from '../config/app-config';
import { ForecastingMetrics } from './forecasting.metrics';
import { remoteCall, type RemoteForecastRequest, type RemoteForecastResult, type RemoteKind } from './remote-contracts';

export type { RemoteForecastRequest, RemoteForecastResult } from './remote-contracts';

/**
 * The remote forecasting worker (a GPU server running Toto, Chronos…), speaking the protocol of its
 * kind (FORECAST_REMOTE_KIND: the /forecast contract, or KServe's /v1/timeseries/forecast), behind its
 * own breaker (RemoteWorkerClient): each call has a deadline (the request is aborted when it passes),
 * failures, timeouts and malformed answers count against the worker, its refusals of a request (4xx,
 * or a KServe error answer) do not. While the breaker is open calls fail fast and the caller serves
 * locally.
 */
@Injectable()
export class RemoteForecaster implements OnModuleDestroy {
  private readonly client?: RemoteWorkerClient;
  private readonly kind: RemoteKind;
  private readonly model?: string;

  constructor(config: AppConfig, metrics: ForecastingMetrics) {
    this.kind = config.FORECAST_REMOTE_KIND;
    this.model = config.FORECAST_REMOTE_MODEL;
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
    const call = remoteCall(this.kind, body, this.model);
    return this.client.post(call.path, call.body, call.parse, signal);
  }

  async onModuleDestroy(): Promise<void> {
    await this.client?.close();
  }
}
