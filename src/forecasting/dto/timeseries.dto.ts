import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  type ValidationArguments,
} from 'class-validator';
import { NestedDto } from '../../common/http/nested-dto';
import { KeepUnknownFields } from '../../common/http/validation';
import { isTimestamp, KSERVE_FREQUENCIES, TIME_SERIES_TYPES, type TimeSeriesType } from '../timeseries-time';
import { ENGINE_NAMES, ForecastNotesDto, MAX_HORIZON } from './forecast.dto';

/**
 * KServe's time-series forecast protocol (`POST /v1/timeseries/forecast`), as documented by KServe
 * (kserve/website `docs/reference/time_series/api.md`, "TimeSeries LLM Forecast API Reference").
 * Every object of the protocol may carry extra fields: they are accepted and ignored.
 */

function isPoint(v: unknown): boolean {
  return v === null || (typeof v === 'number' && Number.isFinite(v));
}

/** `List[float]` for a univariate series, `List[List[float]]` (time first) for a multivariate one. */
function isSeriesOfType(value: unknown, args: ValidationArguments): boolean {
  if (!Array.isArray(value) || value.length === 0) return false;
  const type = (args.object as { type?: unknown }).type;
  if (type === 'multivariate_time_series') {
    return value.every((row) => Array.isArray(row) && row.length > 0 && (row as unknown[]).every(isPoint));
  }
  return value.every(isPoint);
}

export class TimeSeriesInputDto {
  @ApiProperty({ enum: TIME_SERIES_TYPES, example: 'univariate_time_series' })
  @IsIn(TIME_SERIES_TYPES)
  type!: TimeSeriesType;

  @ApiProperty({ description: 'Name of the series, unique in the request', example: 'stock_price' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({
    description:
      'Observations, oldest first: numbers for a univariate series (`null` marks a missing value), rows of ' +
      'numbers (time first) for a multivariate one',
    example: [120, 122, 125, 127, 130, 133, 135],
    oneOf: [
      { type: 'array', items: { type: 'number', nullable: true } },
      { type: 'array', items: { type: 'array', items: { type: 'number', nullable: true } } },
    ],
  })
  @ValidateBy({
    name: 'isTimeSeries',
    validator: {
      validate: isSeriesOfType,
      defaultMessage: () =>
        '$property must be a non-empty array of finite numbers (null marks a missing value), or of such rows ' +
        'for a multivariate_time_series',
    },
  })
  series!: (number | null)[] | (number | null)[][];

  @ApiProperty({
    enum: KSERVE_FREQUENCIES,
    example: 'D',
    description: 'Sets the seasonal period (H 24, D 7, W 52, M 12, Q 4, Y 1; seconds and minutes: detected)',
  })
  @IsIn(KSERVE_FREQUENCIES)
  frequency!: string;

  @ApiPropertyOptional({
    description: 'ISO 8601 time of the first observation; the forecast starts `series.length` steps later',
    example: '2025-06-05T13:10:00Z',
  })
  @IsOptional()
  @ValidateBy({
    name: 'isTimestamp',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isTimestamp(value),
      defaultMessage: () => '$property must be an ISO 8601 date or date-time (e.g. 2025-06-05T13:10:00Z)',
    },
  })
  start_timestamp?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 10_000, description: 'Seasonal period, overriding `frequency`' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  season_length?: number;
}

export class TimeSeriesOptionsDto {
  @ApiProperty({ minimum: 1, maximum: MAX_HORIZON, example: 4 })
  @IsInt()
  @Min(1)
  @Max(MAX_HORIZON)
  horizon!: number;

