import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { STRATEGIES } from '../../routing/routing.api';
import { OptionalNumberIn } from '../../llm/dto/number-field';

const STRATEGY_VALUES = [...STRATEGIES];

export class EstimateRequestDto {
  @ApiPropertyOptional({ minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  input_tokens?: number;

  @ApiPropertyOptional({ minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  output_tokens?: number;

  @ApiPropertyOptional({ description: 'Counted with the tokenizer when input_tokens is absent' })
  @IsOptional()
  @IsString()
  @MaxLength(1_000_000)
  prompt?: string;

  @ApiPropertyOptional({ description: 'Pin a model or alias; default `auto`' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model?: string;

  @ApiProperty({ enum: STRATEGY_VALUES })
  @IsIn(STRATEGY_VALUES)
  strategy!: string;

  @ApiPropertyOptional({ enum: ['chat', 'embeddings', 'vision'], default: 'chat' })
  @IsOptional()
  @IsIn(['chat', 'embeddings', 'vision'])
  modality?: 'chat' | 'embeddings' | 'vision';
}

export class RouteRequestDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1_000_000)
  prompt!: string;

  @ApiProperty({ enum: STRATEGY_VALUES })
  @IsIn(STRATEGY_VALUES)
  strategy!: string;

  @ApiPropertyOptional({ minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_tokens?: number;
}

export class TextGenerateDto {
  @ApiProperty({ description: 'At most LEGACY_PROMPT_MAX_CHARS characters (default 2000)' })
  @IsString()
  @MinLength(1)
  prompt!: string;

  @ApiPropertyOptional({ minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_tokens?: number;

  @OptionalNumberIn(0, 2)
  temperature?: number;
}

export class HistoryMessageDto {
  @ApiProperty({ enum: ['user', 'assistant', 'system'] })
  @IsIn(['user', 'assistant', 'system'])
  role!: 'user' | 'assistant' | 'system';

  @ApiProperty()
  @IsString()
  @MaxLength(1_000_000)
  content!: string;
}

export class LegacyChatDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1_000_000)
  message!: string;

  @ApiPropertyOptional({ description: 'A model or alias; default `auto`' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model?: string;

  @ApiPropertyOptional({ type: [HistoryMessageDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => HistoryMessageDto)
  history?: HistoryMessageDto[];

  @ApiPropertyOptional({ minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_tokens?: number;
}
