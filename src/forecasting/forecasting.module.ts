import { Module } from '@nestjs/common';
import { ForecastPool } from './forecast-pool';
import { ForecastingController } from './forecasting.controller';
import { FORECASTING_METRIC_PROVIDERS, ForecastingMetrics } from './forecasting.metrics';
import { ForecastingService } from './forecasting.service';
import { RemoteForecaster } from './remote-forecaster';
import { TimeSeriesController } from './timeseries.controller';
import { TimeSeriesService } from './timeseries.service';

/**
 * Time-series forecasting: local engines (inline or on worker threads) and an optional remote model worker,
 * behind /forecast and KServe's /v1/timeseries/forecast.
 */
@Module({
  controllers: [ForecastingController, TimeSeriesController],
  providers: [
    ForecastingService,
    TimeSeriesService,
    ForecastPool,
    RemoteForecaster,
    ForecastingMetrics,
    ...FORECASTING_METRIC_PROVIDERS,
  ],
  exports: [ForecastingService],
})
export class ForecastingModule {}