  @ApiPropertyOptional({
    type: [Number],
    example: [0.1, 0.5, 0.9],
    description: 'Levels strictly between 0 and 1; none: only the mean forecast',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  @Min(0.001, { each: true })
  @Max(0.999, { each: true })
  quantiles?: number[];
}

@KeepUnknownFields()
export class TimeSeriesForecastRequestDto {
  @ApiProperty({
    enum: ENGINE_NAMES,
    example: 'auto',
    description: 'The engine: `auto`, a local engine, or `remote` (the configured model worker)',
  })
  @IsString()
  @MaxLength(200)
  model!: string;

  @ApiProperty({ type: [TimeSeriesInputDto] })
  @IsArray()
  @ArrayMinSize(1)
  @NestedDto(() => TimeSeriesInputDto, { each: true })
  inputs!: TimeSeriesInputDto[];

  @ApiProperty({ type: TimeSeriesOptionsDto })
  @NestedDto(() => TimeSeriesOptionsDto)
  options!: TimeSeriesOptionsDto;

  @ApiPropertyOptional({ type: 'object', description: 'Caller metadata (not used)', additionalProperties: true })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}

export class TimeSeriesErrorDto {
  @ApiProperty({ description: 'HTTP status, as a string', example: '400' })
  code!: string;

  @ApiProperty()
  message!: string;

  @ApiProperty({ nullable: true, type: String, description: 'The field at fault, when one is' })
  param!: string | null;

  @ApiProperty({ description: 'Error code, e.g. `validation_failed`', example: 'validation_failed' })
  type!: string;
}

export class TimeSeriesErrorResponseDto {
  @ApiProperty({ type: TimeSeriesErrorDto })
  error!: TimeSeriesErrorDto;

  @ApiProperty()
  request_id!: string;
}

/** A forecast as the protocol has it, plus what /forecast says of how it was made (extra fields). */
export class TimeSeriesForecastDto extends ForecastNotesDto {
  @ApiProperty({ enum: TIME_SERIES_TYPES })
  type!: TimeSeriesType;

  @ApiProperty()
  name!: string;

  @ApiProperty({ type: [Number], description: 'Point forecasts for the next `horizon` steps' })
  mean_forecast!: number[];

  @ApiProperty()
  frequency!: string;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Time of the first forecast step; null when the input had no `start_timestamp`',
  })
  start_timestamp!: string | null;

  @ApiPropertyOptional({ description: 'Quantile level ("0.1") → forecasts' })
  quantiles?: Record<string, number[]>;

  @ApiProperty({ description: 'The engine that served', example: 'cross_validated' })
  engine!: string;

  @ApiProperty({ description: 'The fitted model', example: 'ETS(A,Ad,N)' })
  fitted_model!: string;
}

export class TimeSeriesForecastOutputDto {
  @ApiProperty({ example: 'time_series_forecast' })
  type!: 'time_series_forecast';

  @ApiProperty({ example: 'ts_3f0c0b8f4c1e4a5b9d2e7a6c1b0d9e8f' })
  id!: string;

  @ApiProperty({ enum: ['completed', 'error'] })
  status!: 'completed' | 'error';

  @ApiProperty({ type: [TimeSeriesForecastDto], description: 'The forecast of the input (empty on error)' })
  content!: TimeSeriesForecastDto[];

  @ApiPropertyOptional({ type: TimeSeriesErrorDto, description: 'Why this input could not be forecast' })
  error?: TimeSeriesErrorDto;
}

export class TimeSeriesForecastResponseDto {
  @ApiProperty({ example: 'resp_3f0c0b8f4c1e4a5b9d2e7a6c1b0d9e8f' })
  id!: string;

  @ApiProperty({ description: 'Unix time (seconds)' })
  created_at!: number;

  @ApiProperty({ enum: ['completed', 'partial', 'error'], description: '`partial`: some inputs failed' })
  status!: 'completed' | 'partial' | 'error';

  @ApiProperty({ type: TimeSeriesErrorDto, nullable: true, description: 'Set when no input could be forecast' })
  error!: TimeSeriesErrorDto | null;

  @ApiProperty({ example: 'auto' })
  model!: string;

  @ApiProperty({ type: [TimeSeriesForecastOutputDto], description: 'One per input, in order' })
  outputs!: TimeSeriesForecastOutputDto[];
}
