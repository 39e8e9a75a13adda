import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidationOptions,
} from 'class-validator';
import { FREQUENCIES, type Frequency } from '../engines/prepare';
import { LOCAL_ENGINE_NAMES } from '../engines/registry';

export const ENGINE_NAMES = [...LOCAL_ENGINE_NAMES, 'remote'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export const DEFAULT_HORIZON = 3;
export const MAX_HORIZON = 1000;
export const DEFAULT_QUANTILES = [0.1, 0.9];

/** An array of finite numbers or nulls (missing values); the length limit is checked by the service. */
function IsSeries(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSeries',
      validator: {
        validate: (value: unknown) => {
          if (!Array.isArray(value) || value.length === 0) return false;
          for (const v of value as unknown[]) {
            if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) return false;
          }
          return true;
        },
        defaultMessage: () => '$property must be a non-empty array of finite numbers (null marks a missing value)',
      },
    },
    options,
  );
}

export class ForecastRequestDto {
  @ApiProperty({
    type: [Number],
    nullable: true,
    description: 'Observations, oldest first; `null` marks a missing value (imputed by linear interpolation).',
    example: [0.9, 1.0, 0.95, 1.1],
  })
  @IsSeries()
  series!: (number | null)[];

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_HORIZON, default: DEFAULT_HORIZON })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_HORIZON)
  horizon?: number;

  @ApiPropertyOptional({
    description: 'Name of the measured quantity (echoed in logs and metrics only)',
    example: 'chars_per_sec',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  metric?: string;

  @ApiPropertyOptional({
    enum: ENGINE_NAMES,
    default: 'auto',
    description:
      "`auto` (`cross_validated`) weights the automatic families by their errors on the series' own past; `remote` asks the configured model worker.",
  })
  @IsOptional()
  @IsIn(ENGINE_NAMES)
  engine?: EngineName;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 10_000,
    description: 'Seasonal period; else from `frequency`, else detected',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  season_length?: number;

  @ApiPropertyOptional({ enum: FREQUENCIES })
  @IsOptional()
  @IsIn(FREQUENCIES)
  frequency?: Frequency;

  @ApiPropertyOptional({ type: [Number], default: DEFAULT_QUANTILES, description: 'Levels strictly between 0 and 1' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(0)
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  @Min(0.001, { each: true })
  @Max(0.999, { each: true })
  quantiles?: number[];
}

export class ForecastBatchItemDto extends ForecastRequestDto {
  @ApiPropertyOptional({ description: 'Echoed in the result', oneOf: [{ type: 'string' }, { type: 'number' }] })
  @IsOptional()
  @ValidateBy({
    name: 'isItemId',
    validator: {
      validate: (v: unknown) =>
        (typeof v === 'string' && v.length <= 200) || (typeof v === 'number' && Number.isFinite(v)),
      defaultMessage: () => 'id must be a string (at most 200 characters) or a number',
    },
  })
  id?: string | number;
}

export class ForecastBatchRequestDto {
  @ApiProperty({
    type: [ForecastBatchItemDto],
    description: 'Forecast requests, answered in order; a bad item gets its own error and does not fail the others.',
  })
  @IsArray()
  @ArrayMinSize(1)
  items!: unknown[];
}

/** How a forecast was made: what every answer of a forecast says besides the numbers. */
export class ForecastNotesDto {
  @ApiProperty({ description: 'Seasonal period used, and where it came from' })
  season_length!: number;

  @ApiPropertyOptional({ description: 'Missing values that were imputed' })
  imputed?: number;

  @ApiPropertyOptional({ description: 'True when the remote worker could not answer and a local engine did' })
  fallback?: boolean;

  @ApiPropertyOptional({
    description: 'Engines that could not serve this series (too short, ...) before the one that did',
  })
  skipped?: { engine: string; reason: string }[];
}

export class ForecastResponseDto extends ForecastNotesDto {
  @ApiProperty({ description: 'The engine that produced the predictions', example: 'cross_validated' })
  engine!: string;

  @ApiProperty({ example: 3 })
  horizon!: number;

  @ApiProperty({ type: [Number], description: 'Point forecasts for the next `horizon` steps' })
  predictions!: number[];

  @ApiProperty({ description: 'The last value of the series (after imputation)', example: 1.1 })
  lastValue!: number;

  @ApiProperty({ description: 'The fitted model, e.g. ETS(A,Ad,N)', example: 'ETS(A,Ad,N)' })
  model!: string;

  @ApiPropertyOptional({
    description: 'Requested quantile levels → forecasts',
    example: { '0.1': [0.86, 0.84, 0.83], '0.9': [1.2, 1.22, 1.25] },
  })
  quantiles?: Record<string, number[]>;

  @ApiPropertyOptional({ description: 'Echoed from the request' })
  metric?: string;
}
