import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { ENGINE_NAMES, type EngineName, type ForecastRequestDto } from './dto/forecast.dto';
import type { TimeSeriesForecastRequestDto, TimeSeriesForecastResponseDto } from './dto/timeseries.dto';
import { ForecastingService } from './forecasting.service';
import { forecastRequestOf, type SeriesResult, timeSeriesResponse } from './timeseries.mapper';

function isEngineName(name: string): name is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(name);
}

/**
 * KServe's time-series forecast protocol over the same engines, limits, remote worker and metrics as
 * /forecast/batch: `model` names the engine, every input is one series, answered in its own output.
 */
@Injectable()
export class TimeSeriesService {
  constructor(
    private readonly forecasting: ForecastingService,
    private readonly config: AppConfig,
  ) {}

  async forecast(request: TimeSeriesForecastRequestDto, signal?: AbortSignal): Promise<TimeSeriesForecastResponseDto> {
    const model = this.engineOf(request.model);
    this.forecasting.checkBatchSize('inputs', request.inputs.length);
    const names = new Set<string>();
    request.inputs.forEach((input, i) => {
      if (names.has(input.name)) {
        throw new AppError(
          'validation_failed',
          `Request is invalid: inputs.${i}.name repeats ${JSON.stringify(input.name)}`,
          {
            details: [{ field: `inputs.${i}.name`, messages: ['names must be unique in a request'] }],
          },
        );
      }
      names.add(input.name);
    });
    const results = new Array<SeriesResult>(request.inputs.length);
    const runnable: { index: number; request: ForecastRequestDto }[] = [];
    request.inputs.forEach((input, index) => {
      const mapped = forecastRequestOf(model, input, request.options);
      if ('error' in mapped) results[index] = mapped;
      else runnable.push({ index, request: mapped });
    });
    const answers = await this.forecasting.forecastEach(
      runnable.map((r) => r.request),
      signal,
    );
    runnable.forEach(({ index }, k) => (results[index] = answers[k]));
    return timeSeriesResponse(request, results);
  }

  /** The engine a `model` names: an engine's own name, or the remote worker's model (FORECAST_REMOTE_MODEL). */
  private engineOf(model: string): EngineName {
    if (isEngineName(model)) return model;
    if (this.config.FORECAST_REMOTE_URL !== undefined && model === this.config.FORECAST_REMOTE_MODEL) return 'remote';
    throw new AppError(
      'model_not_found',
      `Model ${JSON.stringify(model)} is not served; use one of ${ENGINE_NAMES.join(', ')}`,
      { details: [{ field: 'model', messages: ['unknown model'] }] },
    );
  }
}
