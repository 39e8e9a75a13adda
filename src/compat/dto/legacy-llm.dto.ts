import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
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
} from 'class-validator';
import { NestedDto } from '../../common/http/nested-dto';
import { STRATEGIES } from '../../routing/routing.api';
import { OptionalIntIn, OptionalNumberIn } from '../../llm/dto/number-field';

const STRATEGY_VALUES = [...STRATEGIES];

/** What POST /api/v1/image/analyze asks about an image sent without a prompt. */
export const DEFAULT_IMAGE_PROMPT = 'Describe this image in detail.';
/** The modalities POST /api/v1/estimate takes: OneFlow.AI's (`text`, `image`, `audio`) and the catalog's. */
export const ESTIMATE_MODALITIES = ['text', 'chat', 'embeddings', 'vision', 'image', 'audio'] as const;
export type EstimateModality = (typeof ESTIMATE_MODALITIES)[number];

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

  @ApiPropertyOptional({ enum: STRATEGY_VALUES, default: 'balanced' })
  @IsOptional()
  @IsIn(STRATEGY_VALUES)
  strategy?: string;

  @ApiPropertyOptional({
    enum: ESTIMATE_MODALITIES,
    default: 'chat',
    description:
      '`text` and `chat` price the chat models; `image` and `audio` answer 400 while the catalog has no model serving them',
  })
  @IsOptional()
  @IsIn(ESTIMATE_MODALITIES)
  modality?: EstimateModality;
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

  @OptionalIntIn(1, 1_000_000)
  max_tokens?: number;
}

export class TextGenerateDto {
  @ApiProperty({ description: 'At most LEGACY_PROMPT_MAX_CHARS characters (default 2000)' })
  @IsString()
  @MinLength(1)
  prompt!: string;

  @OptionalIntIn(1, 1_000_000)
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
  @NestedDto(() => HistoryMessageDto, { each: true })
  history?: HistoryMessageDto[];

  @OptionalIntIn(1, 1_000_000)
  max_tokens?: number;
}

/** A number sent as multipart text (`"0.5"`) becomes a number; anything else is left for the validators. */
function NumberFromText(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value,
  );
}

/**
 * The text fields of POST /api/v1/image/analyze: multipart fields beside the `file` part, or the members
 * of a JSON body carrying the image itself in `image`.
 */
export class ImageAnalyzeDto {
  @ApiPropertyOptional({
    description: 'JSON body only: the image as a data URL (`data:image/png;base64,…`) or bare base64',
  })
  @IsOptional()
  @IsString()
  image?: string;

  @ApiPropertyOptional({
    description: `At most LEGACY_PROMPT_MAX_CHARS characters (default 2000); absent or empty: "${DEFAULT_IMAGE_PROMPT}"`,
  })
  @IsOptional()
  @IsString()
  prompt?: string;

  @NumberFromText()
  @OptionalIntIn(1, 1_000_000)
  max_tokens?: number;

  @NumberFromText()
  @OptionalNumberIn(0, 2)
  temperature?: number;

  @ApiPropertyOptional({ description: 'A vision-capable model or alias; default `auto`' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model?: string;
}
