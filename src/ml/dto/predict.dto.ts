import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
  ValidateBy,
} from 'class-validator';
import { DIRECTIONS, NAME_PATTERN } from '../registry/registry.types';

export const MAX_FEATURES = 4096;

export class PredictRequestDto {
  @ApiProperty({ description: 'Instrument the features describe; also the sticky A/B routing key', example: 'DAX' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  symbol!: string;

  @ApiProperty({
    type: [Number],
    description: 'One feature vector, in the order of the model input signature (12 for trading-signal)',
    example: [0.001, -0.002, 0.0005, 0.003, -0.001, 0.002, 0.01, 0.001, 0.004, 0.008, 0.009, 0.55],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_FEATURES)
  @IsNumber(
    { allowNaN: false, allowInfinity: false },
    { each: true, message: 'features must hold finite numbers only' },
  )
  features!: number[];

  @ApiPropertyOptional({
    description: '`latest` (default: the A/B split, else production) or a version id',
    example: 'latest',
  })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: 'model_version must be "latest" or a version id' })
  model_version?: string;

  @ApiPropertyOptional({ description: 'Registered model name (default ML_DEFAULT_MODEL)', example: 'trading-signal' })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: 'model must be a model name' })
  model?: string;
}

export class PredictionDto {
  @ApiProperty({ enum: DIRECTIONS, example: 'BUY' })
  direction!: string;

  @ApiProperty({ description: 'Probability of the predicted direction', example: 0.41 })
  confidence!: number;

  @ApiProperty({ description: 'Expected next-period simple return (0.001 = +0.1 %)', nullable: true, example: 0.0012 })
  expected_return!: number | null;
}

export class PredictResponseDto {
  @ApiProperty({ example: 'DAX' })
  symbol!: string;

  @ApiProperty({ type: PredictionDto })
  prediction!: PredictionDto;

  @ApiProperty({ example: 'trading-signal' })
  model_name!: string;

  @ApiProperty({ description: 'The version that answered', example: '20261123-3d831ebe' })
  model_version!: string;

  @ApiProperty({ description: 'Time spent in the service, in ms', example: 0.8 })
  latency_ms!: number;

  @ApiProperty({ description: 'Id to send outcomes to POST /api/ml/feedback', format: 'uuid' })
  prediction_id!: string;

  @ApiProperty({ enum: ['local', 'remote'], description: 'Where the model ran' })
  served_by!: 'local' | 'remote';

  @ApiPropertyOptional({ description: 'True when a remote worker could not answer and the local fallback did' })
  fallback?: boolean;

  @ApiPropertyOptional({ description: 'The remotely served version the router chose, when the fallback answered' })
  fallback_from?: string;
}

export class PredictBatchRequestDto {
  @ApiProperty({
    type: [PredictRequestDto],
    description: 'Prediction requests, answered in order; a bad item gets its own error and does not fail the others',
  })
  @IsArray()
  @ArrayMinSize(1)
  items!: unknown[];
}

export class PredictBatchItemErrorDto {
  @ApiProperty({ example: 'validation_failed' })
  error!: string;

  @ApiProperty({ example: 'features must hold 12 values (got 3)' })
  message!: string;
}

export class PredictBatchResponseDto {
  @ApiProperty({
    description: 'One entry per item, in order: a prediction, or `{error, message}`',
    type: 'array',
    items: {
      oneOf: [
        { $ref: '#/components/schemas/PredictResponseDto' },
        { $ref: '#/components/schemas/PredictBatchItemErrorDto' },
      ],
    },
  })
  results!: (PredictResponseDto | PredictBatchItemErrorDto)[];
}

export class FeedbackRequestDto {
  @ApiProperty({ format: 'uuid', description: 'The prediction_id of a prediction' })
  @IsUUID()
  prediction_id!: string;

  @ApiProperty({
    description:
      'What happened: the realised direction (SELL, HOLD, BUY) or the realised simple return as a number ' +
      "(classified with the model's label threshold)",
    oneOf: [{ type: 'string', enum: [...DIRECTIONS] }, { type: 'number' }],
    example: 0.0071,
  })
  @ValidateBy({
    name: 'isOutcome',
    validator: {
      validate: (v: unknown) =>
        (typeof v === 'string' && (DIRECTIONS as readonly string[]).includes(v)) ||
        (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) < 1e6),
      defaultMessage: () => 'outcome must be SELL, HOLD, BUY or a finite number (the realised return)',
    },
  })
  outcome!: string | number;
}

export class FeedbackResponseDto {
  @ApiProperty({ format: 'uuid' })
  prediction_id!: string;

  @ApiProperty({ example: 'trading-signal' })
  model_name!: string;

  @ApiProperty()
  model_version!: string;

  @ApiProperty({ description: 'The A/B arm the prediction was routed to' })
  arm!: string;

  @ApiProperty({ enum: DIRECTIONS })
  predicted!: string;

  @ApiProperty({ enum: DIRECTIONS })
  outcome!: string;

  @ApiProperty({ nullable: true, description: 'The realised return, when given' })
  outcome_return!: number | null;

  @ApiProperty({ description: 'Whether the predicted direction was the realised one' })
  hit!: boolean;

  @ApiProperty({ nullable: true, description: '|expected_return - realised return|, when both are known' })
  abs_error!: number | null;
}

/** The ML Model Server's health answer. */
export class MlHealthDto {
  @ApiProperty({
    enum: ['healthy', 'degraded', 'starting'],
    description: 'healthy: every served model is loaded; starting: not yet; degraded: one cannot be served',
  })
  status!: 'healthy' | 'degraded' | 'starting';

  @ApiProperty({ description: 'Model versions loaded in the inference workers' })
  models_loaded!: number;

  @ApiProperty({ description: 'Seconds since the model server started' })
  uptime_seconds!: number;
}
