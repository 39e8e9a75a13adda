import { Injectable } from '@nestjs/common';
import {
  InjectMetric,
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
} from '@willsoto/nestjs-prometheus';
import { Counter, Gauge, Histogram } from 'prom-client';
import { BREAKER_GAUGE, type BreakerState } from '../common/upstream/breaker';

export const FORECAST_DURATION = 'conflux_forecast_duration_seconds';
export const FORECAST_SERIES_LENGTH = 'conflux_forecast_series_length';
export const FORECAST_FALLBACKS = 'conflux_forecast_fallbacks_total';
export const FORECAST_REMOTE_BREAKER = 'conflux_forecast_remote_breaker_state';

export const FORECASTING_METRIC_PROVIDERS = [
  makeHistogramProvider({
    name: FORECAST_DURATION,
    help: 'Time to produce one forecast, by the engine that served it',
    labelNames: ['engine'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
  makeHistogramProvider({
    name: FORECAST_SERIES_LENGTH,
    help: 'Length of the series forecast (points)',
    labelNames: [],
    buckets: [1, 10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000],
  }),
  makeCounterProvider({
    name: FORECAST_FALLBACKS,
    help: 'Forecasts served by another engine than asked: remote worker failures (kind=remote) or series too short for the model (kind=model)',
    labelNames: ['kind', 'reason'],
  }),
  makeGaugeProvider({
    name: FORECAST_REMOTE_BREAKER,
    help: 'Circuit breaker of the remote forecasting worker: 0 closed, 1 half-open, 2 open',
    labelNames: [],
  }),
];

@Injectable()
export class ForecastingMetrics {
  constructor(
    @InjectMetric(FORECAST_DURATION) private readonly duration: Histogram<string>,
    @InjectMetric(FORECAST_SERIES_LENGTH) private readonly length: Histogram<string>,
    @InjectMetric(FORECAST_FALLBACKS) private readonly fallbacks: Counter<string>,
    @InjectMetric(FORECAST_REMOTE_BREAKER) private readonly breaker: Gauge<string>,
  ) {}

  served(engine: string, seconds: number, points: number): void {
    this.duration.observe({ engine }, seconds);
    this.length.observe(points);
  }

  fallback(kind: 'remote' | 'model', reason: string): void {
    this.fallbacks.inc({ kind, reason });
  }

  remoteBreaker(state: BreakerState): void {
    this.breaker.set(BREAKER_GAUGE[state]);
  }
}
