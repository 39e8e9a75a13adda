/**
 * KServe's time-series protocol in terms of /forecast: each input becomes one forecast request for the
 * engine named by `model`, and each result one output of the response. Pure functions.
 */
import { randomUUID } from 'node:crypto';
import { ERROR_STATUS, type ErrorCode } from '../common/errors/app-error';
import { DIALECT_SHAPES } from '../common/errors/error-dialects';
import type { ForecastRequestDto, ForecastResponseDto } from './dto/forecast.dto';
import type {
  TimeSeriesErrorDto,
  TimeSeriesForecastOutputDto,
  TimeSeriesForecastRequestDto,
  TimeSeriesForecastResponseDto,
  TimeSeriesInputDto,
} from './dto/timeseries.dto';
import type { EngineName } from './dto/forecast.dto';
import { advance, frequencyOf } from './timeseries-time';

/** What the service answers for one series: a forecast, or why there is none. */
export type SeriesResult = ForecastResponseDto | { error: string; message: string };

/** A series refused before any engine saw it. */
export interface SeriesRefusal {
  readonly error: ErrorCode;
  readonly message: string;
}

/** The /forecast request for one input, or why it cannot be forecast (multivariate series). */
export function forecastRequestOf(
  model: EngineName,
  input: TimeSeriesInputDto,
  options: TimeSeriesForecastRequestDto['options'],
): ForecastRequestDto | SeriesRefusal {
  if (input.type === 'multivariate_time_series') {
    return {
      error: 'validation_failed',
      message: `${input.name}: only univariate_time_series can be forecast (send one input per variable)`,
    };
  }
  return {
    series: input.series as (number | null)[],
    horizon: options.horizon,
    engine: model,
    // Named like the input, so that a remote worker is told the name too.
    metric: input.name,
    season_length: input.season_length,
    frequency: frequencyOf(input.frequency),
    quantiles: options.quantiles ?? [],
  };
}

/** KServe's error object for one of our codes: the HTTP status in `code`, our code in `type`. */
export function errorObject(code: string, message: string, field?: string): TimeSeriesErrorDto {
  const status = ERROR_STATUS[code as ErrorCode] ?? 500;
  const details = field === undefined ? undefined : [{ field, messages: [message] }];
  const shaped = DIALECT_SHAPES.kserve({
    status,
    body: { error: code as ErrorCode, message, ...(details ? { details } : {}) },
    headers: {},
  });
  return shaped.error as TimeSeriesErrorDto;
}

function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '')}`;
}

function outputOf(input: TimeSeriesInputDto, result: SeriesResult): TimeSeriesForecastOutputDto {
  if ('error' in result) {
    return {
      type: 'time_series_forecast',
      id: newId('ts'),
      status: 'error',
      content: [],
      error: errorObject(result.error, result.message),
    };
  }
  return {
    type: 'time_series_forecast',
    id: newId('ts'),
    status: 'completed',
    content: [
      {
        type: input.type,
        name: input.name,
        mean_forecast: result.predictions,
        frequency: input.frequency,
        start_timestamp:
          input.start_timestamp === undefined
            ? null
            : advance(input.start_timestamp, input.frequency, input.series.length),
        ...(result.quantiles ? { quantiles: result.quantiles } : {}),
        engine: result.engine,
        fitted_model: result.model,
        season_length: result.season_length,
        ...(result.imputed !== undefined ? { imputed: result.imputed } : {}),
        ...(result.fallback ? { fallback: true } : {}),
        ...(result.skipped ? { skipped: result.skipped } : {}),
      },
    ],
  };
}

/**
 * The response: one output per input, in order; `completed` when every input was forecast, `partial`
 * when some were, `error` (with the first output's error at the top) when none was.
 */
export function timeSeriesResponse(
  request: TimeSeriesForecastRequestDto,
  results: readonly SeriesResult[],
  now = Date.now(),
): TimeSeriesForecastResponseDto {
  const outputs = request.inputs.map((input, i) => outputOf(input, results[i]));
  const completed = outputs.filter((o) => o.status === 'completed').length;
  const status = completed === outputs.length ? 'completed' : completed > 0 ? 'partial' : 'error';
  return {
    id: newId('resp'),
    created_at: Math.floor(now / 1000),
    status,
    error: status === 'error' ? (outputs[0].error ?? null) : null,
    model: request.model,
    outputs,
  };
}
