import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { NestedDto } from '../../common/http/nested-dto';
import { DIRECTIONS, NAME_PATTERN, type Stage, STAGES } from '../registry/registry.types';

const DTYPES = ['float32', 'float64'] as const;

export class InputSignatureDto {
  @ApiProperty({ description: 'Input tensor name in the ONNX graph', example: 'features' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({ enum: DTYPES, example: 'float32' })
  @IsIn(DTYPES)
  dtype!: 'float32' | 'float64';

  @ApiProperty({ type: [Number], description: '-1 for a dynamic dimension; [-1, F] for F features', example: [-1, 12] })
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(2)
  @IsInt({ each: true })
  @Min(-1, { each: true })
  @Max(65_536, { each: true })
  shape!: number[];

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(65_536)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  feature_names?: string[];
}

export class OutputMappingDto {
  @ApiProperty({ description: 'Output with one probability per class, [batch, classes]', example: 'probabilities' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  probabilities!: string;

  @ApiProperty({
    type: [String],
    description: 'Direction of each probability column',
    example: ['SELL', 'HOLD', 'BUY'],
  })
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(3)
  @ArrayUnique()
  @IsIn(DIRECTIONS, { each: true })
  labels!: string[];

  @ApiPropertyOptional({ description: 'Output with the expected return, [batch, 1]', example: 'expected_return' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  expected_return?: string;

  @ApiPropertyOptional({
    description: 'A realised return beyond ±threshold counts as BUY/SELL in feedback',
    example: 0.004,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  threshold?: number;
}

export class CreateModelDto {
  @ApiProperty({ example: 'trading-signal-v2' })
  @IsString()
  @Matches(NAME_PATTERN, {
    message: 'name must start with a letter or digit and hold only letters, digits, ".", "_" or "-"',
  })
  name!: string;

  @ApiProperty({ example: 'classification: next-day direction' })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  task!: string;

  @ApiProperty({ type: InputSignatureDto })
  @NestedDto(() => InputSignatureDto)
  input_signature!: InputSignatureDto;

  @ApiProperty({ type: OutputMappingDto })
  @NestedDto(() => OutputMappingDto)
  output_mapping!: OutputMappingDto;
}

/** The text fields of a version upload (multipart/form-data, next to the `file` part). */
export class UploadVersionDto {
  @ApiPropertyOptional({
    description: 'Version id (default: date and the first 8 hex digits of the sha256)',
    example: '2026-11-v2',
  })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, {
    message: 'version must start with a letter or digit and hold only letters, digits, ".", "_" or "-"',
  })
  version?: string;

  @ApiPropertyOptional({ enum: STAGES, default: 'none' })
  @IsOptional()
  @IsIn(STAGES)
  stage?: Stage;

  @ApiPropertyOptional({ description: 'Metrics of the version, a JSON object', example: '{"accuracy": 0.36}' })
  @IsOptional()
  @IsString()
  @MaxLength(100_000)
  metrics?: string;

  @ApiPropertyOptional({ example: 'retrained on 2026 data' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;
}

export class UploadVersionBodyDto extends UploadVersionDto {
  @ApiProperty({ type: 'string', format: 'binary', description: 'The .onnx file' })
  file!: unknown;
}

export class SetStageDto {
  @ApiProperty({ enum: STAGES })
  @IsIn(STAGES)
  stage!: Stage;

  @ApiPropertyOptional({
    description: 'When promoting: archive the previous production version instead of moving it to `none`',
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  archive_previous?: boolean;
}

export class SplitArmDto {
  @ApiProperty({ example: '20261123-3d831ebe' })
  @IsString()
  @Matches(NAME_PATTERN)
  version!: string;

  @ApiProperty({ description: 'Relative share of traffic (positive integer)', example: 50 })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  weight!: number;
}

export class SetSplitDto {
  @ApiProperty({ type: [SplitArmDto], description: 'Versions and their weights, e.g. 90/10' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(16)
  @NestedDto(() => SplitArmDto, { each: true })
  arms!: SplitArmDto[];
}

export class RemoteStateDto {
  @ApiProperty({ enum: ['v2', 'predict'] })
  protocol!: string;

  @ApiProperty()
  url!: string;

  @ApiProperty({ enum: ['closed', 'half_open', 'open'] })
  breaker!: string;

  @ApiPropertyOptional({ description: 'The local version that serves when the worker cannot' })
  fallback_version?: string;
}

export class ModelVersionDto {
  @ApiProperty()
  version!: string;

  @ApiProperty({ enum: STAGES })
  stage!: string;

  @ApiProperty()
  sha256!: string;

  @ApiProperty()
  size_bytes!: number;

  @ApiProperty({ description: 'Artifact path inside MODEL_STORE_DIR' })
  artifact!: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  metrics!: Record<string, unknown>;

  @ApiProperty({ nullable: true })
  description!: string | null;

  @ApiProperty()
  created_at!: Date;

  @ApiProperty()
  stage_changed_at!: Date;

  @ApiProperty({ description: 'Loaded in the inference workers of this instance' })
  loaded!: boolean;

  @ApiPropertyOptional({ description: 'Why a version that should be loaded is not' })
  load_error?: string;

  @ApiPropertyOptional({ type: RemoteStateDto, description: 'Set when a remote worker serves this version' })
  remote?: RemoteStateDto;
}

export class SplitStateDto {
  @ApiProperty()
  version!: string;

  @ApiProperty()
  weight!: number;

  @ApiProperty({ description: 'weight / sum of weights' })
  share!: number;
}

export class ModelDto {
  @ApiProperty()
  name!: string;

  @ApiProperty()
  task!: string;

  @ApiProperty({ type: InputSignatureDto })
  input_signature!: InputSignatureDto;

  @ApiProperty({ type: OutputMappingDto })
  output_mapping!: OutputMappingDto;

  @ApiProperty({ nullable: true, description: 'The production version' })
  production_version!: string | null;

  @ApiProperty({ type: [SplitStateDto], nullable: true, description: 'The A/B split, null when there is none' })
  split!: SplitStateDto[] | null;

  @ApiProperty({ type: [ModelVersionDto] })
  versions!: ModelVersionDto[];

  @ApiProperty()
  created_at!: Date;
}

export class ModelListDto {
  @ApiProperty({ type: [ModelDto] })
  models!: ModelDto[];
}

export class ReloadResultDto {
  @ApiProperty()
  model!: string;

  @ApiProperty({ description: 'Versions loaded afresh and swapped in' })
  reloaded!: { version: string; load_ms: number }[];
}

export class AbArmStatsDto {
  @ApiProperty({ description: 'The version (arm) requests were routed to' })
  version!: string;

  @ApiPropertyOptional({ description: 'Weight of the arm in the current split' })
  weight?: number;

  @ApiProperty()
  predictions!: number;

  @ApiProperty({ description: 'Share of the recorded predictions' })
  share!: number;

  @ApiProperty({ description: 'Latency in ms: mean, p50, p95' })
  latency_ms!: { mean: number; p50: number; p95: number };

  @ApiProperty({ description: 'Predictions answered by a local fallback' })
  fallbacks!: number;

  @ApiProperty({ description: 'Outcomes recorded: count, hits, hit rate, mean absolute error of the expected return' })
  feedback!: { count: number; hits: number; hit_rate: number | null; mean_abs_error: number | null };
}

export class AbStatsDto {
  @ApiProperty()
  model!: string;

  @ApiProperty({ nullable: true })
  production_version!: string | null;

  @ApiProperty({ type: [SplitStateDto], nullable: true })
  split!: SplitStateDto[] | null;

  @ApiProperty({ nullable: true, description: 'Start of the window (the `since` query), null for all time' })
  since!: string | null;

  @ApiProperty({ type: [AbArmStatsDto] })
  arms!: AbArmStatsDto[];
}
